"""Atomic file writes: write to a temporary file in the target directory, fsync, then rename over the target.

An interrupted writer therefore leaves either the old file or the new one, never a half-written file. New files get
the mode ``0o666`` minus the process umask, like ``open(path, "w")`` (a temporary file alone would be ``0o600``).
Also the matching readers: ``.npz`` files (never with pickle; any corrupt file is one clear error naming it), JSON
objects (:func:`read_json_object`, the one JSON reader; :func:`read_json_or_none` for optional
records), and file content hashes.
"""
from __future__ import annotations

import errno
import functools
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from kitti.errors import KittiFormatError, OutputDirError


@functools.lru_cache(maxsize=1)
def _umask() -> int:
    """The process umask (read once: reading it means setting it, so it is not done on every write)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def ensure_dir(path: str | Path) -> Path:
    """Create directory ``path`` (and its parents) if needed; a regular file or an unwritable location in the way
    is an :class:`OutputDirError` naming it."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputDirError(path, "is not a directory (a regular file is in the way)") from None
    except PermissionError:
        raise OutputDirError(path, "cannot be created (permission denied)") from None
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (creating parent directories), with mode ``0o666 & ~umask``. A
    ``path`` that is a directory, or a directory that cannot be written, is an :class:`OutputDirError`."""
    path = Path(path)
    if path.is_dir():
        raise OutputDirError(path, "is a directory, expected a file to write")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except FileExistsError:
        raise OutputDirError(path.parent, "is not a directory, cannot write files into it") from None
    except NotADirectoryError:
        raise OutputDirError(path.parent, "lies under a regular file, cannot write files into it") from None
    except PermissionError:
        raise OutputDirError(path.parent, "is not writable (permission denied)") from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
            raise OutputDirError(path, f"cannot be written ({os.strerror(exc.errno)})") from None
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save_npz(path: str | Path, compressed: bool = True, **arrays: Any) -> str:
    """Save named numpy arrays as an ``.npz`` atomically (no object arrays: they would need pickle to load).
    Returns the sha256 of the written file (for manifests that let a reader detect later corruption)."""
    buffer = io.BytesIO()
    for name, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise TypeError(f"atomic_save_npz: array {name!r} has dtype object, which cannot be loaded without pickle")
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def read_npz(path: str | Path, what: str, not_found: str = "") -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` (``allow_pickle=False``). A missing or unreadable file is a
    :class:`KittiFormatError` naming it; ``what`` says what the file should be, ``not_found`` how to make it."""
    path = Path(path)
    if not path.exists():
        raise KittiFormatError(path, f"{what} not found{f' ({not_found})' if not_found else ''}")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except Exception as exc:  # noqa: BLE001 - a corrupt file fails in zipfile, zlib, numpy's header parser, ...
        raise KittiFormatError(path, f"not a readable {what} .npz of plain arrays, corrupt or truncated "
                                     f"({type(exc).__name__}: {exc}); rebuild it") from None


def file_digest(path: str | Path) -> str:
    """sha256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


#: deepest nesting of arrays / objects a JSON record of this project may have (ours are at most ~6 deep)
JSON_MAX_DEPTH = 32


def json_depth_ok(value: Any, limit: int) -> bool:
    """True when ``value`` nests arrays / objects at most ``limit`` deep (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return False
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return True


def parse_json_object(data: bytes | str, path: str | Path, what: str, line: int | None = None) -> dict[str, Any]:
    """The JSON object in ``data`` (UTF-8 bytes or text) read from ``path``; anything else (invalid UTF-8 or JSON,
    another top-level type, nesting deeper than :data:`JSON_MAX_DEPTH`) is a :class:`KittiFormatError` naming the
    file (and ``line``) and saying that ``what`` was expected."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text)
    except UnicodeDecodeError:
        raise KittiFormatError(path, f"not UTF-8 text (expected {what}, a JSON object)", line) from None
    except RecursionError:
        raise KittiFormatError(path, f"nested too deeply (expected {what}, a JSON object)", line) from None
    except ValueError as exc:  # JSONDecodeError
        raise KittiFormatError(path, f"not valid JSON ({str(exc)[:120]}; expected {what})", line) from None
    if not isinstance(value, dict):
        raise KittiFormatError(path, f"expected {what} (a JSON object), got a JSON {type(value).__name__}", line)
    if not json_depth_ok(value, JSON_MAX_DEPTH):
        raise KittiFormatError(path, f"nested more than {JSON_MAX_DEPTH} levels deep (expected {what})", line)
    return value


def read_json_object(path: str | Path, what: str, not_found: str = "") -> dict[str, Any]:
    """The one JSON reader of the project: the JSON object in file ``path`` (UTF-8, nesting bounded); a missing,
    unreadable or malformed file is a :class:`KittiFormatError` naming it (``what`` = what it should be,
    ``not_found`` = how to make it)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KittiFormatError(path, f"{what} not found{f' ({not_found})' if not_found else ''}") from None
    except IsADirectoryError:
        raise KittiFormatError(path, f"is a directory, expected {what} (a JSON file)") from None
    except OSError as exc:  # a symlink loop, permissions, ...
        raise KittiFormatError(path, f"cannot be read ({exc.strerror or exc}; expected {what})") from None
    return parse_json_object(data, path, what)


def read_json_or_none(path: str | Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or None when the file is missing or is not a UTF-8 JSON object (optional
    records such as manifests and metrics: absence means "not done yet", an unreadable manifest an unknown state
    whose owner is rebuilt). Same checks as :func:`read_json_object`."""
    try:
        return read_json_object(path, "a record")
    except KittiFormatError:
        return None
