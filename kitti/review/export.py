"""One frame's review assets under ``<review>/frames/``: the camera image (``%06d.jpg``), the bird's-eye view of
the points (``%06d_bev.png``) and the box data as a script (``%06d.js``, which calls ``REVIEW_FRAME({...})``:
pages opened from ``file://`` may load scripts and images, not JSON).

Box data: class, score, distance, size, heading, points in the box, source, suspicion components, the projected
corners in the image (pixels) and the bird's-eye footprint (rect ``x, z`` metres), and, where the data set has a
``label_2`` file, ground-truth boxes and each box's 3D IoU to its match (evaluation display only).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np

from kitti import geometry as g
from kitti.atomic import atomic_write_bytes, atomic_write_text
from kitti.depth.point_source import depth_points
from kitti.errors import KittiFormatError
from kitti.io.calib import Calibration
from kitti.io.dataset import KittiDataset
from kitti.io.labels import ObjectLabel, read_labels
from kitti.review import metrics

#: bird's-eye view extent (rect frame, metres) and resolution (metres per pixel); the page reads them from the index
BEV_X = (-35.0, 35.0)
BEV_Z = (0.0, 70.0)
BEV_RES = 0.1
JPEG_QUALITY = 85
#: source of a box when the labels carry no sidecar
DEFAULT_SOURCE = "alpi"
#: what each source of a label sidecar is called wherever boxes are shown (the run summary and the review page):
#: ``alpi`` boxes come from the learned detector
SOURCE_NAMES = {"geometric": "geometric", "alpi": "learned"}


def source_shares(counts: dict[str, int]) -> str:
    """``"geometric 96 %, learned 4 %"``: the share of the boxes per source (:data:`SOURCE_NAMES`), largest first;
    ``""`` without boxes."""
    total = sum(counts.values())
    if not total:
        return ""
    return ", ".join(f"{SOURCE_NAMES.get(name, name)} {100 * n / total:.0f} %"
                     for name, n in sorted(counts.items(), key=lambda item: -item[1]))


@dataclass(frozen=True)
class FrameInputs:
    """Where one build reads from: the data set (images, calibration, points, optional GT) and the labels folder."""

    data: Path
    labels: Path
    review: Path


def read_sources(labels_dir: Path, frame: int, count: int) -> list[str]:
    """Source of each box of a label file: the sidecar ``<labels>/%06d.source.json`` (a JSON list with one string
    per non-blank label line, e.g. ``"alpi"``, ``"geometric"``, ``"prior"``) when present, else ``"alpi"``."""
    path = labels_dir / f"{frame:06d}.source.json"
    if not path.is_file():
        return [DEFAULT_SOURCE] * count
    try:
        sources = json.loads(path.read_bytes().decode("utf-8"))
    except RecursionError:
        raise KittiFormatError(path, "nested too deeply (expected a JSON list of strings)") from None
    except ValueError as exc:  # invalid JSON or not UTF-8
        raise KittiFormatError(path, f"not valid UTF-8 JSON ({str(exc)[:120]})") from None
    except OSError as exc:
        raise KittiFormatError(path, f"cannot be read ({exc.strerror or exc})") from None
    if not isinstance(sources, list) or len(sources) != count or not all(isinstance(s, str) for s in sources):
        raise KittiFormatError(path, f"expected a JSON list of {count} strings (one per box of the label file)")
    return sources


def frame_points(dataset: KittiDataset, frame: int, calib: Calibration) -> np.ndarray | None:
    """LiDAR points ahead of the sensor (velodyne x > 0: all the camera and the boxes can see) in the rect frame
    ``(M, 3)``, or pseudo-LiDAR from ``depth_2`` when there is no scan; None when the data set has neither."""
    if dataset.path("velodyne", frame).is_file():
        scan = dataset.velodyne(frame)
        return g.velo_to_rect(scan[scan[:, 0] > 0, :3], calib)
    if dataset.path("depth_2", frame).is_file():
        maps = dataset.depth(frame)
        return depth_points(maps["depth"], calib, maps.get("sky"))[:, :3]
    return None


def render_bev(points_rect: np.ndarray | None) -> np.ndarray:
    """Grey bird's-eye image of the points (brighter = higher above the road), rows = decreasing z."""
    width = int(round((BEV_X[1] - BEV_X[0]) / BEV_RES))
    height = int(round((BEV_Z[1] - BEV_Z[0]) / BEV_RES))
    image = np.zeros((height, width), np.uint8)
    if points_rect is None or not len(points_rect):
        return image
    u = np.floor((points_rect[:, 0] - BEV_X[0]) / BEV_RES).astype(np.int64)
    v = np.floor((BEV_Z[1] - points_rect[:, 2]) / BEV_RES).astype(np.int64)
    keep = (u >= 0) & (u < width) & (v >= 0) & (v < height)
    # rect y points down and the sensor sits ~1.73 m above the road: height above road ~ 1.73 - y
    shade = np.clip(90 + (1.73 - points_rect[keep, 1]) * 70, 60, 255).astype(np.uint8)
    order = np.argsort(shade)  # brightest last, so tall structures win a pixel
    image[v[keep][order], u[keep][order]] = shade[order]
    return image


def _r(values: Any, digits: int = 2) -> Any:
    return [round(float(v), digits) for v in values]


def _geometry(label: ObjectLabel, P2: np.ndarray) -> tuple[list[list[float]] | None, list[list[float]]]:
    """Projected corners (8 x 2 pixels, None when the box reaches behind the camera) and the bird's-eye footprint
    (4 x 2, rect x and z metres)."""
    corners = g.box3d_corners(label.box3d[None])[0]
    footprint = [_r(c[[0, 2]]) for c in corners[:4]]
    if corners[:, 2].min() < 0.5:
        return None, footprint
    uv, _ = g.project_rect_to_image(corners, P2)
    return [_r(c, 1) for c in uv], footprint


def box_records(labels: Sequence[ObjectLabel], sources: Sequence[str], P2: np.ndarray, image_size: tuple[int, int],
                points_rect: np.ndarray | None, gt: Sequence[ObjectLabel] | None) -> list[dict[str, Any]]:
    """The page's record of each box (id = index of its line among the file's non-blank lines)."""
    iou2d = metrics.projected_iou(labels, P2, image_size)
    counts = metrics.points_per_box(points_rect, labels)
    gt_iou = metrics.gt_match_iou(labels, gt) if gt is not None else [None] * len(labels)
    records = []
    for index, label in enumerate(labels):
        components = metrics.suspicion_components(label, float(iou2d[index]), counts[index])
        image_corners, footprint = _geometry(label, P2)
        x, _, z = label.location
        records.append({
            "id": index, "cls": label.type, "score": None if label.score is None else round(label.score, 4),
            "dist": round(math.hypot(x, z), 2), "dims": _r(label.dims), "loc": _r(label.location),
            "ry": round(label.ry, 3), "points": counts[index], "source": sources[index], "box2d": _r(label.box2d, 1),
            "iou2d": round(float(iou2d[index]), 3), "size_dev": round(metrics.size_deviation(label), 2),
            "parts": {k: round(v, 3) for k, v in components.items()},
            "suspicion": round(metrics.suspicion(components), 3),
            "gt_iou": None if (match := gt_iou[index]) is None else round(match, 3),
            "img": image_corners, "bev": footprint})
    return records


def export_frame(inputs: FrameInputs, frame: int) -> dict[str, Any]:
    """Write one frame's assets; returns its index entry: the frame name and per box the fields the frame list
    filters and sorts on (class, score, distance, source, suspicion)."""
    dataset = KittiDataset(inputs.data)
    calib = dataset.calib(frame)
    image = dataset.image(frame)
    label_path = inputs.labels / f"{frame:06d}.txt"
    labels = read_labels(label_path) if label_path.is_file() else []
    sources = read_sources(inputs.labels, frame, len(labels))
    points = frame_points(dataset, frame, calib)
    gt_path = dataset.path("label_2", frame)
    # evaluation display only: ground truth never feeds the suspicion ranking
    gt = [obj for obj in read_labels(gt_path) if obj.type != "DontCare"] if gt_path.is_file() else None
    height, width = image.shape[:2]
    boxes = box_records(labels, sources, calib.P2, (height, width), points, gt)
    name = f"{frame:06d}"
    frames_dir = inputs.review / "frames"
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    ok_bev, bev = cv2.imencode(".png", render_bev(points))
    if not (ok and ok_bev):
        raise ValueError(f"frame {name}: OpenCV could not encode the review images")
    atomic_write_bytes(frames_dir / f"{name}.jpg", jpeg.tobytes())
    atomic_write_bytes(frames_dir / f"{name}_bev.png", bev.tobytes())
    gt_records = None if gt is None else [
        {"cls": obj.type, **dict(zip(("img", "bev"), _geometry(obj, calib.P2)))} for obj in gt]
    payload = {"frame": name, "width": width, "height": height, "boxes": boxes, "gt": gt_records,
               "has_points": points is not None}
    atomic_write_text(frames_dir / f"{name}.js", f"REVIEW_FRAME({json.dumps(payload, separators=(',', ':'))});\n")
    return {"frame": name, "boxes": [[b["cls"], b["score"], b["dist"], b["source"], b["suspicion"]] for b in boxes]}
