"""How often the step-0 slice labels call a real object's true position background (evaluation only).

    python benchmarks/window_coverage_bench.py --data DATA --frustums STEP/frustums_train.npz [--config C]
        [KEY=VALUE ...]

For every real sample of a weak step-0 frustum set: the slice label (:class:`train.frustum_dataset.FrustumDataset`,
no augmentation, config ``--config`` + overrides such as ``data.window_band=0``) of the scale-2 reference centre
nearest to the true box centre (label_2 line ``label_line``, read here for reporting only). Prints, per class and by
true depth (0-20, 20-30, 30-40, 40+ m), the share of samples whose true position is labelled negative (0).
``--fixed-window`` replaces each stored window by the fixed legacy one of its annotated 2D box
(:func:`kitti.priors.depth_window` with ``relative=False``), for a before/after comparison on the same samples.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from kitti.frustum.store import KIND_REAL, FrustumSet
from kitti.io.dataset import KittiDataset
from kitti.priors import CLASSES, depth_window
from train.box_coding import kitti_to_frustum
from train.config import load_config
from train.frustum_dataset import FrustumDataset

BINS = ((0, 20), (20, 30), (30, 40), (40, 1000))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--frustums", type=Path, required=True)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--fixed-window", action="store_true", help="use the fixed legacy depth window")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    args = parser.parse_args()
    cfg = load_config(args.config, args.overrides)
    frustums = FrustumSet.load(args.frustums)
    if args.fixed_window:
        a = frustums.arrays
        for i in range(len(frustums)):
            height = float(a["box2d_target"][i, 3] - a["box2d_target"][i, 1])
            a["depth_window"][i] = depth_window(CLASSES[a["class_id"][i]], height, float(a["P2"][i, 1, 1]))
    dataset = FrustumDataset(frustums, cfg.data, "weak")
    kitti = KittiDataset(args.data)
    a = frustums.arrays
    rows: list[tuple[int, float, bool]] = []
    for i in np.flatnonzero(a["kind"] == KIND_REAL):
        gt = kitti.labels(int(a["frame_id"][i]))[int(a["label_line"][i]) - 1].box3d
        item = dataset[int(i)]
        centre, _, _ = kitti_to_frustum(gt, float(item["frustum_angle"]))
        refs = item["ref1"].numpy().T
        nearest = int(np.argmin(np.linalg.norm(refs - centre[None], axis=1)))
        rows.append((int(a["class_id"][i]), float(gt[2]), int(item["cls_label"][nearest]) == 0))
    cls, depth, negative = (np.array(v) for v in zip(*rows))
    print(f"{args.frustums}: {'fixed' if args.fixed_window else 'stored'} window, "
          f"data.window_margin={cfg.data.window_margin} data.window_band={cfg.data.window_band}")
    for c, name in enumerate(CLASSES):
        sel = cls == c
        if not sel.any():
            continue
        cells = []
        for lo, hi in BINS:
            b = sel & (depth >= lo) & (depth < hi)
            cells.append(f"{lo}-{hi if hi < 1000 else ''} m: {negative[b].mean():.3f} ({b.sum()})" if b.any()
                         else f"{lo}- m: -")
        print(f"{name:<10} true position labelled negative: {negative[sel].mean():.3f} of {sel.sum()}  |  "
              + "  ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
