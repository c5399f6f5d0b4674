"""Fixtures of the detector tests: one tiny synthetic world and its frustum sets per session, cached under pytest's
base temp directory so every module reuses the same files."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.train.fixtures import REPO


def _run(args: list[str]) -> None:
    subprocess.run([sys.executable, *args], check=True, cwd=REPO, capture_output=True)


@pytest.fixture(scope="session")
def train_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``<root>/data`` (4 synthetic frames, 2 train / 2 val), ``<root>/weak`` and ``<root>/full`` frustum sets
    (``frustums_train.npz`` with 1 copy per object, ``frustums_val.npz``)."""
    root = tmp_path_factory.getbasetemp() / "train_world"
    if (root / "full" / "frustums_val.manifest.json").is_file():
        return root
    _run(["-m", "kitti.synthetic", "--out", str(root / "data"), "--frames", "4", "--seed", "17", "--workers", "2"])
    for supervision in ("weak", "full"):
        _run(["-m", "kitti.frustum_extractor", "--data", str(root / "data"), "--output", str(root / supervision),
              "--supervision", supervision, "--set", "train", "--set", "val", "--copies", "1", "--workers", "2"])
    return root
