"""Shared fixtures. The 14 real KITTI frames live outside the repository, in ../shared/kitti_real (CC BY-NC-SA 3.0)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# One compute thread per process (torch, OpenMP), inherited by the commands the tests start: the suite runs several
# processes at once (frame workers, the pipeline's val and pseudo-label commands) on 2 cores, where two threads each
# oversubscribe the cores (a tiny training epoch took 4.5x longer with 2 threads on a busy 2-core machine).
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def _compute_threads() -> None:
    """Keep torch in this process at ``OMP_NUM_THREADS`` threads: numba's parallel loops (the synthetic world) reset
    the OpenMP thread count that torch reads, and a later in-process training then ran 40x slower."""
    torch = sys.modules.get("torch")
    threads = os.environ["OMP_NUM_THREADS"]
    if torch is not None and threads.isdigit() and torch.get_num_threads() != int(threads):
        torch.set_num_threads(int(threads))


def _kitti_real_root() -> Path:
    return Path(os.environ.get("ALPI_KITTI_REAL", REPO_ROOT.parent / "shared" / "kitti_real"))


@pytest.fixture(scope="session")
def kitti_real_root() -> Path:
    """Root of the real KITTI sample (``<root>/training/...``); skips the test when it is not there."""
    root = _kitti_real_root()
    if not (root / "training" / "calib").is_dir():
        pytest.skip(f"real KITTI frames not found at {root} (set ALPI_KITTI_REAL)")
    return root
