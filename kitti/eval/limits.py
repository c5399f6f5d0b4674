"""What limits a label set: the one error whose removal would gain the most, computed from the error budget.

The figure of merit is the *strict recall* of a class: the share of its ground-truth boxes that get a paired label
with 3D IoU ``>=`` the strict threshold (Car 0.7, Pedestrian / Cyclist 0.5), i.e. coverage x share of the matched
pairs above it. Each candidate limit has a gain, the strict recall it would add:

* ``coverage``: the unmatched boxes labelled as well as the matched ones, ``(1 - coverage) x share``;
* an error factor of :data:`kitti.eval.box_errors.FACTORS` (depth, lateral, height, size, heading): the matched
  boxes with that error removed (:func:`kitti.eval.box_errors.remove_error`), 3D IoU recomputed,
  ``coverage x (share_fixed - share)``.

Ties, and factors with no recall gain, are ordered by the gain in mean 3D IoU over all ground-truth boxes (unmatched
ones counting 0). The limit is the factor of largest gain; its text names the distance bin where that error is
largest (among bins holding at least 10 % of the pairs), as a median bias when the bias is at least half the median
absolute error there, else as a spread.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

import ops
from kitti.eval.box_errors import FACTORS, remove_error

#: the share of pairs (or boxes) a distance bin needs to be named in a limit's text
MIN_BIN_SHARE = 0.1
#: error factor -> (budget key, unit, number format) of its description
_ERRORS = {"depth": ("depth_m", " m", ".2f"), "lateral": ("lateral_m", " m", ".2f"),
           "height": ("height_m", " m", ".2f"), "heading": ("heading_mod_pi_deg", " deg (mod 180)", ".1f")}
_RATIO_NAMES = {"l_ratio": "length", "w_ratio": "width", "h_ratio": "height"}


def _bins(budget: Mapping[str, Any], count: str) -> list[tuple[str, Mapping[str, Any]]]:
    """Distance bins whose ``count`` (a function of the group) reaches :data:`MIN_BIN_SHARE` of the total."""
    groups = list(budget["by_distance"].items())
    total = sum(_count(group, count) for _, group in groups)
    return [(name, group) for name, group in groups if _count(group, count) >= max(1.0, MIN_BIN_SHARE * total)]


def _count(group: Mapping[str, Any], count: str) -> int:
    return group["n_gt"] if count == "n_gt" else group["errors"][count]["n"]


def _worst_bin(budget: Mapping[str, Any], key: str) -> tuple[str, Mapping[str, Any]]:
    """The distance bin (name, stats of ``key``) of largest median absolute error among the well-filled ones."""
    candidates = _bins(budget, key)
    name, group = max(candidates, key=lambda item: item[1]["errors"][key]["median_abs"])
    return name, group["errors"][key]


def _describe_error(budget: Mapping[str, Any], factor: str) -> str:
    """A median bias or a spread of an offset (metres) or of the heading modulo 180 degrees (a front/back flip leaves
    a box's IoU unchanged), in the distance bin where it is largest."""
    key, unit, spec = _ERRORS[factor]
    name, s = _worst_bin(budget, key)
    if abs(s["median"]) >= 0.5 * s["median_abs"]:
        return f"{factor} {s['median']:+{spec}}{unit} median bias at {name}"
    return f"{factor} spread, median |error| {s['median_abs']:{spec}}{unit} at {name}"


def _describe_size(budget: Mapping[str, Any]) -> str:
    overall = budget["all"]["errors"]
    key = max(_RATIO_NAMES, key=lambda k: overall[k]["median_abs"])
    name, s = _worst_bin(budget, key)
    return f"{_RATIO_NAMES[key]} ratio {s['median']:.2f} median at {name}"


def _describe_coverage(budget: Mapping[str, Any]) -> str:
    text = f"coverage {budget['all']['coverage']:.2f}"
    bins = _bins(budget, "n_gt")
    if bins:
        name, group = min(bins, key=lambda item: item[1]["coverage"])
        text += f" (lowest {group['coverage']:.2f} at {name})"
    return text


def limits(cls: str, budget: Mapping[str, Any], gt: np.ndarray, pred: np.ndarray,
           iou_3d: np.ndarray) -> dict[str, Any]:
    """The limit of one class (module docstring): ``{"threshold", "recall", "gains": {factor: recall gain},
    "factor": name or None, "text"}``. ``budget`` is the class's budget without ``limits``; ``gt`` / ``pred`` the
    matched pairs' KITTI boxes ``(K, 7)`` and ``iou_3d`` their 3D IoU ``(K,)``."""
    threshold = budget["strict_iou"]
    n_gt = budget["n_gt"]
    coverage = budget["n_matched"] / n_gt
    share = float(np.mean(iou_3d >= threshold)) if iou_3d.size else 0.0
    mean_iou = float(np.mean(iou_3d)) if iou_3d.size else 0.0
    recall = coverage * share
    gains = {"coverage": ((1 - coverage) * share, (1 - coverage) * mean_iou)}
    for factor in FACTORS:
        fixed = ops.iou_3d_pairs(remove_error(gt, pred, factor), gt) if len(gt) else np.zeros(0)
        gains[factor] = (coverage * (float(np.mean(fixed >= threshold)) - share) if len(gt) else 0.0,
                         coverage * (float(np.mean(fixed)) - mean_iou) if len(gt) else 0.0)
    out: dict[str, Any] = {"threshold": threshold, "recall": recall,
                           "gains": {factor: gain[0] for factor, gain in gains.items()}}
    if budget["n_matched"] == 0:
        out.update(factor="coverage", text=f"{cls}: coverage 0.00 (no ground-truth box has a paired label)")
        return out
    factor = max(gains, key=lambda f: (round(gains[f][0], 9), gains[f][1]))
    if gains[factor][0] <= 1e-9 and gains[factor][1] <= 1e-9:
        out.update(factor=None, text=f"{cls}: no single error limits (strict recall {recall:.2f} at 3D IoU >= "
                                     f"{threshold:g})")
        return out
    if factor == "coverage":
        description = _describe_coverage(budget)
    elif factor == "size":
        description = _describe_size(budget)
    else:
        description = _describe_error(budget, factor)
    out.update(factor=factor, text=f"{cls}: {description} (removing it: recall at 3D IoU >= {threshold:g} "
                                   f"{recall:.2f} -> {recall + gains[factor][0]:.2f})")
    return out
