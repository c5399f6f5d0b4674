"""Apply reviewer decisions: ``decisions.json`` (exported by the page) -> a KITTI ``label_2`` folder.

Decisions format (version 1)::

    {"format": "kitti-review-decisions", "version": 1, "review_id": "...",
     "frames": {"000012": {"decision": "accept" | "reject" | null, "note": "...",
                           "boxes": {"3": {"decision": "accept" | "reject" | null, "note": "..."}}}}}

Box ids are the indices of the label file's non-blank lines (0-based). A box is kept when it is accepted, or when
it is undecided and its frame is accepted (or ``keep_undecided`` is set); a rejected frame drops every box.
Every frame of the review gets a file (empty when nothing is kept); kept lines are copied verbatim.

Everything is checked before anything is written: an unknown frame or box id, a malformed decision, decisions made
on another review, or a label file changed since the page was built is a :class:`KittiFormatError`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kitti.atomic import atomic_write_text
from kitti.errors import KittiFormatError
from kitti.review.build import MANIFEST, label_digest

DECISIONS_FORMAT = "kitti-review-decisions"
VALUES = ("accept", "reject", None)


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
    path = run / "review" / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise KittiFormatError(path, "review manifest not found (build the page first: python -m kitti.review "
                                     "build --run RUN)") from None
    except json.JSONDecodeError as exc:
        raise KittiFormatError(path, f"not valid JSON ({exc})") from None
    return manifest


def keep_lists(run: Path, manifest: dict[str, Any], decisions_path: Path,
               keep_undecided: bool = False) -> dict[str, list[int]]:
    """Validated decisions -> per review frame (of the review ``manifest``) the ids of the boxes to keep."""
    try:
        decisions = json.loads(decisions_path.read_text())
    except FileNotFoundError:
        raise KittiFormatError(decisions_path, "decisions file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KittiFormatError(decisions_path, f"not valid JSON ({exc})") from None
    if not isinstance(decisions, dict) or decisions.get("format") != DECISIONS_FORMAT \
            or not isinstance(decisions.get("frames"), dict):
        raise KittiFormatError(decisions_path, f"expected a '{DECISIONS_FORMAT}' object with a 'frames' object")
    if decisions.get("review_id") not in (None, manifest["review_id"]):
        raise KittiFormatError(decisions_path, f"decisions belong to review {decisions['review_id']}, this run's "
                                               f"review is {manifest['review_id']} (other labels or frames)")
    labels = Path(manifest["labels"])
    for name, entry in manifest["frames"].items():
        if label_digest(labels / f"{name}.txt")[0] != entry["sha256"]:
            raise KittiFormatError(labels / f"{name}.txt", "label file changed since the review page was built "
                                                           "(rebuild the page and review again)")
    frame_decisions: dict[str, tuple[str | None, dict[int, str | None]]] = {}
    for name, entry in decisions["frames"].items():
        if name not in manifest["frames"]:
            raise KittiFormatError(decisions_path, f"unknown frame {name!r} (not in the review of {run})")
        frame_value = _decision(decisions_path, f"frame {name}", entry)
        boxes = entry.get("boxes", {})
        if not isinstance(boxes, dict):
            raise KittiFormatError(decisions_path, f"frame {name}: 'boxes' must be an object keyed by box id")
        count = manifest["frames"][name]["boxes"]
        box_values = {}
        for key, box in boxes.items():
            if not (isinstance(key, str) and key.isdigit() and int(key) < count):
                raise KittiFormatError(decisions_path, f"frame {name}: unknown box id {key!r} (the frame has "
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


def apply_decisions(run: Path, decisions_path: Path, out: Path, keep_undecided: bool = False) -> ApplyResult:
    """Write ``out/%06d.txt`` for every review frame with its kept boxes; stale ``.txt`` files in ``out`` are
    removed. Nothing is written when the decisions do not validate."""
    manifest = read_manifest(run)
    keep = keep_lists(run, manifest, decisions_path, keep_undecided)
    labels = Path(manifest["labels"])
    texts = {}
    for name, ids in keep.items():
        path = labels / f"{name}.txt"
        lines = [line for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []
        texts[name] = "".join(lines[i] + "\n" for i in ids)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.txt"):
        if stale.stem not in texts:
            stale.unlink()
    for name, text in texts.items():
        atomic_write_text(out / f"{name}.txt", text)
    total = sum(manifest["frames"][name]["boxes"] for name in keep)
    return ApplyResult(frames=len(keep), boxes=total, kept=sum(len(ids) for ids in keep.values()))
