"""Validate a KITTI-layout data set and print statistics that show whether it looks like KITTI.

    python -m kitti.check_dataset --root data/synthetic [--split trainval] [--reference ../shared/kitti_real]

Every frame's calib, image, labels, scan (and depth map, when ``depth_2/`` exists) is parsed; the first bad file
stops the check with an error naming it. Then: points per scan, class mix, occlusion and truncation histograms,
median LiDAR points inside Car boxes by distance, the agreement of projected 3D boxes with 2D boxes, and the share
of labelled Car/Pedestrian/Cyclist boxes that contain points. ``--reference`` prints another data set (for example
the real KITTI sample) in a second column. This is a reporting tool and reads the full 3D labels.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from kitti import geometry as g
from kitti.atomic import atomic_write_text
from kitti.errors import KittiFormatError, cli
from kitti.io.calib import Calibration
from kitti.io.dataset import KittiDataset
from kitti.io.labels import KITTI_TYPES, ObjectLabel
from kitti.priors import CLASSES

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
    """Files of one frame that disagree: an image whose size does not fit the calibration (the principal point of
    P2 must lie in the middle half of the image), or a label 2D box outside the image (KITTI boxes are clipped to
    it, so a negative coordinate is an error). Raises :class:`KittiFormatError` naming the file (and line)."""
    height, width = image_hw
    cx, cy = float(calib.P2[0, 2]), float(calib.P2[1, 2])
    if not (0.25 * width <= cx <= 0.75 * width and 0.25 * height <= cy <= 0.75 * height):
        raise KittiFormatError(dataset.path("image_2", frame), f"image is {width}x{height} px, which does not fit the "
                                                               f"principal point ({cx:.1f}, {cy:.1f}) of P2 in "
                                                               f"{dataset.path('calib', frame)} (about "
                                                               f"{2 * cx:.0f}x{2 * cy:.0f} px expected)")
    for label in labels:
        x1, y1, x2, y2 = label.box2d
        if min(x1, y1) < -tolerance_px or x2 > width + tolerance_px or y2 > height + tolerance_px:
            raise KittiFormatError(label.source, f"2D box ({x1:g}, {y1:g}, {x2:g}, {y2:g}) lies outside the "
                                                 f"{width}x{height} image {dataset.path('image_2', frame)}",
                                   label.line)


def collect_stats(dataset: KittiDataset, frames: Sequence[int], progress: bool = True) -> DatasetStats:
    """Parse every file of ``frames`` (raising :class:`KittiFormatError` on the first bad one) and gather stats."""
    stats = DatasetStats()
    with_depth = dataset.has("depth_2")
    for frame in tqdm(frames, desc=f"checking {dataset.root.name}", unit="frame", disable=not progress):
        calib = dataset.calib(frame)
        image = dataset.image(frame)
        scan = dataset.velodyne(frame)
        labels = dataset.labels(frame)
        check_frame_geometry(dataset, frame, calib, image.shape[:2], labels)
        if with_depth:
            dataset.depth(frame, image.shape[:2])
            stats.depth_maps += 1
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
