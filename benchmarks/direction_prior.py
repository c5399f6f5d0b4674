"""The road-side direction prior of :mod:`kitti.geometric.direction`, recomputed from real KITTI labels.

    .venv/bin/python benchmarks/direction_prior.py --labels DIR/training/label_2 [--exclude 000000,000001,...]

For Car, Pedestrian and Cyclist: among objects whose length axis lies along the road (``|sin ry| > sin 45``), the
share pointing away from the camera (``sin ry < 0``) per lateral bin of rect ``x`` (metres); among the others
(crossing), the share pointing to +x. Prints the tables as Python literals (the constants of
``kitti/geometric/direction.py``) and the number of objects behind each share. Reads the 3D fields of the given
labels: run it on a labelled corpus, never on the frames being labelled (``--exclude`` them).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from kitti.geometric.direction import ALONG_EDGES, CROSS_EDGES
from kitti.io.labels import read_labels


def shares(x: np.ndarray, hit: np.ndarray, edges: tuple[float, ...]) -> tuple[list[float], list[int]]:
    """Share of ``hit`` and count per bin of ``x`` between consecutive ``edges`` (open ends)."""
    bins = np.digitize(x, edges)
    out, counts = [], []
    for b in range(len(edges) + 1):
        m = bins == b
        counts.append(int(m.sum()))
        out.append(round(float(hit[m].mean()), 2) if m.any() else 0.5)
    return out, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=Path, required=True, help="a label_2 directory of real KITTI frames")
    parser.add_argument("--exclude", default="", help="comma-separated frame ids to leave out")
    args = parser.parse_args()
    skip = {s.strip() for s in args.exclude.split(",") if s.strip()}
    rows: dict[str, list[tuple[float, float]]] = {"Car": [], "Pedestrian": [], "Cyclist": []}
    for path in sorted(args.labels.glob("*.txt")):
        if path.stem in skip:
            continue
        for obj in read_labels(path):
            if obj.type in rows:
                rows[obj.type].append((obj.location[0], obj.ry))
    for cls, values in rows.items():
        x, ry = np.array(values).T
        along = np.abs(np.sin(ry)) > np.sin(np.pi / 4)
        away, n_away = shares(x[along], np.sin(ry[along]) < 0, ALONG_EDGES)
        right, n_right = shares(x[~along], np.cos(ry[~along]) > 0, CROSS_EDGES)
        print(f'"{cls}": ({away}, {right}),  # along n={n_away}, crossing n={n_right}')


if __name__ == "__main__":
    main()
