"""Label quality in brief: per class the AP beside its ceiling and the per-box shares users train on.

:func:`label_quality` scores a label directory against 3D ground truth: AP R40 3D strict moderate (percent) and its
ceiling (the ground truth scored as labels: with ``n <= 40`` boxes the protocol caps AP at ``(n - 1) / 40``),
coverage, median 3D IoU of the labelled boxes, the share of *all* ground-truth boxes labelled at 3D IoU >= 0.7 and
>= 0.5 (an unlabelled box is a miss) and the share of labelled boxes pointing the right way (heading error < 90
deg). :func:`has_3d_ground_truth` tells whether a label directory holds 3D fields to score against at all (a user's
own data often has 2D boxes only). Evaluation only: it reads 3D fields, nothing on the labelling path calls it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from kitti.errors import KittiFormatError
from kitti.eval.annos import load_dirs, read_gt_file
from kitti.eval.budget import budget_from_annos
from kitti.eval.evaluate import ap_ceiling, evaluate
from kitti.eval.protocol import EVAL_CLASSES

Quality = dict[str, dict[str, Any]]


def _of_all(share_of_paired: float | None, coverage: float | None) -> float | None:
    return None if share_of_paired is None or coverage is None else share_of_paired * coverage


def label_quality(gt_dir: str | Path, labels: str | Path, frames: Sequence[int | str],
                  classes: Sequence[str] = EVAL_CLASSES) -> Quality:
    """Per class with ground truth in ``frames``: ``n_gt``, ``ap``, ``ceiling``, ``coverage``, ``median_iou``,
    ``share_0.7``, ``share_0.5`` (of all ground-truth boxes) and ``direction`` (module docstring)."""
    _, gt, pred = load_dirs(gt_dir, labels, frames)
    ap = evaluate(gt, pred, classes=classes, metrics=("3d",), overlap_sets=("strict",))["strict"]
    ceiling = ap_ceiling(gt, classes)["strict"]
    out: Quality = {}
    for cls, entry in budget_from_annos(gt, pred, classes)["classes"].items():
        group = entry["all"]
        out[cls] = {"n_gt": group["n_gt"], "ap": ap[cls]["3d"]["R40"][1], "ceiling": ceiling[cls]["3d"]["R40"][1],
                    "coverage": group["coverage"], "median_iou": group["iou_3d"]["median"],
                    "share_0.7": _of_all(group["iou_3d"]["share_ge_0.7"], group["coverage"]),
                    "share_0.5": _of_all(group["iou_3d"]["share_ge_0.5"], group["coverage"]),
                    "direction": group["direction_right"]}
    return out


def annos_have_3d(gt_annos: Sequence[Mapping[str, np.ndarray]], classes: Sequence[str] = EVAL_CLASSES) -> bool:
    """Whether some object of ``classes`` in ground-truth annos has a real 3D box (all of ``h, w, l`` positive);
    label files whose 3D fields are placeholders (zeros) hold 2D ground truth only."""
    wanted = [c.lower() for c in classes]
    return any((np.isin(np.char.lower(a["name"]), wanted) & (a["dimensions"] > 0).all(axis=1)).any()
               for a in gt_annos)


def has_3d_ground_truth(gt_dir: str | Path, frames: Sequence[int | str], classes: Sequence[str] = EVAL_CLASSES) -> bool:
    """:func:`annos_have_3d` of the label files of ``frames`` in ``gt_dir``; a file the 3D reader refuses (2D-only
    files often carry placeholders such as size -1) counts as 2D-only."""
    annos = []
    for frame in frames:
        path = Path(gt_dir) / f"{int(frame):06d}.txt"
        try:
            annos.append(read_gt_file(path))
        except (KittiFormatError, OSError):
            continue
    return annos_have_3d(annos, classes)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_quality(quality: Quality) -> str:
    """One line per class of :func:`label_quality`."""
    lines = []
    for cls, q in quality.items():
        strict = 0.7 if cls == "Car" else 0.5
        share = q["share_0.7"] if cls == "Car" else q["share_0.5"]
        lines.append(f"{cls}: {q['n_gt']} GT boxes, 3D AP R40 @{strict} moderate {q['ap']:.1f} (ceiling "
                     f"{q['ceiling']:.1f}), coverage {_cell(q['coverage'])}, median 3D IoU {_cell(q['median_iou'])}, "
                     f"share of GT at >= {strict} {_cell(share)}, direction right {_cell(q['direction'])}")
    return "\n".join(lines)
