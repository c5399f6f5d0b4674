"""Benchmark of the synthetic KITTI world generator.

``python benchmarks/synthetic_bench.py [--frames 100] [--workers K] [--seed 0]`` generates the frames into a
temporary directory and prints wall seconds, frames/s and points per scan. The numba compile / cache load is done
first on a warm-up frame and reported separately (it is not part of the timed run).
"""
from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from kitti.io.dataset import KittiDataset
from kitti.synthetic.generate import generate_dataset, generate_frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: number of cores)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    generate_frame(args.seed, 10**6)  # compiles (or loads the numba cache) in this process
    warmup = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        generate_dataset(tmp, args.frames, args.seed, workers=args.workers)
        seconds = time.perf_counter() - start
        ds = KittiDataset(tmp)
        points = [len(ds.velodyne(f)) for f in range(args.frames)]
    print(f"warm-up frame (numba compile or cache load, single process): {warmup:.1f} s")
    print(f"{args.frames} frames in {seconds:.1f} s ({args.frames / seconds:.2f} frames/s, "
          f"{seconds / args.frames:.2f} s/frame wall; worker start-up and cache load included)")
    print(f"points per scan: median {int(np.median(points))}, min {min(points)}, max {max(points)}")


if __name__ == "__main__":
    main()
