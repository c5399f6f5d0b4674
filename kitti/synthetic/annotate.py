"""KITTI labels of a rendered frame, derived as an annotator would from the image and the LiDAR.

Per labelled object (instance ``i``):

* not visible in the image (fewer than ``MIN_PIXELS`` pixels of the instance map) -> no label line;
* 2D box = bounding box of the VISIBLE pixels (KITTI annotators box the visible extent), ``x2``/``y2`` the last
  pixel column / row, clipped to ``[0, W-1] x [0, H-1]``;
* truncation = fraction of the area of the projected full 3D box that lies outside the image;
* occlusion from the visible fraction ``f`` = visible pixels / pixels of the object rendered alone:
  0 if ``f >= 0.9``, 1 (partly) if ``f >= 0.5``, 2 (largely) if ``f >= 0.1``, else 3;
* DontCare (box only) when the visible 2D box is lower than ``MIN_HEIGHT_PX``, the object is farther than
  ``MAX_DISTANCE`` (rect-frame distance of the box centre), or no LiDAR point hit it (an annotator working on the
  point cloud could not place a 3D box); overlapping DontCare boxes are merged into one region, as KITTI marks
  clusters of distant objects;
* 3D box = the sampled size and pose (the composite shape fills it tightly), bottom centre in the rect frame,
  ``ry`` from the heading vector transformed to the rect frame, ``alpha`` from :func:`kitti.geometry.alpha_from_ry`.
"""
from __future__ import annotations

import numpy as np

from kitti import geometry
from kitti.io.calib import Calibration
from kitti.io.labels import ObjectLabel
from kitti.synthetic.camera import cast_pixels
from kitti.synthetic.street import Scene, SceneObject

MIN_HEIGHT_PX = 20.0
MIN_PIXELS = 10
MAX_DISTANCE = 70.0
OCCLUSION_LEVELS = (0.9, 0.5, 0.1)  # visible-fraction thresholds of levels 0, 1, 2


def box3d_rect(obj: SceneObject, calib: Calibration) -> np.ndarray:
    """KITTI box ``(x, y_bottom, z, h, w, l, ry)`` (rect frame) of a scene object."""
    bottom = geometry.velo_to_rect(np.array([[obj.x, obj.y, obj.z]]), calib)[0]
    heading = calib.velo_to_rect[:3, :3] @ np.array([np.cos(obj.yaw), np.sin(obj.yaw), 0.0])
    ry = float(np.arctan2(-heading[2], heading[0]))
    return np.array([*bottom, obj.h, obj.w, obj.l, ry])


def _truncation(box: np.ndarray, calib: Calibration, height: int, width: int) -> float:
    hull = geometry.project_boxes_to_image(box[None], calib.P2)[0]
    area = (hull[2] - hull[0]) * (hull[3] - hull[1])
    inside = (np.clip(hull[2], 0, width - 1) - np.clip(hull[0], 0, width - 1)) * \
             (np.clip(hull[3], 0, height - 1) - np.clip(hull[1], 0, height - 1))
    return float(np.clip(1.0 - inside / area, 0.0, 1.0)) if area > 0 else 1.0


def _pixels_alone(scene: Scene, inst: int, box: np.ndarray, calib: Calibration, height: int, width: int) -> int:
    """Image pixels the object covers when rendered without the rest of the scene."""
    hull = geometry.project_boxes_to_image(box[None], calib.P2, image_size=(height, width))[0]
    u0, v0, u1, v1 = np.floor(hull[:2]).astype(int).tolist() + np.ceil(hull[2:]).astype(int).tolist()
    v, u = np.mgrid[v0:v1 + 1, u0:u1 + 1]
    hits = cast_pixels(scene.prims.subset(scene.prims.instance == inst), None, calib, u.ravel(), v.ravel())
    return int(np.isfinite(hits.t).sum())


def occlusion_level(visible_fraction: float) -> int:
    """KITTI occlusion level (0-3) of an object of which ``visible_fraction`` of the pixels are visible."""
    for level, threshold in enumerate(OCCLUSION_LEVELS):
        if visible_fraction >= threshold:
            return level
    return 3


def _dont_care(box2d: tuple[float, float, float, float]) -> ObjectLabel:
    return ObjectLabel("DontCare", -1.0, -1, box2d, alpha=-10.0, dims=(-1.0, -1.0, -1.0),
                       location=(-1000.0, -1000.0, -1000.0), ry=-10.0)


def _merge_boxes(boxes: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """Union of overlapping boxes, repeated until no two overlap."""
    merged = [list(b) for b in boxes]
    changed = True
    while changed:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                a, b = merged[i], merged[j]
                if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                    merged[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return [tuple(b) for b in merged]


def annotate(scene: Scene, calib: Calibration, instance_map: np.ndarray, lidar_points_per_object: np.ndarray
             ) -> list[ObjectLabel]:
    """Label lines for a frame: objects first (in instance order), then the merged DontCare regions."""
    height, width = instance_map.shape
    flat = instance_map.ravel()
    labelled = flat >= 0
    counts = np.bincount(flat[labelled], minlength=len(scene.objects))
    labels: list[ObjectLabel] = []
    dont_care: list[tuple[float, float, float, float]] = []
    for inst, obj in enumerate(scene.objects):
        if counts[inst] < MIN_PIXELS:
            continue
        rows, cols = np.divmod(np.flatnonzero(flat == inst), width)
        box2d = (float(cols.min()), float(rows.min()), float(min(cols.max() + 1, width - 1)),
                 float(min(rows.max() + 1, height - 1)))
        box = box3d_rect(obj, calib)
        distance = float(np.linalg.norm(box[:3]))
        if (box2d[3] - box2d[1] < MIN_HEIGHT_PX or distance > MAX_DISTANCE
                or lidar_points_per_object[inst] == 0):
            dont_care.append(box2d)
            continue
        visible = counts[inst] / max(_pixels_alone(scene, inst, box, calib, height, width), counts[inst])
        labels.append(ObjectLabel(
            obj.cls, round(_truncation(box, calib, height, width), 2), occlusion_level(visible), box2d,
            alpha=float(geometry.alpha_from_ry(box[6], box[0], box[2])), dims=(obj.h, obj.w, obj.l),
            location=(float(box[0]), float(box[1]), float(box[2])), ry=float(box[6])))
    return labels + [_dont_care(b) for b in _merge_boxes(dont_care)]
