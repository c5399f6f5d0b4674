"""Greedy GT/detection matching and the per-threshold TP/FP counts of the KITTI protocol (numba kernels).

All frames of one (class, difficulty) are passed flattened. For frame ``f`` the kept ground-truth objects are
``gt_off[f]:gt_off[f+1]`` and the kept detections ``dt_off[f]:dt_off[f+1]`` (frame order preserved; objects the
protocol skips entirely, flag -1, may be left out). Overlaps come from the frame's overlap matrix:
``ov[ov_off[f] + dt_row[j] * ov_cols[f] + gt_col[i]]``.

Flags follow the devkit: ``ign_gt`` is 0 for a valid GT box, 1 for an ignored one (outside the difficulty limits or
a neighbour class), -1 for other classes; ``ign_dt`` is 0 for a detection of the class, 1 for any detection lower
than the minimum height (ignored, may still absorb a match), -1 otherwise.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from kitti.eval.overlaps import OVER_FIRST, box_overlap
from kitti.eval.protocol import N_SAMPLE_PTS

_NO_DETECTION = -10000000.0


@numba.njit(cache=True)
def _match_frame(f, ov, ov_off, ov_cols, gt_off, gt_col, ign_gt, gt_alpha, dt_off, dt_row, ign_dt, dt_alpha,
                 dt_score, dt_box, dc_off, dc_box, use_dontcare, min_overlap, thresh, compute_fp, assigned,
                 tp_scores):
    """Match one frame. Score mode (``compute_fp`` False): each GT takes the highest-scoring detection with overlap
    > ``min_overlap``, TP scores are written to ``tp_scores``. Count mode: detections scoring below ``thresh`` are
    dropped and each GT takes the non-ignored detection of highest overlap (an ignored one only when nothing else
    overlaps). Returns ``(tp, fp, similarity)``; similarity is the AOS sum of ``(1 + cos(delta alpha)) / 2``."""
    g0, d0 = gt_off[f], dt_off[f]
    n_gt, n_dt = gt_off[f + 1] - g0, dt_off[f + 1] - d0
    base, cols = ov_off[f], ov_cols[f]
    for j in range(n_dt):
        assigned[j] = False
    tp = 0
    fp = 0
    similarity = 0.0
    for i in range(n_gt):
        gi = ign_gt[g0 + i]
        if gi == -1:
            continue
        det = -1
        valid = _NO_DETECTION
        max_overlap = 0.0
        took_ignored = False
        for j in range(n_dt):
            dj = ign_dt[d0 + j]
            if dj == -1 or assigned[j]:
                continue
            score = dt_score[d0 + j]
            if compute_fp and score < thresh:
                continue
            overlap = ov[base + dt_row[d0 + j] * cols + gt_col[g0 + i]]
            if overlap <= min_overlap:
                continue
            if not compute_fp:
                if score > valid:
                    det = j
                    valid = score
            elif (overlap > max_overlap or took_ignored) and dj == 0:
                max_overlap = overlap
                det = j
                valid = 1.0
                took_ignored = False
            elif valid == _NO_DETECTION and dj == 1:
                det = j
                valid = 1.0
                took_ignored = True
        if det == -1:
            continue  # an unmatched valid GT is a false negative; the counts below do not need it
        assigned[det] = True
        if gi == 1 or ign_dt[d0 + det] == 1:
            continue
        if not compute_fp:
            tp_scores[tp] = dt_score[d0 + det]
        else:
            similarity += (1.0 + math.cos(gt_alpha[g0 + i] - dt_alpha[d0 + det])) / 2.0
        tp += 1
    if compute_fp:
        for j in range(n_dt):
            if assigned[j] or ign_dt[d0 + j] != 0 or dt_score[d0 + j] < thresh:
                continue
            fp += 1
            if use_dontcare:
                for k in range(dc_off[f], dc_off[f + 1]):
                    if box_overlap(dt_box[d0 + j], dc_box[k], OVER_FIRST) > min_overlap:
                        fp -= 1
                        break
    return tp, fp, similarity


@numba.njit(cache=True)
def score_thresholds(tp_scores: np.ndarray, n_valid_gt: int) -> np.ndarray:
    """Scores at which the recall steps by about 1/40 (devkit ``getThresholds``), highest first.

    With fewer than 40 valid GT boxes every TP score becomes a threshold."""
    scores = np.sort(tp_scores)[::-1]
    n = scores.shape[0]
    out = np.empty(n)
    count = 0
    current_recall = 0.0
    for i in range(n):
        l_recall = (i + 1) / n_valid_gt
        r_recall = (i + 2) / n_valid_gt if i < n - 1 else l_recall
        if (r_recall - current_recall) < (current_recall - l_recall) and i < n - 1:
            continue
        out[count] = scores[i]
        count += 1
        current_recall += 1 / (N_SAMPLE_PTS - 1.0)
    return out[:count]


@numba.njit(cache=True)
def precision_curve(ov: np.ndarray, ov_off: np.ndarray, ov_cols: np.ndarray, gt_off: np.ndarray, gt_col: np.ndarray,
                    ign_gt: np.ndarray, gt_alpha: np.ndarray, dt_off: np.ndarray, dt_row: np.ndarray,
                    ign_dt: np.ndarray, dt_alpha: np.ndarray, dt_score: np.ndarray, dt_box: np.ndarray,
                    dc_off: np.ndarray, dc_box: np.ndarray, use_dontcare: bool,
                    min_overlap: float) -> tuple[np.ndarray, np.ndarray]:
    """Monotone precision and AOS-similarity curves (``N_SAMPLE_PTS`` entries each, unfilled tail 0).

    Arrays as in the module docstring; ``dt_box`` / ``dc_box`` are ``(K, 4)`` 2D boxes of the kept detections and of
    the DontCare regions (frame ``f``'s: ``dc_off[f]:dc_off[f+1]``), tested only when ``use_dontcare`` (2D metric).

    Entry ``t`` is measured at the ``t``-th score threshold and then replaced by its maximum over ``t..end``. Where a
    threshold has no TP and no FP (the reference divides 0 by 0 there) the entry is 0.
    """
    n_frames = gt_off.shape[0] - 1
    max_dt = 1
    for f in range(n_frames):
        max_dt = max(max_dt, dt_off[f + 1] - dt_off[f])
    assigned = np.zeros(max_dt, dtype=np.bool_)
    all_tp = np.empty(gt_off[-1])
    n_tp = 0
    for f in range(n_frames):
        tp, _, _ = _match_frame(f, ov, ov_off, ov_cols, gt_off, gt_col, ign_gt, gt_alpha, dt_off, dt_row, ign_dt,
                                dt_alpha, dt_score, dt_box, dc_off, dc_box, use_dontcare, min_overlap, 0.0, False,
                                assigned, all_tp[n_tp:])
        n_tp += tp
    n_valid_gt = 0
    for i in range(ign_gt.shape[0]):
        if ign_gt[i] == 0:
            n_valid_gt += 1
    precision = np.zeros(N_SAMPLE_PTS)
    aos = np.zeros(N_SAMPLE_PTS)
    if n_tp == 0:
        return precision, aos
    # at most one threshold per 1/40 recall step; the slice only guards the fixed-size curves below
    thresholds = score_thresholds(all_tp[:n_tp], n_valid_gt)[:N_SAMPLE_PTS]
    counts = np.zeros((thresholds.shape[0], 3))
    for f in range(n_frames):
        top = -np.inf
        for j in range(dt_off[f], dt_off[f + 1]):
            if ign_dt[j] != -1:
                top = max(top, dt_score[j])
        for t in range(thresholds.shape[0]):
            if thresholds[t] > top:
                continue  # every detection of the frame is below this threshold: nothing to count
            tp, fp, similarity = _match_frame(f, ov, ov_off, ov_cols, gt_off, gt_col, ign_gt, gt_alpha, dt_off,
                                              dt_row, ign_dt, dt_alpha, dt_score, dt_box, dc_off, dc_box,
                                              use_dontcare, min_overlap, thresholds[t], True, assigned, all_tp)
            counts[t, 0] += tp
            counts[t, 1] += fp
            counts[t, 2] += similarity
    for t in range(thresholds.shape[0]):
        denom = counts[t, 0] + counts[t, 1]
        if denom > 0:
            precision[t] = counts[t, 0] / denom
            aos[t] = counts[t, 2] / denom
    for t in range(N_SAMPLE_PTS - 2, -1, -1):
        precision[t] = max(precision[t], precision[t + 1])
        aos[t] = max(aos[t], aos[t + 1])
    return precision, aos
