"""Build a run's review page: ``<run>/review/index.html`` with its static assets (``review.js``, ``review.css``),
the frame index (``index_data.js``: per frame the fields the list filters and sorts on), one asset set per frame
(:mod:`kitti.review.export`, loaded on demand by the page) and ``manifest.json`` (what :mod:`kitti.review.apply`
checks decisions against: every frame, its box count and the label file's SHA-256).
"""
from __future__ import annotations

import functools
import hashlib
import json
import time
from multiprocessing import Pool
from pathlib import Path
from typing import Any

from tqdm import tqdm

from kitti.atomic import atomic_write_bytes, atomic_write_text, read_json_or_none
from kitti.errors import KittiFormatError, OutputDirError
from kitti.io.dataset import KittiDataset
from kitti.io.labels import read_labels
from kitti.outputs import check_link_free, check_output_dir, frame_id, refuse_foreign
from kitti.review import export, metrics

ASSETS = Path(__file__).resolve().parent / "assets"
STATIC = ("index.html", "review.js", "review.css")
#: the pipeline's final label folder under a run (train.pipeline.layout.FINAL_LABELS_DIR; kitti does not import train)
FINAL_LABELS_DIR = "label_2_pseudo"
MANIFEST = "manifest.json"


def label_digest(path: Path) -> tuple[str | None, int]:
    """SHA-256 and number of boxes (non-blank lines) of a label file; ``(None, 0)`` when there is none."""
    if not path.is_file():
        return None, 0
    raw = path.read_bytes()
    return hashlib.sha256(raw).hexdigest(), sum(1 for line in raw.decode("utf-8", "replace").splitlines()
                                                 if line.strip())


def review_frames(dataset: KittiDataset, labels: Path, split: str | None) -> list[int]:
    """The split's frames, or every frame with a label file. Checked before any work starts: each frame must have
    calibration and image files, and its label file (if any) must parse."""
    if split is not None:
        frames = dataset.frame_ids(split)
    else:
        frames = sorted(f for f in (frame_id(p.stem) for p in labels.glob("*.txt")) if f is not None)
    for frame in frames:
        for kind in ("calib", "image_2"):
            if not dataset.path(kind, frame).is_file():
                raise KittiFormatError(dataset.path(kind, frame), f"frame {frame:06d} has no {kind} file")
        if (labels / f"{frame:06d}.txt").is_file():
            read_labels(labels / f"{frame:06d}.txt")
    return frames


def _default_data(run: Path) -> Path:
    """The data set a pipeline run recorded in ``summary.json``, else the pipeline's default ``data/kitti``."""
    summary = read_json_or_none(run / "summary.json") or {}
    recorded = summary.get("run", {}).get("data") if isinstance(summary.get("run"), dict) else None
    return Path(recorded) if isinstance(recorded, str) and recorded else Path("data/kitti")


def index_script(run: Path, labels: Path, data: Path, split: str | None, review_id: str,
                 entries: list[dict[str, Any]]) -> str:
    """``index_data.js``: ``REVIEW_INDEX`` with the run's description and per frame ``[name, boxes]``, each box
    ``[class index, score, distance, source index, suspicion]`` into ``classes`` / ``sources``, the display name of
    each source (``source_names``: learned boxes are ``alpi`` in the sidecars) and the share of the boxes per source
    (``source_shares``, as the run summary names the final labels). Written as
    ``JSON.parse("...")``, which browsers parse faster than an object literal of the same size."""
    classes = sorted({box[0] for entry in entries for box in entry["boxes"]})
    sources = sorted({box[3] for entry in entries for box in entry["boxes"]})
    frames = [[entry["frame"], [[classes.index(c), score, dist, sources.index(source), suspicion]
                                for c, score, dist, source, suspicion in entry["boxes"]]] for entry in entries]
    counts = {source: sum(box[3] == source for entry in entries for box in entry["boxes"]) for source in sources}
    index = {"review_id": review_id, "run": str(run.resolve()), "labels": str(labels.resolve()),
             "data": str(data.resolve()), "split": split, "built": time.strftime("%Y-%m-%d %H:%M:%S"),
             "bev": {"x": export.BEV_X, "z": export.BEV_Z, "res": export.BEV_RES}, "components": metrics.COMPONENTS,
             "classes": classes, "sources": sources, "frames": frames,
             "source_names": {source: export.SOURCE_NAMES.get(source, source) for source in sources},
             "source_shares": export.source_shares(counts)}
    return f"REVIEW_INDEX = JSON.parse({json.dumps(json.dumps(index, separators=(',', ':')))});\n"


def inputs_key(dataset: KittiDataset, labels: Path, split: str | None, frames: list[int]) -> str:
    """sha256 over what the page shows: the label files and their source sidecars, the data set's label_2 files
    (the GT display) of the reviewed frames, the split and the page assets; a rebuild with the same key is skipped."""
    digest = hashlib.sha256(json.dumps([str(labels.resolve()), str(dataset.root.resolve()), split]).encode())
    for frame in frames:
        for path in (labels / f"{frame:06d}.txt", labels / f"{frame:06d}.source.json",
                     dataset.root / "training" / "label_2" / f"{frame:06d}.txt"):
            digest.update(path.read_bytes() if path.is_file() else b"-")
    for name in STATIC:
        digest.update((ASSETS / name).read_bytes())
    return digest.hexdigest()


def _assets(name: str) -> tuple[str, ...]:
    """The files :func:`kitti.review.export.export_frame` writes for frame ``name`` under ``frames/``."""
    return f"{name}.jpg", f"{name}_bev.png", f"{name}.js"


def _owned_frames(review: Path) -> set[str]:
    """Frames whose assets an earlier build of ``review`` wrote (as its manifest records: finished or planned)."""
    manifest = read_json_or_none(review / MANIFEST) or {}
    recorded = manifest.get("planned", manifest.get("frames", []))
    return {name for name in recorded if frame_id(name) is not None} if isinstance(recorded, (list, dict)) else set()


def _check_review_dir(run: Path, review: Path, data: Path) -> None:
    """The review folder follows :mod:`kitti.outputs`: outside the data set, no symbolic link leading out of it (a
    linked ``frames/`` would let the build delete the user's files), and ``frames/`` holds only assets of frames
    an earlier build recorded."""
    check_link_free(review, run)
    check_output_dir(review, data, "the review page")
    if (review / "frames").is_dir():
        owned = {asset for name in _owned_frames(review) for asset in _assets(name)}
        if not owned and (review / MANIFEST).exists() and any((review / "frames").iterdir()):
            raise OutputDirError(review, f"its {MANIFEST} is unreadable, so which files of frames/ an earlier build "
                                         f"wrote is unknown: nothing is touched; remove {review} and build again")
        refuse_foreign(review / "frames", owned, ("*",), f"{review / MANIFEST}")


def build_review(run: Path, data: Path | None = None, split: str | None = None, labels: Path | None = None,
                 workers: int = 2) -> Path:
    """Write ``<run>/review/`` for the labels in ``labels`` (default ``<run>/label_2_pseudo``); returns the path of
    ``index.html``."""
    run = Path(run)
    labels = Path(labels) if labels is not None else run / FINAL_LABELS_DIR
    if not labels.is_dir():
        raise KittiFormatError(labels, "label folder not found (expected the run's final pseudo-labels)")
    dataset = KittiDataset(data if data is not None else _default_data(run))
    frames = review_frames(dataset, labels, split)
    review = run / "review"
    _check_review_dir(run, review, dataset.root)
    key = inputs_key(dataset, labels, split, frames)
    previous = read_json_or_none(review / MANIFEST)
    if previous is not None and previous.get("inputs_key") == key and (review / "index.html").is_file():
        print(f"review page up to date (same labels, data and page assets): {review / 'index.html'}")
        return review / "index.html"
    inputs = export.FrameInputs(data=dataset.root, labels=labels, review=review)
    names = [f"{frame:06d}" for frame in frames]
    # the frames recorded before any asset is written: a killed build leaves only assets its rerun knows as its own
    owned = _owned_frames(review)
    atomic_write_text(review / MANIFEST, json.dumps({"format": "kitti-review", "status": "building",
                                                     "planned": sorted(owned | set(names))}) + "\n")
    for name in sorted(owned - set(names)):
        for asset in _assets(name):
            (review / "frames" / asset).unlink(missing_ok=True)
    job = functools.partial(export.export_frame, inputs)
    progress = dict(total=len(frames), desc="review frames", unit="frame")
    if workers > 1 and len(frames) > 1:
        with Pool(workers) as pool:
            entries = list(tqdm(pool.imap(job, frames, chunksize=8), **progress))
    else:
        entries = [job(frame) for frame in tqdm(frames, **progress)]
    digests = {f"{frame:06d}": label_digest(labels / f"{frame:06d}.txt") for frame in frames}
    review_id = hashlib.sha256(json.dumps(
        [str(labels.resolve()), sorted(digests.items())]).encode()).hexdigest()[:16]
    manifest = {"format": "kitti-review", "version": 1, "review_id": review_id, "labels": str(labels.resolve()),
                "data": str(dataset.root.resolve()), "split": split, "inputs_key": key,
                "frames": {name: {"sha256": sha, "boxes": count} for name, (sha, count) in digests.items()}}
    atomic_write_text(review / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    atomic_write_text(review / "index_data.js", index_script(run, labels, dataset.root, split, review_id, entries))
    for name in STATIC:
        atomic_write_bytes(review / name, (ASSETS / name).read_bytes())
    return review / "index.html"
