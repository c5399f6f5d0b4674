"""``python -m train.pipeline {all,step,refine,summary} ...``: the ALPI pipeline (the scripts in ``scripts/`` call it).

    python -m train.pipeline all --data data/kitti --output output --ratio 30 [--steps 2]
    python -m train.pipeline step --step 1 --ratio 30 ...
    python -m train.pipeline refine --ratio 30 [--from-step 2] ...
    python -m train.pipeline summary --output output --ratio 30 [--steps 2]

Stages are skipped when finished with the same inputs, resumed when interrupted, rebuilt when their inputs changed
(or with ``--force``). A lock on the output directory stops two runs from writing into it at once.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence

from kitti.errors import KittiFormatError
from kitti.eval.annos import load_dirs
from kitti.eval.distance import evaluate_by_distance
from kitti.io.dataset import KittiDataset
from kitti.io.image import write_image
from kitti.io.labels import read_labels
from kitti.review.build import build_review
from kitti.visualize import render_frame
from train.pipeline.layout import FINAL_LABELS_DIR, refine_dir, step_dir
from train.pipeline.lock import LockHeldError, RunLock
from train.pipeline.runner import StageFailed
from train.pipeline.stages import PSEUDO_METRICS, TRAIN_DIR, VAL_DIR, VAL_METRICS, RunOptions, run_refinement, run_step
from train.pipeline.summary import write_summary


def _options(args: argparse.Namespace) -> RunOptions:
    for path, what in ((args.data, "data set"), (args.config, "config"), (args.refine_config, "refinement config")):
        if not Path(path).exists():
            raise StageFailed(f"missing input: {what} ({path})")
    return RunOptions(data=Path(args.data), output=Path(args.output), config=Path(args.config),
                      refine_config=Path(args.refine_config), ratio=args.ratio, supervision=args.supervision,
                      points=args.points, depth_dir=args.depth_dir, da3_model=args.da3_model, gpu=args.gpu, seed=args.seed,
                      workers=args.workers, train_split=args.train_split, val_split=args.val_split,
                      overrides=tuple(args.overrides))


def summarise(opts: RunOptions, steps: int, renders: int = 3) -> str:
    """Summary over the stages that exist: tables, plot, and renders of a few frames with the final labels."""
    stages = [(f"step {s}", step_dir(opts.output, s, opts.ratio)) for s in range(steps + 1)]
    stages.append(("refinement", refine_dir(opts.output)))
    stages = [(name, directory) for name, directory in stages if directory.exists()]
    dataset = KittiDataset(opts.data)
    render_paths = []
    labels_dir = opts.output / FINAL_LABELS_DIR
    if not labels_dir.is_dir() and stages:
        labels_dir = stages[-1][1] / TRAIN_DIR / "data"
    for frame in dataset.frame_ids(opts.train_split)[:renders]:
        path = labels_dir / f"{frame:06d}.txt"
        if path.is_file():
            out = opts.output / "summary_renders" / f"{frame:06d}.png"
            write_image(out, render_frame(dataset, frame, read_labels(path)))
            render_paths.append(out)
    run = {"data": str(opts.data), "supervision": opts.supervision, "points": opts.points, "ratio": opts.ratio,
           "config": str(opts.config), "refinement config": str(opts.refine_config),
           "final pseudo-labels": str(opts.output / FINAL_LABELS_DIR),
           "renders": "ground truth in class colours, final pseudo-labels in white"}
    by_distance = []
    for _, directory in stages:
        predictions = directory / VAL_DIR / "data"
        if predictions.is_dir():
            _, gt, dt = load_dirs(opts.data / "training" / "label_2", predictions, dataset.split_path(opts.val_split))
            by_distance.append(evaluate_by_distance(gt, dt))
        else:
            by_distance.append({})
    return write_summary(opts.output, run, stages, VAL_METRICS, PSEUDO_METRICS, render_paths, by_distance)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.pipeline", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("all", "step", "refine", "summary"))
    parser.add_argument("--data", default="data/kitti", help="KITTI root (training/, ImageSets/)")
    parser.add_argument("--output", default="output", help="root of the stage directories")
    parser.add_argument("--config", default="configs/det_sample.yaml", help="detector config (steps)")
    parser.add_argument("--refine-config", default="configs/refine_sample.yaml", help="refinement config")
    parser.add_argument("--step", type=int, default=0, help="the step to run (command 'step')")
    parser.add_argument("--steps", type=int, default=2, help="pseudo-labelling steps after step 0 (default 2)")
    parser.add_argument("--from-step", type=int, help="step whose pseudo-labels the refinement uses (default --steps)")
    parser.add_argument("--ratio", type=int, default=100, help="%% of injected objects that are synthetic proxies")
    parser.add_argument("--supervision", choices=("weak", "full"), default="weak")
    parser.add_argument("--points", choices=("lidar", "depth", "lidar+depth"), default="lidar")
    parser.add_argument("--depth-dir", choices=("depth_2", "DA3_depth_results"), default="depth_2")
    parser.add_argument("--da3-model", default="da3metric-large",
                        help="Depth Anything 3 model (registry name, local dir or hub id) for --depth-dir "
                             "DA3_depth_results: missing depth maps are generated first")
    parser.add_argument("--gpu", type=int, default=0, help="CUDA device, -1 = CPU (falls back to CPU with a warning)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="processes for data generation")
    parser.add_argument("--train-split", default="train")
    parser.add_argument("--val-split", default="val")
    parser.add_argument("--force", action="store_true", help="rebuild the stages run by this command")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="detector config overrides")
    args = parser.parse_intermixed_args(argv)
    if not 0 <= args.ratio <= 100:
        parser.error(f"--ratio is a percentage, got {args.ratio}")
    started = time.monotonic()
    try:
        opts = _options(args)
        if args.command == "summary":
            print(summarise(opts, args.steps))
            return 0
        with RunLock(opts.output):
            if args.command == "step":
                run_step(opts, args.step, args.force)
            elif args.command == "refine":
                run_refinement(opts, args.steps if args.from_step is None else args.from_step, args.force)
            else:
                for step in range(args.steps + 1):
                    run_step(opts, step, args.force)
                run_refinement(opts, args.steps, args.force)
                print(f"review page: {build_review(opts.output, opts.data, opts.train_split, workers=opts.workers)}")
                print(summarise(opts, args.steps))
    except (StageFailed, LockHeldError, KittiFormatError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"[pipeline] {args.command} finished in {time.monotonic() - started:.0f} s (output: {opts.output})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
