"""Validate a KITTI-layout data set and print statistics that show whether it looks like KITTI.

    python -m kitti.check_dataset --root data/synthetic [--split trainval] [--reference ../shared/kitti_real]

Every frame's calib, image, labels, scan (and depth map, when ``depth_2/`` exists) is parsed and checked; every
problem is reported in one pass (the first as the ``error:`` line, the others listed above it). Then: points per
scan, class mix, occlusion and truncation histograms, median LiDAR points inside Car boxes by distance, the
agreement of projected 3D boxes with 2D boxes, and the share of labelled Car/Pedestrian/Cyclist boxes that contain
points. ``--reference`` prints another data set (for example the real KITTI sample) in a second column. This is a
reporting tool and reads the full 3D labels.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence, TypeVar

import numpy as np
from tqdm import tqdm

from kitti import geometry as g
from kitti.atomic import atomic_write_text
from kitti.errors import KittiFormatError, cli
from kitti.io.calib import Calibration, check_image_fit
from kitti.io.dataset import KittiDataset
from kitti.io.labels import KITTI_TYPES, ObjectLabel
from kitti.outputs import check_report_file
from kitti.priors import CLASSES

T = TypeVar("T")
DISTANCE_BINS: tuple[tuple[float, float], ...] = ((5, 10), (10, 20), (20, 30), (30, 40), (40, 50), (50, 70))
TRUNCATION_BINS: tuple[tuple[float, float], ...] = ((0, 0), (0, 0.15), (0.15, 0.3), (0.3, 0.5), (0.5, 1.0))


@dataclass
class DatasetStats:
    """Statistics of a data set; counts are over labelled objects unless named otherwise."""

    frames: int = 0
    scan_points: list[int] = field(default_factory=list)
    class_counts: Counter = field(default_factory=Counter)
    occlusion: Counter = field(default_factory=Counter)
    truncation: Counter = field(default_factory=Counter)
    car_points_by_distance: dict[str, list[int]] = field(
        default_factory=lambda: {f"{lo:g}-{hi:g}": [] for lo, hi in DISTANCE_BINS})
    projection_iou: list[float] = field(default_factory=list)
    boxes_with_points: list[bool] = field(default_factory=list)
    depth_maps: int = 0

    def summary(self) -> dict[str, object]:
        """Plain-JSON summary (medians, counts and fractions)."""
        labelled = sum(self.class_counts[name] for name in KITTI_TYPES if name != "DontCare")
        ious = np.array(self.projection_iou)
        return {
            "frames": self.frames,
            "median_points_per_scan": float(np.median(self.scan_points)) if self.scan_points else 0.0,
            "objects_per_frame": labelled / max(self.frames, 1),
            "class_counts": {name: self.class_counts[name] for name in KITTI_TYPES if self.class_counts[name]},
            "occlusion_fraction": {str(k): self.occlusion[k] / max(sum(self.occlusion.values()), 1)
                                   for k in (0, 1, 2, 3)},
            "truncation_fraction": {_bin_name(b): self.truncation[_bin_name(b)] / max(sum(self.truncation.values()), 1)
                                    for b in TRUNCATION_BINS},
            "median_car_points_by_distance": {
                name: (float(np.median(v)) if v else None) for name, v in self.car_points_by_distance.items()},
            "cars_by_distance": {name: len(v) for name, v in self.car_points_by_distance.items()},
            "projection_iou_median": float(np.median(ious)) if len(ious) else None,
            "projection_iou_above_0.7": float((ious > 0.7).mean()) if len(ious) else None,
            "boxes_with_points_fraction": float(np.mean(self.boxes_with_points)) if self.boxes_with_points else None,
            "depth_maps": self.depth_maps,
        }


def _bin_name(bounds: tuple[float, float]) -> str:
    lo, hi = bounds
    return "0" if hi == 0 else f"({lo:g},{hi:g}]"


def check_frame_geometry(dataset: KittiDataset, frame: int, calib: Calibration, image_hw: tuple[int, int],
                         labels: Sequence[ObjectLabel], tolerance_px: float = 1.0) -> None:
    """Files of one frame that disagree: an image whose size does not fit the calibration
    (:func:`kitti.io.calib.check_image_fit`), or a label 2D box outside the image (KITTI boxes are clipped to it, so
    a negative coordinate is an error). Raises :class:`KittiFormatError` naming the file (and line)."""
    height, width = image_hw
    check_image_fit(calib, image_hw, dataset.path("image_2", frame))
    for label in labels:
        x1, y1, x2, y2 = label.box2d
        if min(x1, y1) < -tolerance_px or x2 > width + tolerance_px or y2 > height + tolerance_px:
            raise KittiFormatError(label.source, f"2D box ({x1:g}, {y1:g}, {x2:g}, {y2:g}) lies outside the "
                                                 f"{width}x{height} image {dataset.path('image_2', frame)}",
                                   label.line)


def collect_stats(dataset: KittiDataset, frames: Sequence[int], progress: bool = True) -> DatasetStats:
    """Parse and check every file of ``frames`` and gather stats. Every problem is found in one pass: the others
    are printed on stderr and the first is raised as a :class:`KittiFormatError` that counts them."""
    stats = DatasetStats()
    with_depth = dataset.has("depth_2")
    problems: list[KittiFormatError] = []

    def attempt(read: Callable[[], T]) -> T | None:
        try:
            return read()
        except KittiFormatError as exc:
            problems.append(exc)
            return None

    for frame in tqdm(frames, desc=f"checking {dataset.root.name}", unit="frame", disable=not progress):
        calib = attempt(lambda: dataset.calib(frame))
        image = attempt(lambda: dataset.image(frame))
        scan = attempt(lambda: dataset.velodyne(frame))
        labels = attempt(lambda: dataset.labels(frame))
        if calib is not None and image is not None and labels is not None:
            attempt(lambda: check_frame_geometry(dataset, frame, calib, image.shape[:2], labels))
        if with_depth and image is not None and attempt(lambda: dataset.depth(frame, image.shape[:2])) is not None:
            stats.depth_maps += 1
        if problems or calib is None or image is None or scan is None or labels is None:
            continue  # statistics only from a data set without problems
        stats.frames += 1
        stats.scan_points.append(len(scan))
        rect = g.velo_to_rect(scan, calib)
        objects = [lab for lab in labels if lab.type != "DontCare"]
        stats.class_counts.update(lab.type for lab in labels)
        if not objects:
            continue
        boxes = np.stack([lab.box3d for lab in objects])
        counts = g.points_in_boxes_mask(rect, boxes).sum(axis=0)
        hulls = g.project_boxes_to_image(boxes, calib.P2, image.shape[:2])
        for label, count, hull in zip(objects, counts, hulls):
            stats.occlusion[label.occlusion] += 1
            stats.truncation[next(_bin_name(b) for b in TRUNCATION_BINS if label.truncation <= b[1])] += 1
            if label.type in CLASSES:
                stats.boxes_with_points.append(bool(count > 0))
            if label.truncation == 0 and label.occlusion == 0:
                stats.projection_iou.append(float(g.box2d_iou(np.array(label.box2d), hull)[0, 0]))
            if label.type == "Car":
                distance = float(np.hypot(label.location[0], label.location[2]))
                for lo, hi in DISTANCE_BINS:
                    if lo <= distance < hi:
                        stats.car_points_by_distance[f"{lo:g}-{hi:g}"].append(int(count))
    if problems:
        for problem in problems[1:]:
            print(f"  also: {problem}", file=sys.stderr)
        first = problems[0]
        more = f" (1 of {len(problems)} problems; the others are listed above)" if len(problems) > 1 else ""
        raise KittiFormatError(first.path, first.reason + more, first.line)
    return stats


def format_table(columns: dict[str, dict[str, object]]) -> str:
    """Side-by-side text table of one or more summaries (rows = statistics, columns = data sets)."""
    def fmt(value: object) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.3g}" if abs(value) < 10 else f"{value:.0f}"
        return str(value)

    rows: list[tuple[str, list[str]]] = []
    first = next(iter(columns.values()))
    for key, value in first.items():
        if isinstance(value, dict):
            names = list(dict.fromkeys(k for col in columns.values() for k in col[key]))  # type: ignore[attr-defined]
            for name in names:
                rows.append((f"{key} {name}", [fmt(col[key].get(name)) for col in columns.values()]))  # type: ignore[attr-defined]
        else:
            rows.append((key, [fmt(col[key]) for col in columns.values()]))
    width = max(len(r[0]) for r in rows)
    widths = [max(len(name), *(len(r[1][i]) for r in rows)) for i, name in enumerate(columns)]
    lines = ["  ".join([" " * width, *(name.rjust(w) for name, w in zip(columns, widths))])]
    lines += ["  ".join([label.ljust(width), *(v.rjust(w) for v, w in zip(values, widths))]) for label, values in rows]
    return "\n".join(lines)


def _frames(dataset: KittiDataset, split: str | None) -> list[int]:
    if split is None:
        return dataset.frame_ids()
    kinds = ["calib", "image_2", "label_2", "velodyne"] + (["depth_2"] if dataset.has("depth_2") else [])
    return dataset.check_split(split, kinds)


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True, type=Path, help="KITTI root holding training/ and ImageSets/")
    parser.add_argument("--split", help="split name in ImageSets/ (default: every frame)")
    parser.add_argument("--reference", type=Path, help="second KITTI root to compare with (e.g. the real sample)")
    parser.add_argument("--json", type=Path, help="write the statistics as JSON here")
    args = parser.parse_args(argv)
    if args.json is not None:
        check_report_file(args.json, [args.root] + ([args.reference] if args.reference is not None else []))
    columns: dict[str, dict[str, object]] = {}
    dataset = KittiDataset(args.root)
    frames = _frames(dataset, args.split)
    if not frames:
        raise KittiFormatError(dataset.dir, "no frames found")
    columns[str(args.root)] = collect_stats(dataset, frames).summary()
    if args.reference is not None:
        reference = KittiDataset(args.reference)
        columns[str(args.reference)] = collect_stats(reference, reference.frame_ids()).summary()
    print(format_table(columns))
    if args.json is not None:
        atomic_write_text(args.json, json.dumps(columns, indent=2) + "\n")
    print(f"OK: {columns[str(args.root)]['frames']} frames parsed and checked")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
