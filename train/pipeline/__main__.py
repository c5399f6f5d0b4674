"""``python -m train.pipeline {all,step,refine,summary} ...``: the ALPI pipeline (the scripts in ``scripts/`` call it).

    python -m train.pipeline all --data data/kitti --output output --ratio 30 [--steps 2]
    python -m train.pipeline step --step 1 --ratio 30 ...
    python -m train.pipeline refine --ratio 30 [--from-step 2] ...
    python -m train.pipeline geometric ...     (the geometric labeller's baseline labels; also run by 'all')
    python -m train.pipeline summary --output output --ratio 30 [--steps 2]
    python -m train.pipeline all --demo            # the synthetic world (generated when missing), CPU configs

The run options are declared once, in :class:`train.pipeline.options.RunOptions`.

Stages are skipped when finished with the same inputs, resumed when interrupted, rebuilt when their inputs changed
(or with ``--force``). A lock on the output directory stops two runs from writing into it at once.
"""
from __future__ import annotations

import argparse
import time
from typing import Sequence

from kitti.errors import ArgumentError, cli
from kitti.eval.annos import load_dirs
from kitti.eval.distance import evaluate_by_distance
from kitti.io.dataset import KittiDataset
from kitti.io.image import write_image
from kitti.io.labels import read_labels
from kitti.review.build import build_review
from kitti.synthetic.generate import generate_dataset
from kitti.visualize import render_frame
from train.pipeline.checks import check_run
from train.pipeline.label_quality import label_quality, label_sets
from train.pipeline.layout import FINAL_LABELS_DIR, GEOMETRIC_DIR, refine_dir, step_dir
from train.pipeline.lock import RunLock
from train.pipeline.options import RunOptions, add_run_arguments, options_from_args
from train.pipeline.realism_gap import realism_gap, realism_section
from train.pipeline.runner import StageFailed
from train.pipeline.stages import (
    PSEUDO_METRICS,
    TRAIN_DIR,
    VAL_DIR,
    VAL_METRICS,
    run_geometric,
    run_refinement,
    run_step,
)
from train.pipeline.summary import stage_timings, write_summary


def _options(args: argparse.Namespace) -> RunOptions:
    """The run options; with ``--demo`` the synthetic world is generated (or completed) first."""
    opts = options_from_args(args)
    if args.demo:  # finishes an interrupted world, leaves a complete one alone, refuses a directory it did not make
        print(f"[demo] synthetic KITTI world: {args.frames} frames, seed {opts.seed} -> {opts.data}")
        generate_dataset(opts.data, args.frames, opts.seed, workers=opts.workers)
    for path, what in ((opts.data, "data set"), (opts.config, "config"), (opts.refine_config, "refinement config"),
                       (opts.data_config, "data config")):
        if not path.exists():
            raise StageFailed(f"missing input: {what} ({path})")
    opts.data_options  # noqa: B018 - load and validate the data config before any stage runs
    return opts


def summarise(opts: RunOptions, steps: int, renders: int = 3, realism: bool = False) -> str:
    """Summary over the stages that exist: the final labels (and the geometric labeller's, when they exist) against
    the train frames' ground truth first, with ``realism`` (the demo world) the labeller on this world beside real
    KITTI frames (:mod:`train.pipeline.realism_gap`), then tables, plot, and renders of a few frames with the final
    labels."""
    stages = [(f"step {s}", step_dir(opts.output, s, opts.ratio)) for s in range(steps + 1)]
    stages.append(("refinement", refine_dir(opts.output)))
    stages = [(name, directory) for name, directory in stages if directory.exists()]
    dataset = KittiDataset(opts.data)
    render_paths = []
    labels_dir, labels_name = opts.output / FINAL_LABELS_DIR, None
    if not labels_dir.is_dir() and stages:
        labels_dir, labels_name = stages[-1][1] / TRAIN_DIR / "data", f"ALPI pseudo-labels ({stages[-1][0]})"
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
    quality = None
    if labels_dir.is_dir():
        quality = label_quality(opts.data / "training" / "label_2", dataset.split_path(opts.train_split),
                                label_sets(opts.output, labels_dir, labels_name))
    timings = stage_timings([("geometric labeller", opts.output / GEOMETRIC_DIR), *stages])
    gap = realism_gap(opts.data, opts.workers) if realism else None
    return write_summary(opts.output, run, stages, VAL_METRICS, PSEUDO_METRICS, render_paths, by_distance, quality,
                         timings, realism_section(gap) if realism else (), gap)


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.pipeline", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("all", "step", "refine", "geometric", "summary"))
    add_run_arguments(parser)
    parser.add_argument("--step", type=int, default=0, help="the step to run (command 'step')")
    parser.add_argument("--steps", type=int, default=2, help="pseudo-labelling steps after step 0 (default 2)")
    parser.add_argument("--from-step", type=int, help="step whose pseudo-labels the refinement uses (default --steps)")
    parser.add_argument("--force", action="store_true", help="rebuild the stages run by this command")
    args = parser.parse_intermixed_args(argv)
    for name in ("step", "steps", "from_step", "frames"):
        if (getattr(args, name) or 0) < 0:
            parser.error(f"--{name.replace('_', '-')} must be >= 0")
    if args.demo and args.frames < 1:
        raise ArgumentError(f"--frames {args.frames}: expected >= 1 (the demo world's frames)")
    try:
        options_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    started = time.monotonic()
    opts = _options(args)
    # everything is checked before anything is written: a typo never costs a finished stage
    check_run(opts.data, opts.output, (opts.config, opts.refine_config), opts.overrides,
              (opts.train_split, opts.val_split))
    if args.command == "summary":
        print(summarise(opts, args.steps, realism=args.demo))
        return 0
    with RunLock(opts.output):
        if args.command == "step":
            run_step(opts, args.step, args.force)
        elif args.command == "refine":
            run_refinement(opts, args.steps if args.from_step is None else args.from_step, args.force)
        elif args.command == "geometric":
            run_geometric(opts, args.force)
        else:
            run_geometric(opts, args.force)
            for step in range(args.steps + 1):
                run_step(opts, step, args.force)
            run_refinement(opts, args.steps, args.force)
            print(f"review page: {build_review(opts.output, opts.data, opts.train_split, workers=opts.workers)}")
            print(summarise(opts, args.steps, realism=args.demo))
    print(f"[pipeline] {args.command} finished in {time.monotonic() - started:.0f} s (output: {opts.output})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
