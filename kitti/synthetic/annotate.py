"""KITTI labels of a rendered frame, derived as an annotator would from the image and the LiDAR.

Per labelled object (instance ``i``):

* not visible in the image (fewer than ``MIN_PIXELS`` pixels of the instance map) -> no label line;
* 2D box as in KITTI's labels: the image box of the projected 3D box (its eight corners), clipped to
  ``[0, W-1] x [0, H-1]``, whether or not the object is occluded (measured on the 14 real frames: label box against
  projected 3D box, median 2D IoU 0.97-0.99 for cars and cyclists at every occlusion level); for pedestrians the
  horizontal extent is that of the person's own silhouette (rendered alone: the real boxes are 0.74 of the
  projected width, the 3D box holds the stride), the vertical extent still the projected box's;
* truncation = fraction of the area of the projected full 3D box that lies outside the image;
* occlusion from the visible fraction ``f`` = visible pixels / pixels of the object rendered alone:
  0 if ``f >= 0.9``, 1 (partly) if ``f >= 0.5``, 2 (largely) if ``f >= 0.1``, else 3;
* DontCare (box only) when the visible 2D box is lower than ``MIN_HEIGHT_PX``, the object is farther than
  ``MAX_DISTANCE`` (rect-frame distance of the box centre), no LiDAR point hit it (an annotator working on the
  point cloud could not place a 3D box), or too little of it is visible in the image (a car with fewer than
  :data:`MIN_VISIBLE_PIXELS` visible pixels, far and largely hidden: KITTI's annotators leave those unlabelled);
  overlapping DontCare boxes are merged into one region, as KITTI marks clusters of distant objects;
* 3D box = the sampled size and pose (the composite shape fills it tightly), bottom centre in the rect frame,
  ``ry`` from the heading vector transformed to the rect frame, ``alpha`` from :func:`kitti.geometry.alpha_from_ry`;
  with an ``rng``, as a KITTI annotator boxes it (:func:`annotated_object`): the box is placed on the point cloud
  with errors of :data:`ANNOTATION_NOISE`, and the 2D box and truncation follow the annotated box. The magnitudes
  are measured on the 14 real frames against the same labeller on the noise-free world: the heading error of the
  labeller on real cars at 10-30 m is 1.4-1.7 degrees (median absolute) against 0.5-0.6 on the world, i.e. about
  1.5 degrees of annotation noise; the ground around real cars lies 0.04 m above the box bottom (median; 0.02 on the
  world); the depth error grows with the distance (0.03 m at 10-20 m, 0.16-0.28 m beyond 20 m on real cars).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from kitti import geometry
from kitti.io.calib import Calibration
from kitti.io.labels import ObjectLabel
from kitti.synthetic.camera import cast_pixels
from kitti.synthetic.street import Scene, SceneObject

#: 1-sigma annotation errors of a 3D box: heading (degrees), along the viewing ray (metres, ``a + b * distance``),
#: across it (metres), bottom height (metres) and each of l, w, h (relative; half-normal, an annotator's box
#: encloses the object's points: on the 14 real frames the points of a car span 0.96 of its box length and 0.97 of
#: its width, median)
ANNOTATION_NOISE: dict[str, Any] = {"heading_deg": 1.5, "ray_m": (0.02, 0.003), "lateral_m": 0.03, "bottom_m": 0.03,
                                    "size": 0.03}
MIN_HEIGHT_PX = 20.0
MIN_PIXELS = 10
#: fewest visible pixels (of the instance map) of a labelled object, per class; an object with fewer is DontCare.
#: Derived from the 7,476 KITTI training label files (``small boxes`` in ``kitti_label_stats.json``, cited in
#: ``SOURCES.md``): the 1st percentile of the 2D box area of untruncated cars is 256 / 343 / 451 px^2 at occlusion
#: 0 / 1 / 2. It grows with the level about as the inverse of the level's largest visible share (1, 0.9 and 0.5
#: under :data:`OCCLUSION_LEVELS`): the annotators' floor is on the visible area, not on the box (a floor on the box
#: height would leave the three tails alike; their 2D heights differ less, p1 14.2 / 15.4 / 16.9 px). The smallest
#: labelled car of each level shows ``largest visible share x CAR_FILL x area`` pixels: 205 / 247 / 180, median 205,
#: hence 200. Pedestrians' and cyclists' tails do not grow with the level (185 / 166 / 159 and 131 / 437 / 329
#: px^2), so the floor is for cars only.
MIN_VISIBLE_PIXELS: dict[str, int] = {"Car": 200}
#: pixels of a car's silhouette / area of its 2D box, the world's unoccluded, untruncated cars beyond 30 m (median
#: of 49, seed 0, frames 0-39; 0.77 over all distances): turns the KITTI box areas above into visible pixels
CAR_FILL = 0.80
MAX_DISTANCE = 70.0
OCCLUSION_LEVELS = (0.9, 0.5, 0.1)  # visible-fraction thresholds of levels 0, 1, 2


def box3d_rect(obj: SceneObject, calib: Calibration) -> np.ndarray:
    """KITTI box ``(x, y_bottom, z, h, w, l, ry)`` (rect frame) of a scene object."""
    bottom = geometry.velo_to_rect(np.array([[obj.x, obj.y, obj.z]]), calib)[0]
    heading = calib.velo_to_rect[:3, :3] @ np.array([np.cos(obj.yaw), np.sin(obj.yaw), 0.0])
    ry = float(np.arctan2(-heading[2], heading[0]))
    return np.array([*bottom, obj.h, obj.w, obj.l, ry])


def annotated_object(obj: SceneObject, rng: np.random.Generator) -> SceneObject:
    """``obj`` as an annotator boxes it: pose and size with the errors of :data:`ANNOTATION_NOISE`."""
    noise = ANNOTATION_NOISE
    distance = float(np.hypot(obj.x, obj.y))
    ray = np.array([obj.x, obj.y]) / max(distance, 1e-6)
    e_ray, e_lat, e_bottom, e_heading = rng.normal(0.0, 1.0, size=4)
    scale = 1.0 + noise["size"] * np.abs(rng.normal(0.0, 1.0, size=3))  # boxes enclose the points: never smaller
    dx, dy = (noise["ray_m"][0] + noise["ray_m"][1] * distance) * e_ray * ray \
        + noise["lateral_m"] * e_lat * np.array([-ray[1], ray[0]])
    return SceneObject(obj.cls, obj.x + float(dx), obj.y + float(dy), obj.z + noise["bottom_m"] * float(e_bottom),
                       obj.yaw + float(np.radians(noise["heading_deg"]) * e_heading),
                       obj.l * float(scale[0]), obj.w * float(scale[1]), obj.h * float(scale[2]))


def _truncation(box: np.ndarray, calib: Calibration, height: int, width: int) -> float:
    hull = geometry.project_boxes_to_image(box[None], calib.P2)[0]
    area = (hull[2] - hull[0]) * (hull[3] - hull[1])
    inside = (np.clip(hull[2], 0, width - 1) - np.clip(hull[0], 0, width - 1)) * \
             (np.clip(hull[3], 0, height - 1) - np.clip(hull[1], 0, height - 1))
    return float(np.clip(1.0 - inside / area, 0.0, 1.0)) if area > 0 else 1.0


def _alone(scene: Scene, inst: int, box: np.ndarray, calib: Calibration, height: int, width: int
           ) -> tuple[int, tuple[float, float] | None]:
    """Image pixels the object covers when rendered without the rest of the scene, and the first / last column of
    that silhouette (None when it covers no pixel)."""
    hull = geometry.project_boxes_to_image(box[None], calib.P2, image_size=(height, width))[0]
    u0, v0, u1, v1 = np.floor(hull[:2]).astype(int).tolist() + np.ceil(hull[2:]).astype(int).tolist()
    v, u = np.mgrid[v0:v1 + 1, u0:u1 + 1]
    hits = cast_pixels(scene.prims.subset(scene.prims.instance == inst), None, calib, u.ravel(), v.ravel())
    covered = np.isfinite(hits.t)
    cols = u.ravel()[covered]
    return int(covered.sum()), ((float(cols.min()), float(min(cols.max() + 1, width - 1))) if cols.size else None)


def label_box2d(box: np.ndarray, cls: str, calib: Calibration, height: int, width: int,
                silhouette_cols: tuple[float, float] | None) -> tuple[float, float, float, float]:
    """The KITTI 2D box of a 3D box (module docstring): projected and clipped; a pedestrian's columns from its
    silhouette."""
    u0, v0, u1, v1 = (float(x) for x in geometry.project_boxes_to_image(box[None], calib.P2,
                                                                         image_size=(height, width))[0])
    if cls == "Pedestrian" and silhouette_cols is not None:
        u0, u1 = silhouette_cols
    return u0, v0, u1, v1


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


def annotate(scene: Scene, calib: Calibration, instance_map: np.ndarray, lidar_points_per_object: np.ndarray,
             rng: np.random.Generator | None = None) -> list[ObjectLabel]:
    """Label lines for a frame: objects first (in instance order), then the merged DontCare regions; with ``rng``
    the 3D boxes carry annotation noise (:func:`annotated_object`)."""
    height, width = instance_map.shape
    flat = instance_map.ravel()
    labelled = flat >= 0
    counts = np.bincount(flat[labelled], minlength=len(scene.objects))
    labels: list[ObjectLabel] = []
    dont_care: list[tuple[float, float, float, float]] = []
    for inst, obj in enumerate(scene.objects):
        if counts[inst] < MIN_PIXELS:
            continue
        annotated = annotated_object(obj, rng) if rng is not None else obj
        alone, silhouette_cols = _alone(scene, inst, box3d_rect(obj, calib), calib, height, width)
        box = box3d_rect(annotated, calib)
        box2d = label_box2d(box, obj.cls, calib, height, width, silhouette_cols)
        distance = float(np.linalg.norm(box[:3]))
        if (box2d[3] - box2d[1] < MIN_HEIGHT_PX or distance > MAX_DISTANCE
                or lidar_points_per_object[inst] == 0 or counts[inst] < MIN_VISIBLE_PIXELS.get(obj.cls, 0)):
            dont_care.append(box2d)
            continue
        visible = counts[inst] / max(alone, counts[inst])
        labels.append(ObjectLabel(
            obj.cls, round(_truncation(box, calib, height, width), 2), occlusion_level(visible), box2d,
            alpha=float(geometry.alpha_from_ry(box[6], box[0], box[2])), dims=(annotated.h, annotated.w, annotated.l),
            location=(float(box[0]), float(box[1]), float(box[2])), ry=float(box[6])))
    return labels + [_dont_care(b) for b in _merge_boxes(dont_care)]
