"""Atomic file writes: write to a temporary file in the target directory, fsync, then rename over the target.

An interrupted writer therefore leaves either the old file or the new one, never a half-written file.
"""
from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (creating parent directories)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save_npz(path: str | Path, compressed: bool = True, **arrays: Any) -> None:
    """Save named numpy arrays as an ``.npz`` atomically (no object arrays: they would need pickle to load)."""
    buffer = io.BytesIO()
    for name, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise TypeError(f"atomic_save_npz: array {name!r} has dtype object, which cannot be loaded without pickle")
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())
