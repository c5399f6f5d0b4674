"""Val 3D AP of one checkpoint under other inference settings (score formula, depth-window restriction).

    python benchmarks/inference_ablation_bench.py --data DATA --weights STEP/model_final.pth \\
        --frustums STEP/frustums_val.npz --output DIR [--split val] [KEY=VALUE ...]

Overrides (e.g. ``test.score=fg``, ``test.window=false``, ``data.window_band=0``) replace the checkpoint's settings;
boxes are predicted with method ``top`` exactly as :func:`train.inference.run` does, written to ``DIR/data`` and
evaluated against ``<data>/training/label_2`` (evaluation only). Prints 3D AP R40 moderate at the strict (Car 0.7,
people 0.5) and loose (Car 0.5, people 0.25) thresholds per class.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from kitti.eval import evaluate_dirs
from kitti.frustum.store import FrustumSet
from kitti.io.dataset import KittiDataset
from kitti.io.labels import PREDICTION_DECIMALS, write_labels
from kitti.priors import CLASSES
from train.config import apply_override, config_from_dict
from train.inference import frame_labels, load_model, predict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--frustums", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--split", default="val")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    args = parser.parse_args()
    model, cfg, _ = load_model(args.weights, torch.device("cpu"))
    raw = cfg.to_dict()
    for item in args.overrides:
        apply_override(raw, item)
    cfg = config_from_dict(raw, "overrides")
    frustums = FrustumSet.load(args.frustums)
    frames = KittiDataset(args.data).frame_ids(args.split)
    frame_of = frustums.arrays["frame_id"]
    pred = predict(model, frustums, cfg, torch.device("cpu"), np.flatnonzero(np.isin(frame_of, frames)), "top")
    for frame in frames:
        rows = np.flatnonzero(frame_of[pred.sample] == frame)
        labels = frame_labels(pred, frustums, rows, "top", cfg.test.nms_thresh) if len(rows) else []
        write_labels(args.output / "data" / f"{frame:06d}.txt", labels, decimals=PREDICTION_DECIMALS)
    result = evaluate_dirs(args.data / "training" / "label_2", args.output / "data", [f"{f:06d}" for f in frames])
    cells = "  ".join(f"{c} {result['strict'][c]['3d']['R40'][1]:.2f} / {result['loose'][c]['3d']['R40'][1]:.2f}"
                      for c in CLASSES)
    print(f"{args.weights} {' '.join(args.overrides) or '(checkpoint settings)'}: 3D AP R40 mod strict / loose: "
          f"{cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
