"""``python -m kitti.synthetic --out DIR --frames N --seed S [--val-fraction F] [--workers K] [--depth-error E]``:
write a synthetic KITTI data set (see :mod:`kitti.synthetic.generate`)."""
from __future__ import annotations

import argparse
import json
import sys

from kitti.errors import cli
from kitti.synthetic.generate import DEPTH_ERRORS, generate_dataset


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
    manifest = generate_dataset(args.out, args.frames, args.seed, args.val_fraction, args.workers, args.depth_error)
    print(json.dumps(manifest["object_counts"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
