"""Per-frame annotation dicts (the evaluator's input layout), built from arrays, label objects or label directories.

An *anno* describes all objects of one frame, as a dict of numpy arrays with N rows (N may be 0):

=============  ========  =====================================================================================
key            shape     meaning
=============  ========  =====================================================================================
``name``       (N,)      KITTI class name (str; compared case-insensitively)
``truncated``  (N,)      truncation fraction (float; ground truth only, never read for detections)
``occluded``   (N,)      occlusion level 0..3 (int; ground truth only, never read for detections)
``alpha``      (N,)      observation angle, radians (-10 = unknown)
``bbox``       (N, 4)    2D box ``x1, y1, x2, y2`` in image_2 pixels
``dimensions`` (N, 3)    box size ``h, w, l`` in metres (KITTI label order, *not* second.pytorch's ``l, h, w``)
``location``   (N, 3)    centre of the bottom face ``x, y, z`` in the rect camera frame, metres
``rotation_y`` (N,)      heading about the rect y axis, radians
``score``      (N,)      detection confidence (predictions; ignored for ground truth, may be absent there)
=============  ========  =====================================================================================
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from kitti.errors import KittiFormatError
from kitti.eval.protocol import DONTCARE, EVAL_CLASSES
from kitti.io.dataset import read_split
from kitti.io.labels import ObjectLabel, read_labels

Anno = dict[str, np.ndarray]

_COLUMNS: dict[str, tuple[int, ...]] = {
    "truncated": (), "occluded": (), "alpha": (), "bbox": (4,), "dimensions": (3,), "location": (3,),
    "rotation_y": (), "score": (),
}


def empty_anno() -> Anno:
    """An anno with no objects (a frame without detections)."""
    return annos_from_labels([])


def annos_from_labels(labels: Iterable[ObjectLabel]) -> Anno:
    """Build one frame's anno from :class:`kitti.io.labels.ObjectLabel` objects (score 0 where the label has none)."""
    labels = list(labels)
    return {
        "name": np.array([o.type for o in labels], dtype=str),
        "truncated": np.array([o.truncation for o in labels], dtype=np.float64),
        "occluded": np.array([o.occlusion for o in labels], dtype=np.int64),
        "alpha": np.array([o.alpha for o in labels], dtype=np.float64),
        "bbox": np.array([o.box2d for o in labels], dtype=np.float64).reshape(-1, 4),
        "dimensions": np.array([o.dims for o in labels], dtype=np.float64).reshape(-1, 3),
        "location": np.array([o.location for o in labels], dtype=np.float64).reshape(-1, 3),
        "rotation_y": np.array([o.ry for o in labels], dtype=np.float64),
        "score": np.array([0.0 if o.score is None else o.score for o in labels], dtype=np.float64),
    }


def inverted_boxes(bbox: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: 2D boxes ``(x1, y1, x2, y2)`` with ``x2 < x1`` or ``y2 < y1``."""
    return (bbox[:, 2] < bbox[:, 0]) | (bbox[:, 3] < bbox[:, 1])


def check_anno(anno: Mapping[str, np.ndarray], what: str, prediction: bool) -> Anno:
    """Validate one anno and return it as float64/int64/str arrays.

    ``what`` names the frame in error messages (e.g. ``"prediction frame 12"``). Rejects missing keys, inconsistent
    lengths, non-finite values (NaN scores included), ground-truth 2D boxes with ``x2 < x1`` or ``y2 < y1`` (a
    prediction's is kept, as by the official devkit: it overlaps nothing in 2D) and negative 3D sizes (except
    DontCare). A ``prediction`` needs ``score`` and may omit ``truncated``/``occluded`` (never read); ground
    truth may omit ``score``. Omitted optional arrays become zeros.
    """
    optional = ("truncated", "occluded") if prediction else ("score",)
    if "name" not in anno:
        raise ValueError(f"{what}: anno has no 'name' array")
    names = np.asarray(anno["name"], dtype=str).reshape(-1)
    n = names.shape[0]
    out: Anno = {"name": names}
    for key, tail in _COLUMNS.items():
        if key not in anno:
            if key in optional:
                out[key] = np.zeros(n)
                continue
            raise ValueError(f"{what}: anno has no {key!r} array")
        try:
            values = np.asarray(anno[key], dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{what}: {key!r} is not numeric") from None
        if values.size == 0 and n == 0:
            values = values.reshape((0, *tail))
        if values.shape != (n, *tail):
            raise ValueError(f"{what}: {key!r} has shape {values.shape}, expected {(n, *tail)}")
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise ValueError(f"{what}: object {row} ({names[row]}): {key} must be finite (NaN/inf given)")
        out[key] = values
    out["occluded"] = out["occluded"].astype(np.int64)
    box = out["bbox"]
    bad_box = inverted_boxes(box)
    if bad_box.any() and not prediction:
        row = int(np.argmax(bad_box))
        raise ValueError(f"{what}: object {row} ({names[row]}): 2D box has x2 < x1 or y2 < y1: {box[row].tolist()}")
    negative = (out["dimensions"] < 0).any(axis=1) & (np.char.lower(names) != DONTCARE.lower())
    if negative.any():
        row = int(np.argmax(negative))
        raise ValueError(f"{what}: object {row} ({names[row]}): negative box size h, w, l = "
                         f"{out['dimensions'][row].tolist()}")
    return out


def read_gt_file(path: str | Path) -> Anno:
    """Read a ground-truth ``label_2`` file (bad lines raise :class:`KittiFormatError` with file:line)."""
    return annos_from_labels(read_labels(path))


def read_pred_file(path: str | Path) -> Anno:
    """Read a prediction file: KITTI label lines with a 16th ``score`` column; a missing file means no detections.

    A 15-column line (no score) raises :class:`KittiFormatError` naming file and line. A 2D box with ``x2 < x1`` or
    ``y2 < y1`` is accepted, as by the official devkit (detectors emit them after clipping; it overlaps nothing in 2D).
    """
    path = Path(path)
    if not path.exists():
        return empty_anno()
    labels = read_labels(path, inverted_ok=True)
    for obj in labels:
        if obj.score is None:
            raise KittiFormatError(path, "prediction line has 15 fields, no score column (16 fields expected: "
                                         "type ... rotation_y score)", obj.line)
    return annos_from_labels(labels)


def frame_id(raw: str | int) -> str:
    """Normalise a frame id: all-digit ids are zero-padded to KITTI's six digits (``12`` -> ``000012``)."""
    text = str(raw).strip()
    return f"{int(text):06d}" if text.isascii() and text.isdigit() and len(text) <= 10 else text


def load_dirs(gt_dir: str | Path, pred_dir: str | Path,
              split: str | Path | Sequence[str | int] | None = None) -> tuple[list[str], list[Anno], list[Anno]]:
    """Read ground truth and predictions for the frames of ``split`` (a split file or a list of ids).

    Without a split every ``<gt_dir>/*.txt`` frame is evaluated. A frame without a prediction file has no detections;
    a split frame without a ground-truth file is an error. Returns ``(frame_ids, gt_annos, pred_annos)``.
    """
    gt_dir, pred_dir = Path(gt_dir), Path(pred_dir)
    if not gt_dir.is_dir():
        raise KittiFormatError(gt_dir, "ground-truth directory not found")
    if not pred_dir.is_dir():
        raise KittiFormatError(pred_dir, "prediction directory not found")
    if split is None:
        ids = sorted(p.stem for p in gt_dir.glob("*.txt"))
    elif isinstance(split, (str, Path)):
        ids = [f"{i:06d}" for i in read_split(split)]
    else:
        ids = [frame_id(i) for i in split]
    gt = [read_gt_file(gt_dir / f"{i}.txt") for i in ids]
    pred = [read_pred_file(pred_dir / f"{i}.txt") for i in ids]
    inverted = [(i, int(inverted_boxes(p["bbox"]).sum())) for i, p in zip(ids, pred)]
    inverted = [(i, n) for i, n in inverted if n]
    if inverted:
        print(f"warning: {sum(n for _, n in inverted)} predicted 2D boxes with x2 < x1 or y2 < y1 in "
              f"{len(inverted)} files of {pred_dir} (first: {inverted[0][0]}.txt); evaluated as by the official "
              f"devkit (no 2D overlap)", file=sys.stderr)
    return ids, gt, pred


def add_label_dir_arguments(parser: argparse.ArgumentParser, pred_help: str, json_help: str) -> None:
    """The arguments shared by the label-set commands (``kitti.eval``, ``kitti.eval.diagnose``): ``--gt-dir``,
    ``--pred-dir``, ``--split``, ``--classes`` and ``--json``."""
    parser.add_argument("--gt-dir", required=True, help="ground-truth label_2 directory (<id>.txt, 15 columns)")
    parser.add_argument("--pred-dir", required=True, help=pred_help)
    parser.add_argument("--split", help="file of frame ids (default: every ground-truth file)")
    parser.add_argument("--classes", nargs="+", default=list(EVAL_CLASSES), choices=EVAL_CLASSES,
                        help="classes (default: %(default)s)")
    parser.add_argument("--json", help=json_help)
