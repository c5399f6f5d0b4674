"""Tiny synthetic KITTI worlds for the tests (the project's own generator, run as the user would)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def synthetic_world(root: Path, frames: int, seed: int, workers: int = 1) -> Path:
    """``python -m kitti.synthetic --out root --frames N --seed S``; returns ``root``."""
    subprocess.run([sys.executable, "-m", "kitti.synthetic", "--out", str(root), "--frames", str(frames), "--seed",
                    str(seed), "--workers", str(workers)], check=True, cwd=REPO, capture_output=True)
    return root
