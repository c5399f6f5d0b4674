"""Predict 3D boxes for the validation frustums and evaluate them with the KITTI evaluator.

    python -m train.test_net_det --weights output/step_00/model_final.pth --frustums output/step_00/frustums_val.npz \\
        --data data/kitti --split val --output output/step_00/_last_val [--method top|nms] [--gpu 0]
    torchrun --nproc_per_node K -m train.test_net_det ...     (frames sharded across ranks)

Writes ``<output>/data/%06d.txt`` for every frame of ``ImageSets/<split>.txt`` (empty files for frames without a
box; KITTI label lines with a score) and ``<output>/metrics.json`` (the :mod:`kitti.eval` result: AP R11/R40 for
2D, BEV, 3D, AOS per class and difficulty, strict and loose thresholds), computed against ``<data>/training/label_2``
(evaluation only reports; nothing is selected with it). ``--method`` defaults to the checkpoint's ``test.method``.
"""
from __future__ import annotations

import argparse
from typing import Sequence

from kitti.errors import cli
from kitti.options_cli import add_arguments, from_args
from train.args import EvalArgs, PredictArgs
from train.distributed import session
from train.inference import run


def build_parser(prog: str, doc: str, cls: type[PredictArgs]) -> argparse.ArgumentParser:
    """The command line of :mod:`train.test_net_det` (:class:`EvalArgs`) and :mod:`train.gen_pseudo`
    (:class:`PseudoLabelArgs`)."""
    parser = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser, cls)
    return parser


@cli
def main(argv: Sequence[str] | None = None) -> int:
    args = from_args(EvalArgs, build_parser("python -m train.test_net_det", __doc__, EvalArgs).parse_args(argv))
    with session(args.gpu) as ctx:
        run(ctx, args.weights, args.frustums, args.data, args.split, args.output, args.method, "metrics.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
