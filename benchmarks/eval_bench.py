"""Benchmark of the KITTI evaluator on a KITTI-val-sized synthetic set (3769 frames, ~4 GT and ~10 detections per
frame and class, Car/Pedestrian/Cyclist, 2D/BEV/3D/AOS, strict and loose, three difficulties, R11 and R40).

Usage: ``python benchmarks/eval_bench.py [--frames 3769] [--repeat 2]``. Prints the data size, the wall time of
each :func:`kitti.eval.evaluate` call (the first includes numba compilation unless the on-disk cache is warm) and the
peak resident memory of the process (``ru_maxrss``). The annotations are generated in memory, not timed.
"""
from __future__ import annotations

import argparse
import resource
import time

from kitti.eval import evaluate, format_table
from kitti.eval.synthetic import synthetic_annos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3769)
    parser.add_argument("--repeat", type=int, default=2, help="evaluate() calls on the same data")
    parser.add_argument("--table", action="store_true", help="also print the AP table")
    args = parser.parse_args()
    t0 = time.perf_counter()
    gt, dt = synthetic_annos(args.frames, seed=0)
    n_gt = sum(len(a["name"]) for a in gt)
    n_dt = sum(len(a["name"]) for a in dt)
    print(f"frames {args.frames}, GT objects {n_gt} (all classes, DontCare included), detections {n_dt}; "
          f"generated in {time.perf_counter() - t0:.1f} s")
    for run in range(args.repeat):
        t0 = time.perf_counter()
        result = evaluate(gt, dt)
        print(f"evaluate() run {run + 1}: {time.perf_counter() - t0:.2f} s")
    if args.table:
        print(format_table(result))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
