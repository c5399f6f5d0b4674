"""Output folders: the rule every command that writes a folder follows (issue 21).

A command deletes or replaces only files it wrote itself, as recorded in its own manifest in that folder. It refuses
(:class:`~kitti.errors.OutputDirError`, nothing written) an output that is a regular file, an output inside the data
set it reads, an output folder that holds files of the kind it writes that its manifest does not list, and symbolic
links that lead out of the output (a link inside it would let a write or a delete reach the user's files).

A command records the files it is about to write in its manifest *before* writing them, so that a run killed at any
moment leaves only files its rerun recognises as its own.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterable

from kitti.atomic import read_json_object
from kitti.errors import KittiFormatError, OutputDirError

#: a frame id as file names and manifests spell it: ASCII digits only (``str.isdigit`` accepts ``'²'``)
FRAME_NAME = re.compile(r"[0-9]{6,10}")


def frame_id(text: object) -> int | None:
    """The frame id spelled by ``text`` (``"000012"`` -> 12), or None when it is not 6-10 ASCII digits."""
    return int(text) if isinstance(text, str) and FRAME_NAME.fullmatch(text) else None


def is_inside(path: Path, root: Path) -> bool:
    """True when ``path`` is ``root`` or lies under it, both resolved (symlinks followed)."""
    resolved, base = Path(path).resolve(), Path(root).resolve()
    return resolved == base or base in resolved.parents


def find_link(directory: Path, leaving_only: bool = True) -> tuple[Path, str, bool] | None:
    """The first symbolic link in ``directory`` or below (links are not followed): ``(link, target, leaves)``;
    with ``leaving_only``, only a link whose target lies outside ``directory`` (or cannot be resolved). None when
    there is none."""
    root = Path(directory).resolve()
    for dirpath, dirnames, filenames in os.walk(directory):
        for name in (*dirnames, *filenames):
            path = Path(dirpath) / name
            if not path.is_symlink():
                continue
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):  # dangling link or a loop: nothing of ours, refuse it too
                return path, os.readlink(path), True
            leaves = not (target == root or root in target.parents)
            if leaves or not leaving_only:
                return path, str(target), leaves
    return None


def check_outside_data(out: Path, data: Path, what: str = "--output") -> None:
    """Raise :class:`OutputDirError` when the output folder ``out`` lies inside the data set ``data``."""
    if is_inside(out, data):
        raise OutputDirError(out, f"lies inside the data set {data}: {what} would write among the data; use a "
                                  f"directory outside it")


def check_output_dir(out: Path, data: Path | None = None, what: str = "--output", any_link: bool = False) -> None:
    """Raise :class:`OutputDirError` unless ``out`` may be written: new or a directory, not inside the data set
    ``data`` (when given), and holding no symbolic link that leads out of it (with ``any_link``: no link at all,
    for an output whose own folders must never be links)."""
    out = Path(out)
    if out.is_symlink() and not out.exists():
        raise OutputDirError(out, f"is a dangling symbolic link (expected a directory for {what})")
    if out.exists() and not out.is_dir():
        raise OutputDirError(out, f"is not a directory (expected a new or own directory for {what})")
    if data is not None:
        check_outside_data(out, data, what)
    if out.is_dir():
        found = find_link(out, leaving_only=not any_link)
        if found is not None:
            link, target, leaves = found
            where = f"leading out of {out}" if leaves else f"inside {out}"
            raise OutputDirError(link, f"is a symbolic link {where} (to {target}): refusing to write or delete "
                                       f"through it; replace it by a real directory or file")


def check_report_file(path: str | Path, inputs: Iterable[str | Path], what: str = "--json") -> None:
    """Raise :class:`OutputDirError` unless the single-file report ``path`` (a JSON object written atomically) may be
    written: not a directory or a symbolic link, not inside any of the ``inputs`` (the label folders or data sets
    the command reads), and, when it exists, a JSON object file (a report of ours) rather than a label, calibration,
    image or any other file the command did not write."""
    path = Path(path)
    if path.is_symlink():
        raise OutputDirError(path, f"is a symbolic link (to {os.readlink(path)}): refusing to write through it; give "
                                   f"{what} a plain file path")
    if path.is_dir():
        raise OutputDirError(path, f"is a directory (expected a file path for {what})")
    for root in inputs:
        if is_inside(path, Path(root)):
            raise OutputDirError(path, f"lies inside {root}, which this command reads: {what} would write among the "
                                       f"data; use a path outside it")
    if path.exists() and not _is_json_object(path):
        raise OutputDirError(path, f"exists and is not a JSON report (a JSON object): refusing to replace a file this "
                                   f"command did not write; give {what} a new path")


def _is_json_object(path: Path) -> bool:
    """True when ``path`` holds a JSON object (read as UTF-8); False for anything else, unreadable included."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
        return head.lstrip()[:1] == b"{" and isinstance(json.loads(path.read_text(encoding="utf-8")), dict)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False


def check_link_free(path: Path, root: Path) -> None:
    """Raise :class:`OutputDirError` when ``path`` (a folder the command writes under ``root``) is a symbolic link
    (its links inside are :func:`check_output_dir`'s business)."""
    path = Path(path)
    if path.is_symlink():
        raise OutputDirError(path, f"is a symbolic link (to {os.readlink(path)}): refusing to write or delete "
                                   f"through it; expected a real directory under {root}")


def foreign_files(out: Path, owned: Iterable[str], patterns: Iterable[str]) -> list[str]:
    """Names of the entries of ``out`` matching ``patterns`` that are not in ``owned`` (sorted); the temporary
    files of :mod:`kitti.atomic` writes that a killed process left (``.<name>.*.tmp``) are not counted."""
    names = {p.name for pattern in patterns for p in Path(out).glob(pattern)}
    return sorted(name for name in names - set(owned) if not (name.startswith(".") and name.endswith(".tmp")))


def owned_files(manifest: Path, out: Path, pattern: str, what: str,
                name_ok: Callable[[str], bool] = lambda name: "/" not in name,
                unlisted: Callable[[dict[str, Any]], list[str] | None] = lambda record: None) -> set[str]:
    """The file names a previous run recorded as its own in the ``files`` list of ``manifest`` (none without a
    manifest); every name must pass ``name_ok``, and ``unlisted(record)`` gives the names of a manifest written
    before manifests listed files (None: such a record is unreadable). An unreadable manifest beside files matching
    ``pattern`` is an :class:`OutputDirError`: which of them are the command's is unknown, so none may be touched."""
    if not manifest.exists():
        return set()
    try:
        record = read_json_object(manifest, what)
        files = record.get("files")
        if files is None:
            files = unlisted(record)
        if not (isinstance(files, list) and all(isinstance(f, str) and name_ok(f) for f in files)):
            raise KittiFormatError(manifest, "no 'files' list of file names")
    except KittiFormatError as exc:
        if not any(Path(out).glob(pattern)):
            return set()  # nothing to protect: the manifest is simply rewritten
        raise OutputDirError(out, f"its manifest is unreadable ({exc.reason}), so which files this command wrote is "
                                  f"unknown: nothing is touched; remove the folder or use another output") from None
    return set(files)


def refuse_foreign(out: Path, owned: Iterable[str], patterns: Iterable[str], manifest: str) -> None:
    """Raise :class:`OutputDirError` when ``out`` holds entries matching ``patterns`` that its ``manifest`` does not
    list (files this command did not write: it would replace or delete them)."""
    foreign = foreign_files(out, owned, patterns)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise OutputDirError(out, f"holds {len(foreign)} file(s) this command did not write ({shown}; not listed in "
                                  f"its {manifest}): refusing to replace or delete them; use a new or empty directory")
