"""Training frustums for steps >= 1 (docs/design.md §4.2, §4.3): every real frustum (jittered annotated 2D boxes, as at
step 0) followed by one injected object, a synthetic proxy with probability ``ratio / 100`` and otherwise an instance
pasted from the library built from step-P pseudo-labels (:mod:`kitti.frustum.library_builder`).

    python -m kitti.frustum_pseudolabeling --step P --ratio R --pseudo-dir output/step_0P/_last_train/data \\
        --output output/step_0{P+1}_ratio_0R [--library <output>/instances.npz]

``--step P`` follows the published interface: P is the step whose pseudo-labels are used, the set trains step
P + 1; ``--ratio`` defaults to 30 (:data:`kitti.data_args.RATIO`). Writes ``<output>/frustums_train.npz`` +
manifest. Real samples also carry ``prev_box3d``, the step-P pseudo-box matched to their annotated 2D box (same
class, 2D IoU >= 0.5), the steps >= 1 replacement of 3D targets.
Labels are read 2D-only (``weak``) exactly as at step 0.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from kitti.data_args import InjectionArgs
from kitti.errors import cli
from kitti.frustum.engine import ExtractConfig, build_set, frustum_options
from kitti.frustum.instances import LIBRARY_FILE
from kitti.options_cli import add_arguments, from_args


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser, InjectionArgs)
    parser.add_argument("--library", type=Path, help=f"instance library (default <output>/{LIBRARY_FILE})")
    parser.add_argument("--copies", type=int, help="jittered copies per training object (overrides the data "
                        "config's frustums.copies)")
    parser.add_argument("--gen_train", action="store_true", help="accepted for the published interface")
    args = parser.parse_args(argv)
    run = from_args(InjectionArgs, args)
    options, depth = run.data_options()
    cfg = ExtractConfig(data=run.data, subset="train", split=run.split, points=run.points,
                        supervision=run.supervision, seed=run.seed, step=run.step + 1, ratio=run.ratio,
                        frustum=frustum_options(options, args.copies), depth=depth,
                        library=str(args.library or run.output / LIBRARY_FILE), pseudo_dir=run.pseudo_dir,
                        trusted_dir=run.trusted_dir, trusted_min_score=run.trusted_min_score)
    build_set(cfg, run.output, run.workers, run.force)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
