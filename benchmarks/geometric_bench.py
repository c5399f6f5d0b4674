"""Geometric labeller throughput: frames per second (wall time) over a split, loading included.

    .venv/bin/python benchmarks/geometric_bench.py --data data/synthetic --split train --workers 2

Labels into a temporary directory with ``--workers`` processes (the process pool start-up included) and prints
``frames/s`` and the per-frame time of the labelling itself (``label_frame``, one process, points already loaded).
"""
from __future__ import annotations

import argparse
import tempfile
import time

from kitti.geometric.labeller import label_frame
from kitti.geometric.run import LabelConfig, frame_inputs, label_split
from kitti.io.dataset import KittiDataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--split", default="train")
    parser.add_argument("--points", default="lidar")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        manifest = label_split(LabelConfig(args.data, args.split, args.points, output=tmp), args.workers, force=True)
        wall = time.perf_counter() - started
    frames = manifest["frames"]
    print(f"geometric labeller: {frames} frames in {wall:.2f} s with {args.workers} workers: "
          f"{frames / wall:.1f} frames/s")
    dataset = KittiDataset(args.data)
    ids = dataset.frame_ids(args.split)[:10]
    inputs = [frame_inputs(dataset, f, args.points) for f in ids]
    started = time.perf_counter()
    boxes = sum(len(label_frame(x)) for x in inputs)
    fit = (time.perf_counter() - started) / len(ids)
    print(f"label_frame alone: {1000 * fit:.1f} ms per frame ({boxes} boxes in {len(ids)} frames, one process)")


if __name__ == "__main__":
    main()
