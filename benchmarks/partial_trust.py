"""Calibrates ``PARTIAL_TRUST`` of :mod:`kitti.geometric.score` on synthetic worlds.

    .venv/bin/python benchmarks/partial_trust.py --world W0 [--world W1 ...] [--split trainval]

A car box whose length the points did not show (a partial view: the prior mean length stands in) reaches 3D IoU
>= 0.7 less often than a box whose length was fitted. Labels each world's frames with the geometric labeller, pairs
every fitted Car box with the world's ground truth (the same 2D box), and prints per distance bin the share at
3D IoU >= 0.7 of partial and of fitted-length boxes and their ratio; the mean ratio over bins and worlds is the trust
a partial box keeps. Distance bins keep the comparison fair: partial views are more frequent far away, where every
box is worse. Synthetic worlds only: their 3D ground truth is ours to use; real frames stay a validation set.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import ops
from kitti.geometric.labeller import label_frame
from kitti.geometric.run import frame_inputs
from kitti.io.dataset import KittiDataset, read_split
from kitti.io.labels import read_labels
from kitti.priors import MEAN_SIZE

#: distance bins (metres, BEV range of the ground-truth box)
DISTANCE_EDGES = (20.0, 40.0)
IOU_THRESHOLD = 0.7


def world_rows(root: Path, split: str) -> np.ndarray:
    """``(N, 3)`` rows ``(partial, distance m, 3D IoU)`` of the fitted Car boxes of one world."""
    dataset = KittiDataset(str(root))
    rows = []
    for frame in read_split(root / "ImageSets" / f"{split}.txt"):
        truth = {tuple(o.box2d): o for o in read_labels(dataset.path("label_2", frame)) if o.type == "Car"}
        for result in label_frame(frame_inputs(dataset, frame)):
            gt = truth.get(tuple(result.label.box2d))
            if result.class_name != "Car" or result.source != "fit" or gt is None:
                continue
            h, w, l = gt.dims
            gt_box = np.array([*gt.location, h, w, l, gt.ry])
            iou = float(ops.iou_3d(gt_box[None], result.box[None])[0, 0])
            partial = float(result.box[5]) == MEAN_SIZE["Car"][0]
            rows.append((float(partial), float(np.hypot(gt.location[0], gt.location[2])), iou))
    return np.array(rows).reshape(-1, 3)


def bin_ratios(rows: np.ndarray) -> list[tuple[str, int, float, int, float, float]]:
    """Per distance bin: (name, n fitted, share fitted, n partial, share partial, ratio partial / fitted)."""
    out = []
    bins = np.digitize(rows[:, 1], DISTANCE_EDGES)
    edges = (0.0,) + DISTANCE_EDGES + (float("inf"),)
    for b in range(len(edges) - 1):
        fitted = (bins == b) & (rows[:, 0] == 0)
        partial = (bins == b) & (rows[:, 0] == 1)
        if fitted.sum() == 0 or partial.sum() == 0:
            continue
        share_f = float(np.mean(rows[fitted, 2] >= IOU_THRESHOLD))
        share_p = float(np.mean(rows[partial, 2] >= IOU_THRESHOLD))
        out.append((f"{edges[b]:.0f}-{edges[b + 1]:.0f} m", int(fitted.sum()), share_f, int(partial.sum()), share_p,
                    share_p / max(share_f, 1e-6)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, action="append", required=True, help="a synthetic world root")
    parser.add_argument("--split", default="trainval", help="split of each world (default trainval)")
    args = parser.parse_args()
    print("| world | distance | fitted n | fitted >= 0.7 | partial n | partial >= 0.7 | ratio |")
    print("|---|---|---|---|---|---|---|")
    ratios = []
    for root in args.world:
        for name, n_f, share_f, n_p, share_p, ratio in bin_ratios(world_rows(root, args.split)):
            ratios.append(ratio)
            print(f"| {root.name} | {name} | {n_f} | {share_f:.2f} | {n_p} | {share_p:.2f} | {ratio:.2f} |")
    print(f"\nPARTIAL_TRUST (mean ratio over {len(ratios)} bins): {np.mean(ratios):.2f} "
          f"(spread {np.min(ratios):.2f}-{np.max(ratios):.2f})")


if __name__ == "__main__":
    main()
