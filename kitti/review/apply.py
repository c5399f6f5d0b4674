"""Apply reviewer decisions: ``decisions.json`` (exported by the page) -> a KITTI ``label_2`` folder.

Decisions format (version 1)::

    {"format": "kitti-review-decisions", "version": 1, "review_id": "...",
     "frames": {"000012": {"decision": "accept" | "reject" | null, "note": "...",
                           "boxes": {"3": {"decision": "accept" | "reject" | null, "note": "..."}}}}}

Box ids are the indices of the label file's non-blank lines (0-based). A box is kept when it is accepted, or when
it is undecided and its frame is accepted (or ``keep_undecided`` is set); a rejected frame drops every box.
Every frame of the review gets a file (empty when nothing is kept); kept lines are copied verbatim.

Everything is checked before anything is written: an unknown frame or box id, a malformed decision, decisions made
on another review, or a label file changed since the page was built is a :class:`KittiFormatError`. The output
folder follows :mod:`kitti.outputs` (its record of written files: :data:`OUT_MANIFEST`).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kitti.atomic import atomic_write_text, ensure_dir, read_json_object
from kitti.errors import KittiFormatError, OutputDirError
from kitti.outputs import check_output_dir, frame_id, is_inside, refuse_foreign
from kitti.review.build import MANIFEST, label_digest

DECISIONS_FORMAT = "kitti-review-decisions"
VALUES = ("accept", "reject", None)
#: the record of the label files ``apply`` wrote into ``--out`` (the only files a later apply replaces or deletes)
OUT_MANIFEST = "review_apply.json"
#: a box id: the index of a label line (ASCII digits; ``str.isdigit`` accepts ``'²'``)
BOX_ID = re.compile(r"[0-9]{1,6}")
#: most boxes a reviewed label file may have
MAX_BOXES = 100_000


@dataclass(frozen=True)
class ApplyResult:
    frames: int
    boxes: int
    kept: int


def _decision(path: Path, where: str, entry: Any) -> str | None:
    if not isinstance(entry, dict):
        raise KittiFormatError(path, f"{where}: expected an object with 'decision' and 'note'")
    value = entry.get("decision")
    if value not in VALUES:
        raise KittiFormatError(path, f"{where}: decision must be 'accept', 'reject' or null, got {value!r}")
    return value


def read_manifest(run: Path) -> dict[str, Any]:
    """The review manifest of ``run``, checked: every frame name is a frame id (nothing from it can name a path
    outside the output), every box count a non-negative integer."""
    path = run / "review" / MANIFEST
    manifest = read_json_object(path, "the review manifest", "build the page first: python -m kitti.review build "
                                                             "--run RUN")
    frames, labels, review_id = manifest.get("frames"), manifest.get("labels"), manifest.get("review_id")
    if not (isinstance(frames, dict) and isinstance(labels, str) and isinstance(review_id, str)):
        raise KittiFormatError(path, "expected a finished review manifest with 'review_id', 'labels' and 'frames' "
                                     "(rebuild the page: python -m kitti.review build --run RUN)")
    for name, entry in frames.items():
        if frame_id(name) is None:
            raise KittiFormatError(path, f"frame name {name[:40]!r} is not a frame id (6-10 digits); the manifest "
                                         f"was altered, rebuild the page")
        if not (isinstance(entry, dict) and isinstance(entry.get("boxes"), int) and not isinstance(
                entry.get("boxes"), bool) and 0 <= entry["boxes"] <= MAX_BOXES
                and isinstance(entry.get("sha256"), (str, type(None)))):
            raise KittiFormatError(path, f"frame {name}: expected {{'sha256': ..., 'boxes': count}}")
    return manifest


def keep_lists(run: Path, manifest: dict[str, Any], decisions_path: Path,
               keep_undecided: bool = False) -> dict[str, list[int]]:
    """Validated decisions -> per review frame (of the review ``manifest``) the ids of the boxes to keep."""
    decisions = read_json_object(decisions_path, "a decisions file exported by the review page")
    if decisions.get("format") != DECISIONS_FORMAT \
            or not isinstance(decisions.get("frames"), dict):
        raise KittiFormatError(decisions_path, f"expected a '{DECISIONS_FORMAT}' object with a 'frames' object")
    if decisions.get("review_id") not in (None, manifest["review_id"]):
        raise KittiFormatError(decisions_path, f"decisions belong to review {str(decisions['review_id'])[:40]}, this "
                                               f"run's review is {manifest['review_id']} (other labels or frames)")
    labels = Path(manifest["labels"])
    for name, entry in manifest["frames"].items():
        if label_digest(labels / f"{name}.txt") != (entry["sha256"], entry["boxes"] if entry["sha256"] else 0):
            raise KittiFormatError(labels / f"{name}.txt", "label file changed since the review page was built "
                                                           "(rebuild the page and review again)")
    frame_decisions: dict[str, tuple[str | None, dict[int, str | None]]] = {}
    for name, entry in decisions["frames"].items():
        if name not in manifest["frames"]:
            raise KittiFormatError(decisions_path, f"unknown frame {name[:40]!r} (not in the review of {run})")
        frame_value = _decision(decisions_path, f"frame {name}", entry)
        boxes = entry.get("boxes", {})
        if not isinstance(boxes, dict):
            raise KittiFormatError(decisions_path, f"frame {name}: 'boxes' must be an object keyed by box id")
        count = manifest["frames"][name]["boxes"]
        box_values = {}
        for key, box in boxes.items():
            if not (isinstance(key, str) and BOX_ID.fullmatch(key) and int(key) < count):
                raise KittiFormatError(decisions_path, f"frame {name}: unknown box id {key[:20]!r} (the frame has "
                                                       f"{count} boxes, ids 0..{count - 1})")
            box_values[int(key)] = _decision(decisions_path, f"frame {name} box {key}", box)
        frame_decisions[name] = (frame_value, box_values)
    keep: dict[str, list[int]] = {}
    for name, entry in manifest["frames"].items():
        frame_value, box_values = frame_decisions.get(name, (None, {}))
        default = frame_value == "accept" or keep_undecided
        keep[name] = [] if frame_value == "reject" else [
            i for i in range(entry["boxes"]) if box_values.get(i) == "accept" or (box_values.get(i) is None
                                                                                   and default)]
    return keep


def _check_out(run: Path, manifest: dict[str, Any], out: Path) -> set[str]:
    """``out`` follows :mod:`kitti.outputs`: not the labels under review, not inside the data set, no link leading
    out of it, and no label file that an earlier ``apply`` did not record in its :data:`OUT_MANIFEST`; returns the
    names of the files earlier applies wrote."""
    labels = Path(manifest["labels"])
    if is_inside(out, labels) or is_inside(labels, out):
        raise OutputDirError(out, f"is (or holds) the label folder under review {labels}: the reviewed labels would "
                                  f"be replaced; write the reviewed labels to a new folder")
    data = manifest.get("data")
    check_output_dir(out, Path(data) if isinstance(data, str) else None, "--out")
    owned: set[str] = set()
    if (out / OUT_MANIFEST).exists():
        try:
            recorded = read_json_object(out / OUT_MANIFEST, "the record of an earlier review apply").get("files")
        except KittiFormatError:
            recorded = None
        if isinstance(recorded, list):
            owned = {name for name in recorded if isinstance(name, str) and frame_id(name.removesuffix(".txt"))
                     is not None}
    refuse_foreign(out, owned, ("*.txt",), OUT_MANIFEST)
    return owned


def apply_decisions(run: Path, decisions_path: Path, out: Path, keep_undecided: bool = False) -> ApplyResult:
    """Write ``out/%06d.txt`` for every review frame with its kept boxes; label files an earlier apply wrote into
    ``out`` for frames no longer reviewed are removed (only those: :mod:`kitti.outputs`). Nothing is written when
    the decisions do not validate."""
    manifest = read_manifest(run)
    keep = keep_lists(run, manifest, decisions_path, keep_undecided)
    owned = _check_out(run, manifest, out)
    labels = Path(manifest["labels"])
    texts = {}
    for name, ids in keep.items():
        path = labels / f"{name}.txt"
        lines = [line for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
        texts[f"{name}.txt"] = "".join(lines[i] + "\n" for i in ids)
    ensure_dir(out)
    record = {"format": "kitti-review-apply", "run": str(run.resolve()), "review_id": manifest["review_id"]}
    # recorded before written: a killed apply leaves only files its rerun knows as its own
    atomic_write_text(out / OUT_MANIFEST, json.dumps({**record, "files": sorted(owned | set(texts))}) + "\n")
    for stale in sorted(owned - set(texts)):
        (out / stale).unlink(missing_ok=True)
    for name, text in texts.items():
        atomic_write_text(out / name, text)
    atomic_write_text(out / OUT_MANIFEST, json.dumps({**record, "files": sorted(texts)}) + "\n")
    total = sum(manifest["frames"][name]["boxes"] for name in keep)
    return ApplyResult(frames=len(keep), boxes=total, kept=sum(len(ids) for ids in keep.values()))
