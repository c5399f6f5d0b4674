"""Benchmark of step-0 frustum extraction (real frustums + one proxy per jittered copy).

    python benchmarks/frustum_bench.py [--data DIR] [--frames 200] [--workers 2] [--repeats 3] [--points lidar]

Without ``--data`` (or when it does not exist) a synthetic world of ``--frames`` frames is generated there first
(``python -m kitti.synthetic``, not timed). Each repeat rebuilds the set from scratch (``force``) into a temporary
directory; the best and every repeat's wall time, frames/s and frustums/s are printed, and the CPU time per frame
(this process and its finished workers: the figure to compare on a shared, loaded machine). The figures include
process start-up (spawn) and writing the ``.npz``.
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from kitti.frustum.engine import ExtractConfig, build_set
from kitti.io.dataset import KittiDataset, write_split


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its finished child processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "alpi_bench_synthetic")
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--points", choices=("lidar", "depth"), default="lidar")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not (args.data / "training" / "calib").is_dir():
        print(f"generating {args.frames} synthetic frames in {args.data} (not timed)")
        subprocess.run([sys.executable, "-m", "kitti.synthetic", "--out", str(args.data), "--frames",
                        str(args.frames), "--seed", str(args.seed), "--workers", str(args.workers)], check=True,
                       cwd=REPO)
    dataset = KittiDataset(args.data)
    frames = dataset.frame_ids()[:args.frames]
    split = f"bench_{len(frames)}"
    write_split(dataset.split_path(split), frames)
    cfg = ExtractConfig(data=str(args.data), split=split, points=args.points, seed=args.seed)
    times, cpus = [], []
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory() as out:
            start, cpu = time.perf_counter(), cpu_seconds()
            info = build_set(cfg, out, args.workers, force=True)
            times.append(time.perf_counter() - start)
            cpus.append(cpu_seconds() - cpu)
        print(f"repeat {repeat + 1}: {times[-1]:.2f} s, CPU {cpus[-1]:.2f} s")
    best = min(times)
    reals = sum(c["real"] for c in info["counts"].values())
    print(f"step-0 extraction, {len(frames)} frames, points={args.points}, workers={args.workers}: "
          f"best {best:.2f} s of {len(times)} ({', '.join(f'{t:.2f}' for t in times)}); "
          f"{best / len(frames) * 1000:.0f} ms/frame/{args.workers} workers, {len(frames) / best:.1f} frames/s, "
          f"{info['count'] / best:.0f} frustums/s ({info['count']} frustums: {reals} real, "
          f"{info['count'] - reals} proxy; {info['points_total']} points); "
          f"CPU {min(cpus) / len(frames) * 1000:.0f} ms/frame ({len(frames) / min(cpus):.1f} frames per CPU-second)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
