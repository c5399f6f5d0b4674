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
from pathlib import Path
from typing import Sequence

from kitti.errors import cli
from train.distributed import session
from train.inference import run


def build_parser(prog: str, doc: str, split: str, method: bool) -> argparse.ArgumentParser:
    """The shared command line of :mod:`train.test_net_det` and :mod:`train.gen_pseudo`."""
    parser = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, required=True, help="checkpoint (model_final.pth / model_last.pth)")
    parser.add_argument("--frustums", type=Path, required=True, help="frustum set (.npz) of the split's 2D boxes")
    parser.add_argument("--data", type=Path, required=True, help="KITTI root holding training/ and ImageSets/")
    parser.add_argument("--split", default=split, help=f"frames: ImageSets/<split>.txt (default {split})")
    parser.add_argument("--output", type=Path, required=True, help="directory receiving data/ and the report")
    if method:
        parser.add_argument("--method", choices=("top", "nms"), help="one box per 2D box, or NMS over slices")
    parser.add_argument("--gpu", type=int, default=0, help="CUDA device (falls back to CPU); -1 forces CPU")
    return parser


@cli
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser("python -m train.test_net_det", __doc__, "val", True).parse_args(argv)
    with session(args.gpu) as ctx:
        run(ctx, args.weights, args.frustums, args.data, args.split, args.output, args.method, "metrics.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
