"""The evaluator: KITTI AP (R11 and R40, percent) for 2D, BEV, 3D and AOS per class, difficulty and threshold set.

Result layout (also the JSON written by the CLI)::

    {"strict": {"Car": {"bev": {"R40": [easy, moderate, hard], "R11": [...]}, "3d": {...}, "2d": {...},
                        "aos": {...}},
                "Pedestrian": {...}, "Cyclist": {...}},
     "loose": {...}}

A class without any ground-truth box in the evaluated frames is absent. ``aos`` is absent when the predictions carry
no observation angle (the first detection's alpha is -10, the test the reference evaluator makes).
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from kitti.eval.annos import Anno, check_anno, load_dirs
from kitti.eval.ap import ap_r11, ap_r40
from kitti.eval.difficulty import dt_flags, gt_flags, may_be_ignored_detection
from kitti.eval.matching import precision_curve
from kitti.eval.overlaps import frame_matrix_offsets, frame_overlaps
from kitti.eval.protocol import (
    ALPHA_UNKNOWN,
    DIFFICULTIES,
    DONTCARE,
    EVAL_CLASSES,
    METRICS,
    MIN_OVERLAP,
    NEIGHBOUR_CLASS,
    canonical_class,
)

Result = dict[str, dict[str, dict[str, dict[str, list[float]]]]]
ALL_METRICS: tuple[str, ...] = ("bev", "3d", "2d", "aos")


class _Objects:
    """The objects of all frames concatenated (frame order kept), with per-frame offsets."""

    def __init__(self, annos: Sequence[Anno]) -> None:
        counts = np.array([len(a["name"]) for a in annos], dtype=np.int64)
        self.frame = np.repeat(np.arange(len(annos)), counts)
        self.arrays: Anno = {key: np.concatenate([a[key] for a in annos]) if annos else np.zeros(0)
                             for key in ("alpha", "truncated", "occluded", "rotation_y", "score")}
        for key, width in (("bbox", 4), ("dimensions", 3), ("location", 3)):
            self.arrays[key] = np.concatenate([a[key] for a in annos]) if annos else np.zeros((0, width))
        self.names = np.char.lower(np.concatenate([a["name"] for a in annos])) if annos else np.zeros(0, str)
        self.n_frames = len(annos)

    def select(self, mask: np.ndarray) -> tuple[Anno, np.ndarray, np.ndarray]:
        """``(anno of the selected objects, per-frame offsets, index of each within its frame's selection)``.

        The anno also holds ``frame``, the frame index of each object."""
        index = np.flatnonzero(mask)
        frame = self.frame[index]
        offsets = _offsets(frame, self.n_frames)
        anno = {key: value[index] for key, value in self.arrays.items()}
        anno["name"] = self.names[index]
        anno["frame"] = frame
        return anno, offsets, np.arange(index.size) - offsets[frame]


def _offsets(frame_of_object: np.ndarray, n_frames: int) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(np.bincount(frame_of_object, minlength=n_frames))]).astype(np.int64)


def evaluate(gt_annos: Sequence[Mapping[str, np.ndarray]], dt_annos: Sequence[Mapping[str, np.ndarray]],
             classes: Sequence[str] = EVAL_CLASSES, metrics: Sequence[str] = ALL_METRICS,
             overlap_sets: Sequence[str] = ("strict", "loose")) -> Result:
    """Evaluate detections against ground truth with the official KITTI protocol.

    ``gt_annos[f]`` and ``dt_annos[f]`` are frame ``f``'s annos (layout in :mod:`kitti.eval.annos`; ground truth
    needs no ``score``). ``classes`` are Car/Pedestrian/Cyclist in any case; ``metrics`` a subset of
    ``("bev", "3d", "2d", "aos")``; ``overlap_sets`` a subset of ``("strict", "loose")``. Returns the layout in the
    module docstring, AP in percent. Raises ValueError on inconsistent or invalid input.
    """
    if len(gt_annos) != len(dt_annos):
        raise ValueError(f"{len(gt_annos)} ground-truth frames but {len(dt_annos)} prediction frames")
    unknown = [m for m in metrics if m not in ALL_METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; expected a subset of {list(ALL_METRICS)}")
    unknown = [s for s in overlap_sets if s not in MIN_OVERLAP]
    if unknown:
        raise ValueError(f"unknown overlap set(s) {unknown}; expected a subset of {list(MIN_OVERLAP)}")
    gt_list = [check_anno(a, f"ground-truth frame {f}", prediction=False) for f, a in enumerate(gt_annos)]
    dt_list = [check_anno(a, f"prediction frame {f}", prediction=True) for f, a in enumerate(dt_annos)]
    gt, dt = _Objects(gt_list), _Objects(dt_list)
    classes = [c for c in dict.fromkeys(canonical_class(c) for c in classes) if (gt.names == c.lower()).any()]
    first_alpha = next((a["alpha"][0] for a in dt_list if len(a["alpha"])), ALPHA_UNKNOWN)
    metrics = [m for m in metrics if m != "aos" or first_alpha != ALPHA_UNKNOWN]

    # objects that take part in some class's matching: the classes and their neighbours (GT), the classes and
    # everything lower than the largest minimum height (detections: those are "ignored detections")
    gt_names_used = {c.lower() for c in classes} | {n.lower() for c in classes if (n := NEIGHBOUR_CLASS[c])}
    gt_rel, gt_rel_off, gt_rank = gt.select(np.isin(gt.names, list(gt_names_used)))
    dt_rel, dt_rel_off, dt_rank = dt.select(np.isin(dt.names, [c.lower() for c in classes])
                                            | may_be_ignored_detection(dt.arrays["bbox"]))
    dc_box, dc_off, _ = gt.select(gt.names == DONTCARE.lower())
    ov_cols = np.diff(gt_rel_off)
    overlap_metrics = [m for m in METRICS if m in metrics or (m == "2d" and "aos" in metrics)]
    ov_off = frame_matrix_offsets(dt_rel_off, gt_rel_off)
    overlaps = {m: frame_overlaps(m, dt_rel, dt_rel_off, gt_rel, gt_rel_off) for m in overlap_metrics}

    result: Result = {s: {} for s in overlap_sets}
    for cls in classes:
        names = {cls.lower(), (NEIGHBOUR_CLASS[cls] or cls).lower()}
        gt_keep = np.isin(gt_rel["name"], list(names))
        dt_keep = (dt_rel["name"] == cls.lower()) | may_be_ignored_detection(dt_rel["bbox"])
        gt_idx, dt_idx = np.flatnonzero(gt_keep), np.flatnonzero(dt_keep)
        gt_off = _offsets(gt_rel["frame"][gt_idx], gt.n_frames)
        dt_off = _offsets(dt_rel["frame"][dt_idx], dt.n_frames)
        g = {key: value[gt_idx] for key, value in gt_rel.items()}
        d = {key: value[dt_idx] for key, value in dt_rel.items()}
        curves: dict[tuple[str, float, int], tuple[np.ndarray, np.ndarray]] = {}
        for difficulty in range(len(DIFFICULTIES)):
            ign_gt = gt_flags(g["name"], g["bbox"], g["occluded"], g["truncated"], cls, difficulty)
            ign_dt = dt_flags(d["name"], d["bbox"], cls, difficulty)
            for metric in overlap_metrics:
                for overlap_set in overlap_sets:
                    min_overlap = MIN_OVERLAP[overlap_set][metric][cls]
                    key = (metric, min_overlap, difficulty)
                    if key not in curves:
                        curves[key] = precision_curve(
                            overlaps[metric], ov_off, ov_cols, gt_off, gt_rank[gt_idx], ign_gt, g["alpha"], dt_off,
                            dt_rank[dt_idx], ign_dt, d["alpha"], d["score"], d["bbox"], dc_off, dc_box["bbox"],
                            metric == "2d", min_overlap)
        for overlap_set in overlap_sets:
            entry: dict[str, dict[str, list[float]]] = {}
            for metric in metrics:
                base = "2d" if metric == "aos" else metric
                min_overlap = MIN_OVERLAP[overlap_set][base][cls]
                per_level = [curves[(base, min_overlap, lvl)][1 if metric == "aos" else 0]
                             for lvl in range(len(DIFFICULTIES))]
                entry[metric] = {"R40": [ap_r40(c) for c in per_level], "R11": [ap_r11(c) for c in per_level]}
            result[overlap_set][cls] = entry
    return result


def ap_ceiling(gt_annos: Sequence[Mapping[str, np.ndarray]], classes: Sequence[str] = EVAL_CLASSES,
               metrics: Sequence[str] = ("3d",), overlap_sets: Sequence[str] = ("strict",)) -> Result:
    """The AP of perfect labels on these frames: the ground truth scored as predictions (score 1), layout as
    :func:`evaluate`. It is below 100 where a class has ``n <= 40`` valid boxes at a difficulty: the protocol's R40
    score thresholds then step recall by ``1 / n`` each, and AP is at most ``(n - 1) / 40`` (21 cyclists give 50)."""
    perfect = [dict(anno, score=np.ones(len(anno["name"]))) for anno in gt_annos]
    return evaluate(gt_annos, perfect, classes=classes, metrics=metrics, overlap_sets=overlap_sets)


def evaluate_dirs(gt_dir: str | Path, pred_dir: str | Path, split: str | Path | Sequence[str] | None = None,
                  classes: Sequence[str] = EVAL_CLASSES, metrics: Sequence[str] = ALL_METRICS,
                  overlap_sets: Sequence[str] = ("strict", "loose")) -> Result:
    """:func:`evaluate` on label directories: ``<gt_dir>/<id>.txt`` ground truth and ``<pred_dir>/<id>.txt``
    predictions (16 columns, last = score) for the frames of ``split`` (a split file or ids; default: every GT
    file). A missing prediction file means no detections; malformed lines raise ``KittiFormatError`` (file:line)."""
    _, gt, pred = load_dirs(gt_dir, pred_dir, split)
    return evaluate(gt, pred, classes=classes, metrics=metrics, overlap_sets=overlap_sets)
