"""``python -m kitti.synthetic --out DIR --frames N --seed S [--val-fraction F] [--workers K] [--depth-error E]``:
write a synthetic KITTI data set (see :mod:`kitti.synthetic.generate`)."""
from __future__ import annotations

import argparse
import json
import math
import sys

from kitti.errors import ArgumentError, cli
from kitti.synthetic.generate import DEPTH_ERRORS, generate_dataset

#: most frames one call generates (ids are six digits)
MAX_FRAMES = 1_000_000


@cli
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kitti.synthetic", description=__doc__)
    parser.add_argument("--out", required=True, help="output root (gets training/, ImageSets/, manifest)")
    parser.add_argument("--frames", type=int, required=True, help="number of frames (ids 0..N-1)")
    parser.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
    parser.add_argument("--val-fraction", type=float, default=0.5, help="fraction of frames in val (default 0.5)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: number of cores)")
    parser.add_argument("--depth-error", choices=DEPTH_ERRORS, default="none",
                        help="'mono': store a monocular-like noisy depth in depth_2 (default: clean depth)")
    args = parser.parse_args(argv)
    if args.frames < 1 or args.frames > MAX_FRAMES:
        raise ArgumentError(f"--frames {args.frames}: expected a number of frames in 1..{MAX_FRAMES}")
    if not (math.isfinite(args.val_fraction) and 0.0 <= args.val_fraction <= 1.0):
        raise ArgumentError(f"--val-fraction {args.val_fraction}: expected a fraction in [0, 1]")
    if not 0 <= args.seed < 2**32:
        raise ArgumentError(f"--seed {args.seed}: expected an integer in 0..2**32-1")
    if args.workers is not None and args.workers < 1:
        raise ArgumentError(f"--workers {args.workers}: expected >= 1")
    manifest = generate_dataset(args.out, args.frames, args.seed, args.val_fraction, args.workers, args.depth_error)
    print(json.dumps(manifest["object_counts"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
