"""Shared fixtures. The 14 real KITTI frames live outside the repository, in ../shared/kitti_real (CC BY-NC-SA 3.0)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _kitti_real_root() -> Path:
    return Path(os.environ.get("ALPI_KITTI_REAL", REPO_ROOT.parent / "shared" / "kitti_real"))


@pytest.fixture(scope="session")
def kitti_real_root() -> Path:
    """Root of the real KITTI sample (``<root>/training/...``); skips the test when it is not there."""
    root = _kitti_real_root()
    if not (root / "training" / "calib").is_dir():
        pytest.skip(f"real KITTI frames not found at {root} (set ALPI_KITTI_REAL)")
    return root
