"""Fixtures of the integration tests: one tiny synthetic world per session (shared by the pipeline smoke test and
the bad-input corpus)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6-frame synthetic KITTI root (seed 11; ImageSets train / val / trainval). Read-only for the tests."""
    root = tmp_path_factory.mktemp("pipeline_world")
    subprocess.run([sys.executable, "-m", "kitti.synthetic", "--out", str(root), "--frames", "6", "--seed", "11",
                    "--workers", "2"], check=True, cwd=REPO, capture_output=True)
    return root
