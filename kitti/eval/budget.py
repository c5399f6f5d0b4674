"""The error budget of a label set against ground truth: coverage, per-box IoU, signed errors, ranking, limits.

Structure returned by :func:`budget_from_annos` (JSON-ready: floats, ints, None where a figure is undefined)::

    {"frames": F, "pair_min_iou": 0.7, "distance_bins": ["0-10 m", ...],
     "classes": {"Car": {
        "n_gt": N, "n_pred": M, "n_matched": K, "n_unmatched_pred": M - K, "strict_iou": 0.7,
        "spearman_score_iou_3d": rho or None,
        "all": Group, "by_distance": {"0-10 m": Group, ...}, "by_occlusion": {"0": Group, ..., "3": Group},
        "by_truncation": {"0.00-0.15": Group, ..., "0.50-1.00": Group},
        "limits": Limits (see :mod:`kitti.eval.limits`)}}}

    Group = {"n_gt", "n_matched", "coverage", "direction_right" (share of pairs with heading error < 90 deg),
             "iou_3d": {"median", "share_ge_0.7", "share_ge_0.5"}, "iou_bev": {...},
             "errors": {"depth_m": Stats, ... (kitti.eval.box_errors.ERROR_KEYS)}}
    Stats = {"n", "median", "q1", "q3", "median_abs"}   (median_abs: median distance to the perfect value)

A class appears when the frames hold ground truth of it. Ground-truth boxes of the class are paired one to one with
its predictions at 2D IoU >= 0.7 (:mod:`kitti.eval.pairing`, any difficulty); coverage is matched / ground-truth
boxes. Distance bins, occlusion levels and truncation bins are those of the ground-truth box (distance ``hypot(x,
z)`` of its bottom centre, metres; truncation the share of the object outside the image, KITTI's field); an
unmatched box counts against coverage in its bin. IoUs (3D and BEV, rotated, compiled ``ops``)
and errors (:mod:`kitti.eval.box_errors`) are over matched pairs. The Spearman correlation is between the scores
of the matched predictions and their 3D IoU (None with fewer than two pairs or constant scores or IoUs).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

import ops
from kitti.errors import ArgumentError
from kitti.eval.annos import check_anno
from kitti.eval.box_errors import ERROR_KEYS, PERFECT, pair_errors
from kitti.eval.distance import bin_name
from kitti.eval.limits import limits
from kitti.eval.overlaps import boxes_3d
from kitti.eval.pairing import PAIR_MIN_IOU, pair_by_2d_iou
from kitti.eval.protocol import EVAL_CLASSES, MIN_OVERLAP, canonical_class

Budget = dict[str, Any]

DISTANCE_BINS: tuple[tuple[float, float], ...] = ((0.0, 10.0), (10.0, 20.0), (20.0, 30.0), (30.0, 40.0),
                                                  (40.0, float("inf")))
OCCLUSION_LEVELS: tuple[int, ...] = (0, 1, 2, 3)
#: truncation bins ``[lo, hi)`` (the last closed): KITTI's difficulty limits (easy <= 0.15, moderate <= 0.3, hard
#: <= 0.5) and beyond
TRUNCATION_BINS: tuple[tuple[float, float], ...] = ((0.0, 0.15), (0.15, 0.3), (0.3, 0.5), (0.5, 1.0))
IOU_SHARES: tuple[float, ...] = (0.7, 0.5)
#: a paired label points the right way when its heading is within this many degrees of the ground truth's
DIRECTION_RIGHT_DEG = 90.0
#: columns of a KITTI box ``(x, y_bottom, z, h, w, l, ry)`` forming its BEV box ``(x, z, l, w, ry)``
BEV_COLUMNS = [0, 2, 5, 4, 6]


def stats(values: np.ndarray, perfect: float = 0.0) -> dict[str, float | int | None]:
    """Median, quartiles and median distance to ``perfect`` of the finite ``values`` (None when there are none)."""
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"n": 0, "median": None, "q1": None, "q3": None, "median_abs": None}
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {"n": int(values.size), "median": float(median), "q1": float(q1), "q3": float(q3),
            "median_abs": float(np.median(np.abs(values - perfect)))}


def iou_stats(iou: np.ndarray) -> dict[str, float | None]:
    """Median of the finite IoUs and the share ``>=`` each of :data:`IOU_SHARES` (None when there are none)."""
    iou = iou[np.isfinite(iou)]
    out: dict[str, float | None] = {"median": float(np.median(iou)) if iou.size else None}
    for threshold in IOU_SHARES:
        out[f"share_ge_{threshold}"] = float(np.mean(iou >= threshold)) if iou.size else None
    return out


def _ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their average rank."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)
    return (last - (counts - 1) / 2.0)[inverse]


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman rank correlation (Pearson correlation of the tie-averaged ranks); None when it is undefined."""
    if a.size < 2:
        return None
    ra, rb = _ranks(a), _ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = np.sqrt(np.sum(ra * ra) * np.sum(rb * rb))
    return float(np.sum(ra * rb) / denom) if denom > 0 else None


def _group(mask: np.ndarray, matched: np.ndarray, iou_3d: np.ndarray, iou_bev: np.ndarray,
           errors: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Figures of the ground-truth boxes selected by ``mask`` (per-GT arrays, NaN where unmatched)."""
    n_gt, n_matched = int(mask.sum()), int((mask & matched).sum())
    heading = errors["heading_deg"][mask & matched]
    return {"n_gt": n_gt, "n_matched": n_matched, "coverage": n_matched / n_gt if n_gt else None,
            "direction_right": float(np.mean(np.abs(heading) < DIRECTION_RIGHT_DEG)) if len(heading) else None,
            "iou_3d": iou_stats(iou_3d[mask]), "iou_bev": iou_stats(iou_bev[mask]),
            "errors": {key: stats(errors[key][mask], PERFECT[key]) for key in ERROR_KEYS}}


class ClassPairs:
    """Ground truth of one class over all frames (frames in order, boxes in label order), with the prediction paired
    to each box by :func:`kitti.eval.pairing.pair_by_2d_iou` (NaN rows if none); predictions need scores."""

    def __init__(self, cls: str, gt_annos: Sequence[Mapping[str, np.ndarray]],
                 pred_annos: Sequence[Mapping[str, np.ndarray]]) -> None:
        gt_rows, pred_rows, scores, occlusion, truncation, self.n_pred = [], [], [], [], [], 0
        for gt, pred in zip(gt_annos, pred_annos):
            g = np.char.lower(gt["name"]) == cls.lower()
            p = np.char.lower(pred["name"]) == cls.lower()
            self.n_pred += int(p.sum())
            g_index, p_index = pair_by_2d_iou(gt["bbox"][g], pred["bbox"][p])
            gt_boxes = boxes_3d({key: value[g] for key, value in gt.items()})
            paired = np.full_like(gt_boxes, np.nan)
            score = np.full(len(gt_boxes), np.nan)
            paired[g_index] = boxes_3d({key: value[p] for key, value in pred.items()})[p_index]
            score[g_index] = pred["score"][p][p_index]
            gt_rows.append(gt_boxes)
            pred_rows.append(paired)
            scores.append(score)
            occlusion.append(gt["occluded"][g])
            truncation.append(gt["truncated"][g])
        self.gt = np.concatenate(gt_rows) if gt_rows else np.zeros((0, 7))
        self.pred = np.concatenate(pred_rows) if pred_rows else np.zeros((0, 7))
        self.score = np.concatenate(scores) if scores else np.zeros(0)
        self.occlusion = np.concatenate(occlusion) if occlusion else np.zeros(0, dtype=np.int64)
        self.truncation = np.concatenate(truncation) if truncation else np.zeros(0)
        self.matched = np.isfinite(self.score)
        self.distance = np.hypot(self.gt[:, 0], self.gt[:, 2])

    def iou_3d(self) -> np.ndarray:
        """3D IoU of each ground-truth box with its paired prediction, NaN where unpaired."""
        m = self.matched
        return _per_gt(ops.iou_3d_pairs(self.pred[m], self.gt[m]).astype(np.float64), m)

    def iou_bev(self) -> np.ndarray:
        """BEV IoU of each ground-truth box with its paired prediction, NaN where unpaired."""
        m = self.matched
        return _per_gt(ops.iou_bev_pairs(self.pred[m][:, BEV_COLUMNS], self.gt[m][:, BEV_COLUMNS])
                       .astype(np.float64), m)

    def errors(self) -> dict[str, np.ndarray]:
        """Signed errors of each pair (:func:`kitti.eval.box_errors.pair_errors`), NaN where unpaired."""
        m = self.matched
        return {key: _per_gt(value, m) for key, value in pair_errors(self.gt[m], self.pred[m]).items()}


def truncation_bin_name(bounds: tuple[float, float]) -> str:
    """``"0.15-0.30"`` for the bin ``(0.15, 0.3)``."""
    return f"{bounds[0]:.2f}-{bounds[1]:.2f}"


def in_truncation_bin(truncation: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """Bool mask of ``truncation`` values in ``[lo, hi)``, or ``[lo, hi]`` for the last of :data:`TRUNCATION_BINS`."""
    upper = truncation <= bounds[1] if bounds == TRUNCATION_BINS[-1] else truncation < bounds[1]
    return (truncation >= bounds[0]) & upper


def _per_gt(values: np.ndarray, matched: np.ndarray) -> np.ndarray:
    out = np.full(matched.shape, np.nan)
    out[matched] = values
    return out


def class_budget(cls: str, gt_annos: Sequence[Mapping[str, np.ndarray]],
                 pred_annos: Sequence[Mapping[str, np.ndarray]]) -> dict[str, Any]:
    """The budget of one class (the ``classes`` entry of the module docstring) from checked annos."""
    pairs = ClassPairs(cls, gt_annos, pred_annos)
    m = pairs.matched
    iou_3d, iou_bev, errors = pairs.iou_3d(), pairs.iou_bev(), pairs.errors()
    everything = np.ones(m.shape, dtype=bool)
    budget: dict[str, Any] = {
        "n_gt": int(m.size), "n_pred": pairs.n_pred, "n_matched": int(m.sum()),
        "n_unmatched_pred": pairs.n_pred - int(m.sum()), "strict_iou": MIN_OVERLAP["strict"]["3d"][cls],
        "spearman_score_iou_3d": spearman(pairs.score[m], iou_3d[m]),
        "all": _group(everything, m, iou_3d, iou_bev, errors),
        "by_distance": {bin_name(b): _group((pairs.distance >= b[0]) & (pairs.distance < b[1]), m, iou_3d, iou_bev,
                                            errors) for b in DISTANCE_BINS},
        "by_occlusion": {str(level): _group(pairs.occlusion == level, m, iou_3d, iou_bev, errors)
                         for level in OCCLUSION_LEVELS},
        "by_truncation": {truncation_bin_name(b): _group(in_truncation_bin(pairs.truncation, b), m, iou_3d, iou_bev,
                                                         errors) for b in TRUNCATION_BINS},
    }
    budget["limits"] = limits(cls, budget, pairs.gt[m], pairs.pred[m], iou_3d[m])
    return budget


def budget_from_annos(gt_annos: Sequence[Mapping[str, np.ndarray]], pred_annos: Sequence[Mapping[str, np.ndarray]],
                      classes: Sequence[str] = EVAL_CLASSES) -> Budget:
    """The error budget (module docstring) of predictions ``pred_annos[f]`` against ground truth ``gt_annos[f]``
    (anno layout: :mod:`kitti.eval.annos`; predictions need scores). Raises :class:`kitti.errors.ArgumentError` on
    mismatched inputs."""
    if len(gt_annos) != len(pred_annos):
        raise ArgumentError(f"{len(gt_annos)} ground-truth frames but {len(pred_annos)} prediction frames")
    gts = [check_anno(a, f"ground-truth frame {f}", prediction=False) for f, a in enumerate(gt_annos)]
    preds = [check_anno(a, f"prediction frame {f}", prediction=True) for f, a in enumerate(pred_annos)]
    result: Budget = {"frames": len(gts), "pair_min_iou": PAIR_MIN_IOU,
                      "distance_bins": [bin_name(b) for b in DISTANCE_BINS], "classes": {}}
    for cls in dict.fromkeys(canonical_class(c) for c in classes):
        if any((np.char.lower(g["name"]) == cls.lower()).any() for g in gts):
            result["classes"][cls] = class_budget(cls, gts, preds)
    return result
