"""Calibrates the trust factors of :mod:`kitti.geometric.score` on synthetic worlds: ``PARTIAL_TRUST`` and
``OCCLUSION_TRUST``.

    .venv/bin/python benchmarks/score_trust.py --world W0 [--world W1 ...] [--split trainval]

A trust factor is how often a kind of box is good relative to a reference box at the same distance: labels each
world's frames with the geometric labeller, pairs every fitted box with the world's ground truth (the same 2D box),
and per distance bin takes the share at 3D IoU >= the class threshold (0.7 Car, 0.5 people) of

- Car boxes whose length the points did not show (partial views: the prior mean stands in) against those whose length
  was fitted: ``PARTIAL_TRUST``;
- boxes of each class whose 2D label has occlusion level 1, 2, 3 against level 0: ``OCCLUSION_TRUST``.

The factor is the mean ratio over the bins with at least :data:`MIN_BOXES` boxes on both sides, over all worlds.
Distance bins keep the comparison fair: partial and occluded views are more frequent far away, where every box is
worse. Synthetic worlds only: their 3D ground truth is ours to use; real frames stay a validation set.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import ops
from kitti.geometric.labeller import label_frame
from kitti.geometric.run import frame_inputs
from kitti.io.dataset import KittiDataset, read_split
from kitti.io.labels import read_labels
from kitti.priors import CLASSES, MEAN_SIZE

#: distance bins (metres, BEV range of the ground-truth box)
DISTANCE_EDGES = (20.0, 40.0)
IOU_THRESHOLD = {"Car": 0.7, "Pedestrian": 0.5, "Cyclist": 0.5}
#: fewest boxes on each side of a ratio for its bin to count
MIN_BOXES = 20


@dataclass(frozen=True)
class FitRow:
    """One fitted box paired with its ground truth: class, 2D label occlusion level, partial length, BEV range of
    the ground truth (metres), 3D IoU."""

    class_name: str
    occlusion: int
    partial: bool
    distance: float
    iou: float


def world_rows(root: Path, split: str) -> list[FitRow]:
    """The fitted boxes (``source == "fit"``) of one world, paired with its ground truth by 2D box."""
    dataset = KittiDataset(str(root))
    rows = []
    for frame in read_split(root / "ImageSets" / f"{split}.txt"):
        truth = {(o.type, tuple(o.box2d)): o for o in read_labels(dataset.path("label_2", frame))}
        for result in label_frame(frame_inputs(dataset, frame)):
            gt = truth.get((result.class_name, tuple(result.label.box2d)))
            if result.source != "fit" or gt is None:
                continue
            iou = float(ops.iou_3d(gt.box3d[None], result.box[None])[0, 0])
            partial = result.class_name == "Car" and float(result.box[5]) == MEAN_SIZE["Car"][0]
            rows.append(FitRow(result.class_name, gt.occlusion, partial, float(np.hypot(gt.location[0],
                                                                                        gt.location[2])), iou))
    return rows


def bin_ratios(rows: list[FitRow], test: np.ndarray, reference: np.ndarray,
               threshold: float) -> list[tuple[str, int, float, int, float, float]]:
    """Per distance bin with >= :data:`MIN_BOXES` boxes on both sides: (bin, n reference, share reference, n test,
    share test, ratio test / reference); ``test`` and ``reference`` are bool masks over ``rows``."""
    distance = np.array([r.distance for r in rows])
    good = np.array([r.iou for r in rows]) >= threshold
    bins = np.digitize(distance, DISTANCE_EDGES)
    edges = (0.0,) + DISTANCE_EDGES + (float("inf"),)
    out = []
    for b in range(len(edges) - 1):
        ref, tst = reference & (bins == b), test & (bins == b)
        if min(int(ref.sum()), int(tst.sum())) < MIN_BOXES:
            continue
        share_r, share_t = float(good[ref].mean()), float(good[tst].mean())
        out.append((f"{edges[b]:.0f}-{edges[b + 1]:.0f} m", int(ref.sum()), share_r, int(tst.sum()), share_t,
                    share_t / max(share_r, 1e-6)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, action="append", required=True, help="a synthetic world root")
    parser.add_argument("--split", default="trainval", help="split of each world (default trainval)")
    args = parser.parse_args()
    rows = {root.name: world_rows(root, args.split) for root in args.world}
    factors: dict[str, list[float]] = {}
    print("| factor | world | distance | reference n | reference good | test n | test good | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for world, world_boxes in rows.items():
        cls = np.array([r.class_name for r in world_boxes])
        occ = np.array([r.occlusion for r in world_boxes])
        fitted_car = (cls == "Car") & ~np.array([r.partial for r in world_boxes])
        tests = {"PARTIAL_TRUST Car": ((cls == "Car") & ~fitted_car, fitted_car, IOU_THRESHOLD["Car"])}
        for name in CLASSES:
            for level in (1, 2, 3):
                tests[f"OCCLUSION_TRUST {name} level {level}"] = ((cls == name) & (occ == level),
                                                                  (cls == name) & (occ == 0), IOU_THRESHOLD[name])
        for factor, (test, reference, threshold) in tests.items():
            for name, n_r, share_r, n_t, share_t, ratio in bin_ratios(world_boxes, test, reference, threshold):
                factors.setdefault(factor, []).append(ratio)
                print(f"| {factor} | {world} | {name} | {n_r} | {share_r:.2f} | {n_t} | {share_t:.2f} | {ratio:.2f} |")
    print()
    for factor, ratios in factors.items():
        print(f"{factor}: {np.mean(ratios):.2f} (mean of {len(ratios)} bins, spread {np.min(ratios):.2f}-"
              f"{np.max(ratios):.2f})")


if __name__ == "__main__":
    main()
