"""Atomic file writes: write to a temporary file in the target directory, fsync, then rename over the target.

An interrupted writer therefore leaves either the old file or the new one, never a half-written file. Also the
matching readers of ``.npz`` files (never with pickle) and of optional JSON files.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from kitti.errors import KittiFormatError


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


def read_npz(path: str | Path, what: str, not_found: str = "") -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` (``allow_pickle=False``). A missing or unreadable file is a
    :class:`KittiFormatError` naming it; ``what`` says what the file should be, ``not_found`` how to make it."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise KittiFormatError(path, f"{what} not found{f' ({not_found})' if not_found else ''}") from None
    except (ValueError, OSError) as exc:
        raise KittiFormatError(path, f"not a readable {what} .npz of plain arrays ({exc})") from None


def read_json_or_none(path: str | Path) -> Any | None:
    """The JSON content of ``path``, or None when the file is missing or not valid JSON (for optional records such
    as manifests and metrics, whose absence means "not done yet")."""
    try:
        return json.loads(Path(path).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
