"""Training frustums for steps >= 1 (docs/design.md §4.2, §4.3): every real frustum (jittered annotated 2D boxes, as at
step 0) followed by one injected object, a synthetic proxy with probability ``ratio / 100`` and otherwise an instance
pasted from the library built from step-P pseudo-labels (:mod:`kitti.frustum.library_builder`).

    python -m kitti.frustum_pseudolabeling --step P --ratio R --pseudo-dir output/step_0P/_last_train/data \\
        --output output/step_0{P+1}_ratio_0R [--library <output>/instances.npz]

``--step P`` follows the published interface: P is the step whose pseudo-labels are used, the set trains step
P + 1. Writes ``<output>/frustums_train.npz`` + manifest. Real samples also carry ``prev_box3d``, the step-P
pseudo-box matched to their annotated 2D box (same class, 2D IoU >= 0.5), the steps >= 1 replacement of 3D targets.
Labels are read 2D-only (``weak``) exactly as at step 0.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from kitti.errors import cli
from kitti.frustum.engine import ExtractConfig, add_common_arguments, build_set, data_options, frustum_options
from kitti.frustum.instances import LIBRARY_FILE


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--step", type=int, required=True, help="step P of the pseudo-labels (the set trains P+1)")
    parser.add_argument("--ratio", type=float, required=True,
                        help="percentage of injected objects that are synthetic proxies (rest: pasted instances)")
    parser.add_argument("--pseudo-dir", required=True, help="step-P pseudo-label directory (%%06d.txt with scores)")
    parser.add_argument("--library", type=Path, help=f"instance library (default <output>/{LIBRARY_FILE})")
    parser.add_argument("--copies", type=int, help="jittered copies per training object (overrides the data "
                        "config's frustums.copies)")
    parser.add_argument("--gen_train", action="store_true", help="accepted for the published interface")
    args = parser.parse_args(argv)
    if not 0 <= args.ratio <= 100:
        parser.error("--ratio must lie in [0, 100]")
    if args.step < 0:
        parser.error("--step must be >= 0")
    options, depth = data_options(args)
    cfg = ExtractConfig(data=args.data, subset="train", split=args.split, points=args.points,
                        supervision=args.supervision, seed=args.seed, step=args.step + 1, ratio=args.ratio,
                        frustum=frustum_options(options, args.copies), depth=depth,
                        library=str(args.library or args.output / LIBRARY_FILE), pseudo_dir=args.pseudo_dir,
                        trusted_dir=args.trusted_dir, trusted_min_score=args.trusted_min_score)
    build_set(cfg, args.output, args.workers, args.force)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
