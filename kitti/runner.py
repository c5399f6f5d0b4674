"""What the data-side builders share: running a job over frames, their resume test, and content digests.

:func:`run_frames` is the frame runner of the frustum sets, the instance library, the refinement sets and the
geometric labeller; :func:`same_inputs` is their resume test (a manifest recording the same inputs).
:func:`hash_files` / :func:`hash_dir` are the one content digest of file sets (label folders, split files, configs,
the geometric labeller's source), used by the frustum sets' manifests, the geometric labeller's manifest and the
pipeline's stage fingerprints (:mod:`train.pipeline.manifest`); single files use :func:`kitti.atomic.file_digest`.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar

from tqdm import tqdm

from kitti.atomic import file_digest

__all__ = ["file_digest", "hash_dir", "hash_files", "run_frames", "same_inputs"]

T = TypeVar("T")


def run_frames(fn: Callable[[Any, int], T], cfg: Any, frames: Sequence[int], workers: int, desc: str) -> list[T]:
    """``[fn(cfg, f) for f in frames]`` over ``workers`` spawn processes (in order) with a tqdm bar. The first
    input error of any frame is re-raised in the caller (input errors are picklable)."""
    job = partial(fn, cfg)
    if workers <= 1 or len(frames) <= 1:
        results = [job(frame) for frame in tqdm(frames, desc=desc, disable=None)]
    else:
        with mp.get_context("spawn").Pool(min(workers, len(frames))) as pool:
            chunk = max(1, min(8, len(frames) // (4 * workers)))
            results = list(tqdm(pool.imap(job, frames, chunksize=chunk), total=len(frames), desc=desc,
                                disable=None))
    return results


def same_inputs(manifest: Mapping[str, Any] | None, inputs: Mapping[str, Any]) -> bool:
    """``manifest`` (parsed; None when missing or unreadable) records ``inputs``, compared JSON-normalised (as they
    were written): the work it describes need not be redone."""
    return manifest is not None and manifest.get("inputs") == json.loads(json.dumps(inputs))


def hash_files(paths: Iterable[Path], root: Path | None = None) -> str:
    """sha256 over the (relative name, content) of ``paths`` in sorted order; missing files hash as absent."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        name = str(path.relative_to(root)) if root is not None else path.name
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
        digest.update(b"\0")
    return digest.hexdigest()


def hash_dir(directory: str | Path, pattern: str = "*") -> str:
    """Content hash of the files matching ``pattern`` in ``directory`` (for example a folder of label files)."""
    directory = Path(directory)
    return hash_files((p for p in directory.glob(pattern) if p.is_file()), root=directory)
