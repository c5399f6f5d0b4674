"""Pseudo-labels for every training frame: one box per annotated 2D box (``top``; per input pseudo-box for a
refinement set), score = foreground probability times ``score_2d`` (:mod:`train.inference`). A 2D box whose frustum
was skipped (too few points, too small) still gets a box: the geometric labeller's (:mod:`kitti.geometric`), with a
score <= 0.1 (:func:`kitti.geometric.fill_labels`), so every labelled 2D box has a pseudo-label.

    python -m train.gen_pseudo --weights output/step_00/model_final.pth \\
        --frustums output/step_00/frustums_pseudo.npz --data data/kitti --split train \\
        --output output/step_00/_last_train [--gpu 0]
    torchrun --nproc_per_node K -m train.gen_pseudo ...       (frames sharded across ranks)

Writes ``<output>/data/%06d.txt`` for every frame of ``ImageSets/<split>.txt`` (KITTI lines with score, empty files
for frames without boxes; no score threshold, no NMS) and ``<output>/pseudo_quality.json``: the KITTI evaluation of
the pseudo-labels against ``<data>/training/label_2``, for information only (nothing downstream reads it).
"""
from __future__ import annotations

from typing import Sequence

from kitti.errors import cli
from kitti.options_cli import from_args
from train.args import PseudoLabelArgs
from train.distributed import session
from train.inference import run
from train.test_net_det import build_parser


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser("python -m train.gen_pseudo", __doc__, PseudoLabelArgs)
    args = from_args(PseudoLabelArgs, parser.parse_args(argv))
    with session(args.gpu) as ctx:
        run(ctx, args.weights, args.frustums, args.data, args.split, args.output, "top", "pseudo_quality.json",
            fill=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
