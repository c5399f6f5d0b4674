"""Benchmark of the compiled ops (not a test): rotated BEV IoU against shapely 2, NMS, points-in-boxes.

Usage: .venv/bin/python benchmarks/ops_bench.py [--repeat 5] [--seed 0]

Everything runs single-threaded (ops' CPU module is single-threaded, shapely too). Each figure is the best of
``--repeat`` runs; other processes on the machine make single runs noisy, so run the script 2-3 times as well.
Sets: (a) a realistic scene, 1000 x 1000 car-sized boxes spread over 40 m x 40 m (a few % of the pairs overlap);
(b) all-overlapping, 1000 x 1000 boxes within 0.5 m of one point (every pair is clipped).
"""
from __future__ import annotations

import argparse
import time
from typing import Callable

import numpy as np
import shapely

import ops
from kitti.geometry import points_in_boxes_mask

#: rough cost of one clipped (overlapping) pair: corner set-up, 4 Sutherland-Hodgman passes over <= 8 vertices
#: (a cross product, a compare and sometimes an interpolation each), fan area: a few hundred flops
FLOPS_PER_OVERLAPPING_PAIR = 300


def best_time(function: Callable[[], object], repeat: int) -> float:
    """Best wall time (s) of ``repeat`` calls."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def car_boxes(rng: np.random.Generator, n: int, spread: float) -> np.ndarray:
    """BEV boxes (x, z, l, w, ry): centres uniform in [0, spread]^2 (metres), car-like sizes, any heading."""
    return np.column_stack([rng.uniform(0, spread, n), rng.uniform(0, spread, n), rng.uniform(3.2, 4.8, n),
                            rng.uniform(1.5, 1.9, n), rng.uniform(-np.pi, np.pi, n)])


def bev_polygons(boxes: np.ndarray) -> np.ndarray:
    x, z, l, w, ry = boxes.T
    lx = np.array([1, -1, -1, 1]) * 0.5
    lz = np.array([1, 1, -1, -1]) * 0.5
    c, s = np.cos(ry)[:, None], np.sin(ry)[:, None]
    cx = x[:, None] + c * l[:, None] * lx + s * w[:, None] * lz
    cz = z[:, None] - s * l[:, None] * lx + c * w[:, None] * lz
    return shapely.polygons(np.stack([cx, cz], axis=-1))


def shapely_iou(polys_a: np.ndarray, polys_b: np.ndarray) -> np.ndarray:
    inter = shapely.area(shapely.intersection(polys_a[:, None], polys_b[None, :]))
    return inter / (shapely.area(polys_a)[:, None] + shapely.area(polys_b)[None, :] - inter)


def bench_iou(name: str, a: np.ndarray, b: np.ndarray, repeat: int, peak_flops: float) -> None:
    pairs = len(a) * len(b)
    polys_a, polys_b = bev_polygons(a), bev_polygons(b)
    ours = ops.iou_bev(a, b)
    reference = shapely_iou(polys_a, polys_b)
    overlapping = int((reference > 0).sum())
    t_ours = best_time(lambda: ops.iou_bev(a, b), repeat)
    t_ours32 = best_time(lambda: ops.iou_bev(a.astype(np.float32), b.astype(np.float32)), repeat)
    t_shapely = best_time(lambda: shapely_iou(polys_a, polys_b), max(1, repeat // 2))
    limit = peak_flops / FLOPS_PER_OVERLAPPING_PAIR
    print(f"({name}) {len(a)} x {len(b)} BEV IoU, {overlapping} overlapping pairs ({100 * overlapping / pairs:.1f} %), "
          f"max |ours - shapely| = {np.abs(ours - reference).max():.1e}")
    print(f"    ops.iou_bev float64 : {t_ours * 1e3:8.2f} ms  {pairs / t_ours / 1e6:8.2f} M pairs/s  "
          f"({overlapping / t_ours / 1e6:.2f} M overlapping pairs/s)")
    print(f"    ops.iou_bev float32 : {t_ours32 * 1e3:8.2f} ms  {pairs / t_ours32 / 1e6:8.2f} M pairs/s")
    print(f"    shapely 2           : {t_shapely * 1e3:8.2f} ms  {pairs / t_shapely / 1e6:8.2f} M pairs/s  "
          f"(polygons prebuilt, not timed)")
    print(f"    speed-up vs shapely : {t_shapely / t_ours:.0f}x (float64), {t_shapely / t_ours32:.0f}x (float32)")
    print(f"    compute limit       : ~{limit / 1e6:.0f} M overlapping pairs/s at {FLOPS_PER_OVERLAPPING_PAIR} "
          f"flops/pair and {peak_flops / 1e9:.1f} GFLOP/s (1 core, scalar); reached "
          f"{100 * overlapping / t_ours / limit:.0f} % of it on the overlapping pairs")


def bench_nms(rng: np.random.Generator, repeat: int) -> None:
    objects = car_boxes(rng, 1000, 80.0)
    boxes = objects[rng.integers(0, len(objects), 10_000)] + rng.normal(0, [0.4, 0.4, 0.2, 0.1, 0.15], (10_000, 5))
    scores = rng.random(10_000)
    kitti = np.column_stack([boxes[:, 0], rng.uniform(1.5, 1.8, len(boxes)), boxes[:, 1],
                             rng.uniform(1.4, 1.7, len(boxes)), boxes[:, 3], boxes[:, 2], boxes[:, 4]])
    for threshold in (0.1, 0.5):
        t_bev = best_time(lambda: ops.nms_bev(boxes, scores, threshold), repeat)
        t_3d = best_time(lambda: ops.nms_3d(kitti, scores, threshold), repeat)
        kept = len(ops.nms_3d(kitti, scores, threshold))
        print(f"nms on 10,000 boxes (10 jittered copies of 1000 objects over 80 m x 80 m), threshold {threshold}: "
              f"nms_bev {t_bev * 1e3:.1f} ms, nms_3d {t_3d * 1e3:.1f} ms ({kept} kept by nms_3d)")


def bench_points_in_boxes(rng: np.random.Generator, repeat: int) -> None:
    n = 120_000
    radius, angle = rng.uniform(2, 80, n), rng.uniform(-np.pi, np.pi, n)
    scan = np.column_stack([radius * np.cos(angle), rng.uniform(-1.0, 2.0, n), radius * np.sin(angle),
                            rng.random(n)]).astype(np.float32)  # (x, y, z, intensity), rect frame
    bev = car_boxes(rng, 30, 60.0) - np.array([30, 30, 0, 0, 0])
    boxes = np.column_stack([bev[:, 0], np.full(30, 1.7), bev[:, 1], np.full(30, 1.6), bev[:, 3], bev[:, 2],
                             bev[:, 4]])
    t32 = best_time(lambda: ops.points_in_boxes(scan, boxes.astype(np.float32)), repeat)
    scan64 = scan.astype(np.float64)
    t64 = best_time(lambda: ops.points_in_boxes(scan64, boxes), repeat)
    t_numpy = best_time(lambda: points_in_boxes_mask(scan64, boxes), max(1, repeat // 2))
    inside = int((ops.points_in_boxes(scan64, boxes) >= 0).sum())
    print(f"points_in_boxes, 120,000-point scan x 30 boxes ({inside} points inside): float32 {t32 * 1e3:.2f} ms, "
          f"float64 {t64 * 1e3:.2f} ms; numpy points_in_boxes_mask {t_numpy * 1e3:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure, the best is reported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--peak-gflops", type=float, default=5.0,
                        help="assumed scalar double GFLOP/s of one core for the compute limit (default 5: ~2.5 GHz "
                             "x 2 flops/cycle for this branchy, non-vectorised code)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"shapely {shapely.__version__}, numpy {np.__version__}, CUDA module usable: {ops.cuda_available()}; "
          f"best of {args.repeat} runs, single thread")
    bench_iou("a: scene 40 m x 40 m", car_boxes(rng, 1000, 40.0), car_boxes(rng, 1000, 40.0), args.repeat,
              args.peak_gflops * 1e9)
    bench_iou("b: all overlapping", car_boxes(rng, 1000, 0.5), car_boxes(rng, 1000, 0.5), args.repeat,
              args.peak_gflops * 1e9)
    bench_nms(rng, args.repeat)
    bench_points_in_boxes(rng, args.repeat)


if __name__ == "__main__":
    main()
