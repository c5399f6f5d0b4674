"""Which way the boxes point, per source: the geometric labeller's fits, the learned pseudo-labels, and the fits
turned by the learned heading (evaluation only).

    python benchmarks/direction_sources.py --gt-dir DATA/training/label_2 --fits OUTPUT/geometric_labels \\
        --learned OUTPUT/carpedcyc_train_refine/_last_train/data --split DATA/ImageSets/train.txt

A geometric fit knows its length axis; its direction (front end) comes from the car's profile, an end-on car's
cabin recess, or else the road-side prior (:func:`kitti.geometric.direction.orient`). The learned detector predicts
headings over 2 pi. Each fit is paired with the learned box of the same class and 2D box (2D IoU >= 0.5, one to one,
as the fusion pairs them: :data:`kitti.io.labels.PREV_MATCH_IOU`) and with the ground-truth object of its 2D box
(IoU >= 0.7, the error budget's pairing). Over the fits that have both, per class, it prints the share pointing the
right way (heading error below 90 deg, rect frame, over 2 pi) of

- ``geometric``: the fits as labelled; ``learned``: the paired learned boxes;
- ``flip all >= s``: each fit turned by pi where the learned heading differs from it by more than 90 deg and the
  learned box scores at least ``s``;
- ``flip road >= s``: the same, only for fits whose direction is the road-side prior's (no shape cue overruled it;
  the labeller writes no field saying which cue decided, so this is recomputed from the fit's position and axis);

with the number of fits each rule turns and the share of those turns that are right. Ground-truth 3D boxes are read
here for reporting only; nothing is selected with them.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from kitti.eval.pairing import pair_by_2d_iou
from kitti.geometric.direction import road_side_direction
from kitti.geometry import wrap_angle
from kitti.io.dataset import read_split
from kitti.io.labels import PREV_MATCH_IOU, ObjectLabel, read_labels
from kitti.priors import CLASSES

#: learned-score thresholds of the flip rules
SCORE_THRESHOLDS = (0.0, 0.2, 0.4)
RIGHT = np.pi / 2


@dataclass(frozen=True)
class FitRow:
    """One fit with a learned partner and a ground-truth object: directions right (bool), and the rule inputs."""

    geometric_right: bool
    learned_right: bool
    disagree: bool
    road_side: bool
    learned_score: float


def _boxes(labels: Sequence[ObjectLabel]) -> np.ndarray:
    return np.array([label.box2d for label in labels], np.float64).reshape(-1, 4)


def _right(ry: float, truth: float) -> bool:
    return bool(abs(float(wrap_angle(ry - truth))) < RIGHT)


def frame_rows(fits: list[ObjectLabel], learned: list[ObjectLabel], truth: list[ObjectLabel], cls: str) -> list[FitRow]:
    """The :class:`FitRow` of each fit of class ``cls`` paired with a learned box and a ground-truth object."""
    fits, learned, truth = ([x for x in xs if x.type == cls] for xs in (fits, learned, truth))
    gt_rows, fit_cols = pair_by_2d_iou(_boxes(truth), _boxes(fits))
    fit_rows, learned_cols = pair_by_2d_iou(_boxes(fits), _boxes(learned), PREV_MATCH_IOU)
    partner = dict(zip(fit_rows.tolist(), learned_cols.tolist()))
    rows = []
    for g, j in zip(gt_rows.tolist(), fit_cols.tolist()):
        if j not in partner:
            continue
        fit, box, gt = fits[j], learned[partner[j]], truth[g]
        prior = road_side_direction(cls, float(fit.location[0]), float(fit.ry))
        rows.append(FitRow(_right(fit.ry, gt.ry), _right(box.ry, gt.ry), not _right(box.ry, fit.ry),
                           abs(float(wrap_angle(prior - fit.ry))) < 1e-6, float(box.score or 0.0)))
    return rows


def summary(rows: list[FitRow]) -> str:
    """One line: the shares of :func:`main`'s table for ``rows``."""
    geo = np.array([r.geometric_right for r in rows])
    line = f"n {len(rows):4d}  geometric {geo.mean():.3f}  learned {np.mean([r.learned_right for r in rows]):.3f}"
    for name, road_only in (("flip all", False), ("flip road", True)):
        for s in SCORE_THRESHOLDS:
            turn = np.array([r.disagree and r.learned_score >= s and (r.road_side or not road_only) for r in rows])
            after = np.where(turn, ~geo, geo)
            turned_right = f"{np.mean(~geo[turn]):.2f}" if turn.any() else "-"
            line += f"  | {name} >= {s:g}: {after.mean():.3f} ({int(turn.sum())} turned, {turned_right} right)"
    return line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gt-dir", type=Path, required=True, help="ground-truth label_2 directory")
    parser.add_argument("--fits", type=Path, required=True, help="the geometric labeller's labels")
    parser.add_argument("--learned", type=Path, required=True, help="learned pseudo-labels (KITTI with scores)")
    parser.add_argument("--split", type=Path, required=True, help="file of frame ids (the labelled frames)")
    args = parser.parse_args(argv)
    rows: dict[str, list[FitRow]] = {cls: [] for cls in CLASSES}
    for frame in read_split(args.split):
        name = f"{frame:06d}.txt"
        fits, learned = (read_labels(d / name, inverted_ok=True) if (d / name).is_file() else []
                         for d in (args.fits, args.learned))
        truth = read_labels(args.gt_dir / name)
        for cls in CLASSES:
            rows[cls].extend(frame_rows(fits, learned, truth, cls))
    for cls in CLASSES:
        if rows[cls]:
            print(f"{cls:10s} {summary(rows[cls])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
