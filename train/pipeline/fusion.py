"""Final labels from two labellers (beyond ALPI): the learned pipeline's pseudo-labels and the geometric labeller's
fits (:mod:`kitti.geometric`), both computed from 2D boxes and points only.

Per 2D box, a confident geometric box (score >= ``min_fit_score``, the run's ``--fusion-min-score``) replaces the
learned box of the same class
whose 2D box it matches (IoU >= :data:`kitti.io.labels.PREV_MATCH_IOU`); every other learned box is kept.
Scores keep one ranking over the frame set: confident fits first (``0.5 + 0.5 * quality``), then the learned boxes
(``0.5 * score``), so a detector trained on the labels sees the most reliable boxes as the most confident.
With ``agreement_classes``, a geometric box of those classes that has a learned box for the same 2D box is first
rescored by their agreement, ``score * (1 - AGREEMENT_WEIGHT + AGREEMENT_WEIGHT * BEV IoU)``: two independent
estimates that agree are more likely right (the learned path's second opinion, worth it where its boxes are good).
Each published label file gets a sidecar ``<frame>.source.json``: the source of each line (``geometric`` or
``alpi``), which the review page shows.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Collection

import numpy as np

import ops
from kitti.atomic import atomic_write_text
from kitti.eval.pairing import pair_by_2d_iou
from kitti.io.labels import PREV_MATCH_IOU, ObjectLabel, format_label_line, read_pseudo_labels

#: fused score bands: confident geometric fits in [0.5, 1], learned boxes in [0, 0.5]
FIT_BAND, LEARNED_BAND = 0.5, 0.5
#: share of a geometric box's score that depends on its agreement with the learned box
AGREEMENT_WEIGHT = 0.5


#: columns of a KITTI box ``(x, y, z, h, w, l, ry)`` that make its BEV box ``(x, z, l, w, ry)``
BEV_COLUMNS = [0, 2, 5, 4, 6]


def agreement_rescored(learned: list[ObjectLabel], fits: list[ObjectLabel], pairs: dict[int, int],
                       classes: Collection[str]) -> list[ObjectLabel]:
    """``fits`` with the score of each fit of ``classes`` paired with a learned box scaled by their agreement
    (module docstring); the others unchanged."""
    partner = {j: i for i, j in pairs.items()}
    chosen = [j for j, fit in enumerate(fits) if fit.type in classes and j in partner and fit.score is not None]
    out = list(fits)
    if not chosen:
        return out
    agreement = ops.iou_bev_pairs(np.array([fits[j].box3d[BEV_COLUMNS] for j in chosen]),
                                  np.array([learned[partner[j]].box3d[BEV_COLUMNS] for j in chosen]))
    for j, a in zip(chosen, np.asarray(agreement, np.float64)):
        out[j] = replace(fits[j], score=fits[j].score * (1 - AGREEMENT_WEIGHT + AGREEMENT_WEIGHT * float(a)))
    return out


def _pairs(learned: list[ObjectLabel], fits: list[ObjectLabel]) -> dict[int, int]:
    """One-to-one pairs ``{learned index: fit index}`` of the same class whose 2D boxes overlap with IoU >=
    ``PREV_MATCH_IOU``, the most overlapping pairs first (:func:`kitti.eval.pairing.pair_by_2d_iou`): each box
    stands for its own 2D label, so a fit never displaces the learned box of a neighbouring, overlapping 2D box."""
    pairs: dict[int, int] = {}
    for cls in {label.type for label in learned}:
        mine = [i for i, label in enumerate(learned) if label.type == cls]
        theirs = [j for j, fit in enumerate(fits) if fit.type == cls]
        if not theirs:
            continue
        rows, cols = pair_by_2d_iou(np.array([learned[i].box2d for i in mine], np.float64).reshape(-1, 4),
                                    np.array([fits[j].box2d for j in theirs], np.float64).reshape(-1, 4),
                                    PREV_MATCH_IOU)
        pairs.update({mine[r]: theirs[c] for r, c in zip(rows, cols)})
    return pairs


def fuse_frame(learned: list[ObjectLabel], fits: list[ObjectLabel], min_fit_score: float,
               agreement_classes: Collection[str] = ()) -> list[tuple[ObjectLabel, str]]:
    """``(label, source)`` pairs of one frame: confident fits (score >= ``min_fit_score``) in place of the learned
    boxes of their 2D boxes, the other learned boxes with their score scaled into the lower band, and a fit of a 2D
    box that has no learned box kept whatever its score (in the band of its confidence). Scores of both inputs lie
    in [0, 1]. ``agreement_classes``: see the module docstring."""
    pairs = _pairs(learned, fits)
    fits = agreement_rescored(learned, fits, pairs, agreement_classes)
    confident = {j for j, fit in enumerate(fits) if fit.score is not None and fit.score >= min_fit_score}
    fused: list[tuple[ObjectLabel, str]] = []
    for i, label in enumerate(learned):
        if pairs.get(i) not in confident:
            fused.append((replace(label, score=LEARNED_BAND * float(label.score or 0.0)), "alpi"))
    paired = set(pairs.values())
    for j, fit in enumerate(fits):
        if j in confident:
            fused.append((replace(fit, score=FIT_BAND + (1 - FIT_BAND) * float(fit.score)), "geometric"))
        elif j not in paired:
            fused.append((replace(fit, score=LEARNED_BAND * float(fit.score or 0.0)), "geometric"))
    return fused


def publish_fused(learned_dir: Path, fits_dir: Path | None, target: Path, min_fit_score: float,
                  agreement_classes: Collection[str] = ()) -> dict[str, int]:
    """Write the final label files of every frame of ``learned_dir`` into ``target`` (atomically, stale files
    removed), fused with the fits in ``fits_dir`` when given; returns the count of boxes per source."""
    target.mkdir(parents=True, exist_ok=True)
    names = sorted(path.name for path in learned_dir.glob("*.txt"))
    for stale in target.glob("*.txt"):
        if stale.name not in names:
            stale.unlink()
            stale.with_suffix(".source.json").unlink(missing_ok=True)
    counts = {"alpi": 0, "geometric": 0}
    for name in names:
        frame = int(Path(name).stem)
        learned = read_pseudo_labels(learned_dir, frame)
        if fits_dir is None:
            pairs = [(label, "alpi") for label in learned]
        else:
            pairs = fuse_frame(learned, read_pseudo_labels(fits_dir, frame), min_fit_score, agreement_classes)
        for _, source in pairs:
            counts[source] += 1
        atomic_write_text(target / name, "".join(format_label_line(label) + "\n" for label, _ in pairs))
        atomic_write_text(target / f"{Path(name).stem}.source.json", json.dumps([s for _, s in pairs]) + "\n")
    print(f"final pseudo-labels: {len(names)} files in {target}; boxes by source {counts}")
    return counts
