"""The geometric labeller's priors taken from real KITTI labels, recomputed from a label directory.

    .venv/bin/python benchmarks/label_priors.py --labels DIR/training/label_2 [--exclude 000000,000001,...]

Prints, as Python literals:

* ``ROAD_SIDE`` of :mod:`kitti.geometric.direction`: for Car, Pedestrian and Cyclist, among objects whose length
  axis lies along the road (``|sin ry| > sin 45``), the share pointing away from the camera (``sin ry < 0``) per
  lateral bin of rect ``x`` (metres); among the others (crossing), the share pointing to +x; with the number of
  objects behind each share;
* ``SIZE_RANGE`` of :mod:`kitti.priors`: the 1st and 99th percentiles (metres) of each class's ``(l, w, h)``;
* the axis alignment behind ``AXIS_PRIOR_GAIN`` / ``AXIS_PRIOR_DEG`` of :mod:`kitti.geometric.bevfit`: the share of
  each class whose heading lies within 2 and 5 degrees of a camera axis (mod 90 degrees).

Reads the 3D fields of the given labels: run it on a labelled corpus, never on the frames being labelled
(``--exclude`` them).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from kitti.geometric.direction import ALONG_EDGES, CROSS_EDGES
from kitti.io.labels import ObjectLabel, read_labels

CLASSES = ("Car", "Pedestrian", "Cyclist")
#: percentiles of :data:`kitti.priors.SIZE_RANGE`
SIZE_PERCENTILES = (1.0, 99.0)


def shares(x: np.ndarray, hit: np.ndarray, edges: tuple[float, ...]) -> tuple[list[float], list[int]]:
    """Share of ``hit`` and count per bin of ``x`` between consecutive ``edges`` (open ends)."""
    bins = np.digitize(x, edges)
    out, counts = [], []
    for b in range(len(edges) + 1):
        m = bins == b
        counts.append(int(m.sum()))
        out.append(round(float(hit[m].mean()), 2) if m.any() else 0.5)
    return out, counts


def road_side_line(cls: str, objects: list[ObjectLabel]) -> str:
    """One ``ROAD_SIDE`` entry of ``objects`` of class ``cls``."""
    x = np.array([o.location[0] for o in objects])
    ry = np.array([o.ry for o in objects])
    along = np.abs(np.sin(ry)) > np.sin(np.pi / 4)
    away, n_away = shares(x[along], np.sin(ry[along]) < 0, ALONG_EDGES)
    right, n_right = shares(x[~along], np.cos(ry[~along]) > 0, CROSS_EDGES)
    return f'"{cls}": ({away}, {right}),  # along n={n_away}, crossing n={n_right}'


def size_range_line(cls: str, objects: list[ObjectLabel]) -> str:
    """One ``SIZE_RANGE`` entry (``(l, w, h)`` percentile pairs, metres) of ``objects`` of class ``cls``."""
    hwl = np.array([o.dims for o in objects])
    lo, hi = np.percentile(hwl[:, [2, 1, 0]], SIZE_PERCENTILES, axis=0)
    pairs = ", ".join(f"({a:.2f}, {b:.2f})" for a, b in zip(lo, hi))
    return f'"{cls}": ({pairs}),  # n={len(objects)}'


def axis_alignment_line(cls: str, objects: list[ObjectLabel]) -> str:
    """Shares of ``objects`` of class ``cls`` whose heading is within 2 and 5 degrees of a camera axis."""
    ry = np.degrees(np.array([o.ry for o in objects]))
    off_axis = np.abs((ry + 45.0) % 90.0 - 45.0)
    return f"{cls}: {np.mean(off_axis < 2.0):.2f} within 2 deg, {np.mean(off_axis < 5.0):.2f} within 5 deg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=Path, required=True, help="a label_2 directory of real KITTI frames")
    parser.add_argument("--exclude", default="", help="comma-separated frame ids to leave out")
    args = parser.parse_args()
    skip = {s.strip() for s in args.exclude.split(",") if s.strip()}
    objects: dict[str, list[ObjectLabel]] = {cls: [] for cls in CLASSES}
    for path in sorted(args.labels.glob("*.txt")):
        if path.stem not in skip:
            for obj in read_labels(path):
                if obj.type in objects:
                    objects[obj.type].append(obj)
    print("ROAD_SIDE")
    for cls in CLASSES:
        print(road_side_line(cls, objects[cls]))
    print("SIZE_RANGE (l, w, h)")
    for cls in CLASSES:
        print(size_range_line(cls, objects[cls]))
    print("axis alignment (mod 90 deg)")
    for cls in CLASSES:
        print(axis_alignment_line(cls, objects[cls]))


if __name__ == "__main__":
    main()
