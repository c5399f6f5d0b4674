"""Helpers of the detector tests: the repository root and a test-sized detector config (the tiny world fixture is in
this folder's ``conftest.py``)."""
from __future__ import annotations

from pathlib import Path

from train.config import Config, load_config

REPO = Path(__file__).resolve().parents[2]

#: a test-sized model: 64 points, 72/36/18/9 slices, a few channels
TINY = ["data.num_samples=64", "data.strides=[1.0, 2.0, 4.0, 8.0]", "data.max_depth=72.0",
        "data.group_sizes=[8, 8, 8, 8]", "model.pointnet=[[8, 8], [8, 8], [16], [16]]", "model.deconv=8",
        "train.batch_size=8", "train.epochs=1", "test.batch_size=16"]


def tiny_config(*extra: str) -> Config:
    return load_config(None, [*TINY, *extra])
