"""The error budget of a label set: ``python -m kitti.eval.diagnose --gt-dir G --pred-dir P [--split S] [--json OUT]``.

Per class: coverage (labels paired one to one with ground-truth 2D boxes at 2D IoU >= 0.7, any difficulty), 3D and
BEV IoU of the pairs, signed errors (depth along the viewing ray, lateral offset, height, l/w/h ratios, heading mod
180 and full) by distance bin and occlusion level, the Spearman correlation of score and 3D IoU, and the error that
limits the labels most. Definitions: :mod:`kitti.eval.budget`, :mod:`kitti.eval.box_errors`,
:mod:`kitti.eval.limits`. Ground truth is read in full (3D fields included): this is evaluation, never labelling.
Exit status 2 on bad input, with the offending file and line in the message.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from kitti.errors import cli
from kitti.eval.annos import add_label_dir_arguments, load_dirs
from kitti.eval.budget import Budget, budget_from_annos
from kitti.eval.budget_report import format_budget, write_budget_json
from kitti.eval.protocol import EVAL_CLASSES
from kitti.outputs import check_report_file

__all__ = ["diagnose", "format_budget", "main"]


def diagnose(gt_dir: str | Path, pred_dir: str | Path, frames: str | Path | Sequence[str | int] | None = None,
             classes: Sequence[str] = EVAL_CLASSES) -> Budget:
    """The error budget of the labels in ``pred_dir`` (``<id>.txt``, 16 columns with score) against the ground truth
    in ``gt_dir`` for ``frames`` (a split file, a list of ids, or None for every ground-truth file). A frame without
    a label file has no labels; malformed lines raise :class:`kitti.errors.KittiFormatError` (file:line)."""
    _, gt, pred = load_dirs(gt_dir, pred_dir, frames)
    return budget_from_annos(gt, pred, classes)


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kitti.eval.diagnose", description=__doc__.split("\n\n")[0])
    add_label_dir_arguments(parser, "label directory to diagnose (<id>.txt, 16 columns)",
                            "write the full budget as JSON here (atomically)")
    args = parser.parse_args(argv)
    if args.json:
        check_report_file(args.json, (args.gt_dir, args.pred_dir))
    budget = diagnose(args.gt_dir, args.pred_dir, args.split, args.classes)
    if args.json:
        write_budget_json(args.json, budget)
    print(format_budget(budget))
    return 0


if __name__ == "__main__":
    sys.exit(main())
