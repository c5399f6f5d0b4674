"""The training-free geometric labeller: one 3D box per 2D box of a frame, from the scene points and 2D labels only.

Per frame a RANSAC ground plane (:mod:`.ground`); per 2D box of a labelled class, nearest first (least occluded,
then lowest bottom edge in the image): frustum points above the ground that no nearer fitted box has claimed
(:func:`claim_order`; an occluder's points never become the occluded object), the object's BEV cluster
(:mod:`.segment`, seeded by the class depth prior), the local ground height around it (from the points around the
fitted footprint; a raised sidewalk lifts the box and the fit is redone without the sidewalk's points), the
prior-constrained BEV rectangles (:mod:`.bevfit`), the height from the ground to the top points, the candidate whose
projection agrees best with the 2D box (:mod:`.heading`) and a fit-quality score (:mod:`.score`, lowered for occluded
2D labels). A cluster of fewer than :data:`MIN_FIT_POINTS` points (a far object hit by a handful of beams) places a
box of the class mean size on the ray through the 2D box centre, its near side at the nearest point's range
(``source="sparse"``); where no cluster is found, such a box stands at the prior depth ``f_v H / h_box``
(``source="prior"``, low score). Frames and boxes: rect camera frame, KITTI bottom-centre boxes ``(x, y_bottom, z,
h, w, l, ry)``. Nothing here reads 3D label fields: labels are :class:`kitti.io.labels.Label2D`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from kitti import geometry as g
from kitti.geometric.bevfit import HEIGHT_MARGIN, PERSON_CLASSES, BevCandidate, bev_candidates, prior_size
from kitti.geometric.direction import orient
from kitti.geometric.ground import GroundBand, GroundPlane, fit_ground, local_offset
from kitti.geometric.heading import (
    canonical_heading,
    centre_on_columns,
    choose,
    match_projected_width,
    projected_iou,
    top_edge_height,
)
from kitti.geometric.score import R0, fit_score, prior_score
from kitti.geometric.segment import MIN_HEIGHT_ABOVE_GROUND, BottomEdge, Segment, frustum_mask, segment_object
from kitti.hdl64 import HDL64_UPPER_SPACING_DEG
from kitti.io.calib import Calibration
from kitti.io.labels import Label2D, ObjectLabel
from kitti.priors import CLASSES, HEIGHT_PRIOR, MEAN_SIZE, SIZE_RANGE, SIZE_STD, depth_estimate

#: fewest cluster points for a rectangle fit, per class; a cluster with fewer (down to :data:`MIN_CLUSTER_POINTS`)
#: only places a prior-size box behind its points (``source="sparse"``: far objects hit by a handful of beams)
MIN_FIT_POINTS = {"Car": 5, "Pedestrian": 3, "Cyclist": 3}
#: fewest points of a cluster that may be the object
MIN_CLUSTER_POINTS = 2
#: headings tried for a prior box (mod pi)
PRIOR_HEADINGS = 12
#: local ground higher than this above the plane (metres) lifts the box (kerb-high sidewalks)
LIFT_MIN = 0.05
SOURCES = ("fit", "sparse", "prior")
#: classes whose largely occluded 2D boxes (KITTI level >= 2) bound the depth from above only: a person hidden from
#: below (behind a parked car) has a 2D box shorter than the body, so the height prior ``f_v H / h_box`` lies too far
DEPTH_BOUND_CLASSES = ("Pedestrian", "Cyclist")
#: a 2D box edge this close (pixels) to the left or right image border is truncated there
BORDER_PX = 2.0
#: points projecting up to this fraction of the image width beyond its left / right border are kept (truncated boxes)
OUTSIDE_IMAGE = 0.5
#: classes whose fitted box is centred laterally on the columns of an untruncated 2D box (a rigid body's box projects
#: onto its 2D box; a person's 2D box spans the stride and swinging arms, and the points place them)
COLUMN_CENTRED = ("Car",)
#: highest occlusion level whose 2D box is read as the image box of the whole projected 3D box, the hidden part
#: included (a car is centred on its columns and its width matched; every class's cluster stands on its bottom edge).
#: Over every 3rd of the 7,476 KITTI label files (untruncated cars beyond 3 m), the 2D box's centre lies 0.16 / 0.16 /
#: 0.19 px (median; 90th percentile 0.51 / 0.42 / 0.40 px) from the projected 3D box's at occlusion 0 / 1 / 2, widths
#: in ratio 1.00, bottom edges within 1.0 px (90 %) for cars, pedestrians and cyclists; level 3 ("unknown") is left to
#: boxes drawn around the visible part only (README)
AMODAL_MAX_OCCLUSION = 2
#: metres a fitted box grows on each side when it claims the points inside it (:func:`label_frame`)
CLAIM_MARGIN = 0.15
#: the same when a person's box claims points from other people: none, it already spans arms and stride, and a
#: neighbour in a group stands closer than :data:`CLAIM_MARGIN` (their returns are theirs)
PERSON_CLAIM_MARGIN = 0.0


@dataclass(frozen=True)
class FrameInputs:
    """What the labeller sees of one frame: calibration, image size ``(H, W)`` pixels, scene points ``(N, 3+)`` in
    the rect frame (points in front of the camera outside the image are used for truncated boxes) and the 2D labels;
    boxes are made for labels whose class is in ``classes``."""

    calib: Calibration
    image_size: tuple[int, int]
    points: np.ndarray
    labels: Sequence[Label2D]
    classes: tuple[str, ...] = CLASSES


@dataclass(frozen=True)
class GeometricBox:
    """One labelled box: ``box`` the KITTI 7-vector ``(x, y_bottom, z, h, w, l, ry)`` (rect frame, metres,
    radians), its class, fit-quality ``score`` in [0, 1], the number of object points used, ``source`` (one of
    :data:`SOURCES`) and the 2D label it was made for."""

    box: np.ndarray
    class_name: str
    score: float
    n_points: int
    source: str
    label: Label2D

    def to_label(self, score_scale: float = 1.0) -> ObjectLabel:
        """The KITTI prediction line (16 fields) of this box, with score ``score_scale * score``."""
        x, y, z, h, w, l, ry = (float(v) for v in self.box)
        return ObjectLabel(self.class_name, self.label.truncation, self.label.occlusion, self.label.box2d,
                           alpha=float(g.alpha_from_ry(ry, x, z)), dims=(h, w, l), location=(x, y, z), ry=ry,
                           score=score_scale * self.score)


def ray_box(class_name: str, box2d: np.ndarray, calib: Calibration, image_size: tuple[int, int],
            ground: GroundPlane, surface_range: float | None = None) -> tuple[np.ndarray, float]:
    """A class-mean-size box on the ray through the 2D box centre, standing on the ground, with the heading (of
    :data:`PRIOR_HEADINGS`, mod pi) whose projection best matches the 2D box; and that IoU. Its centre lies at the
    prior depth ``f_v H / h_box``, or, given the BEV range ``surface_range`` (metres) of the nearest of a few object
    points (the others lie on or behind the near face), so far behind them that the box's near side (its
    half-extent along the ray) is at that range."""
    l, w, h = MEAN_SIZE[class_name]
    centre = np.array([[(box2d[0] + box2d[2]) / 2, (box2d[1] + box2d[3]) / 2]])
    headings = np.array([canonical_heading(ry) for ry in np.arange(PRIOR_HEADINGS) * np.pi / PRIOR_HEADINGS])
    if surface_range is None:
        depths = np.full(len(headings), depth_estimate(class_name, box2d[3] - box2d[1], calib.focal_v))
    else:
        unit = g.image_to_rect(centre, np.array([1.0]), calib.P2)[0] - g.image_to_rect(centre, np.array([0.0]),
                                                                                       calib.P2)[0]
        ray_angle = np.arctan2(unit[2], unit[0])
        off_axis = -headings - ray_angle  # angle between the length axis (BEV angle -ry) and the ray
        half_extent = l / 2 * np.abs(np.cos(off_axis)) + w / 2 * np.abs(np.sin(off_axis))
        depths = (surface_range + half_extent) * unit[2] / np.hypot(unit[0], unit[2])
    boxes = []
    for depth, ry in zip(depths, headings):
        x, y_mid, z = g.image_to_rect(centre, np.array([depth]), calib.P2)[0]
        y_ground = float(ground.y_at(x, z))
        y_bottom = y_ground if abs(y_ground - (y_mid + h / 2)) < h else y_mid + h / 2
        boxes.append([x, y_bottom, z, h, w, l, ry])
    boxes_arr = np.array(boxes)
    iou = projected_iou(boxes_arr, box2d, calib.P2, image_size)
    best = int(np.argmax(iou))
    return boxes_arr[best], float(iou[best])


def cut_vertically(box2d: np.ndarray, image_size: tuple[int, int]) -> bool:
    """Whether a 2D box touches the top or bottom image border: its height (pixels) is then only a lower bound of
    the object's, so the height prior ``f_v H / h_box`` bounds the depth from above only."""
    return bool(box2d[1] <= BORDER_PX or box2d[3] >= image_size[0] - 1 - BORDER_PX)


def touches_side(box2d: np.ndarray, image_size: tuple[int, int]) -> bool:
    """Whether a 2D box touches the left or right image border (the object continues outside the image)."""
    return bool(box2d[0] <= BORDER_PX or box2d[2] >= image_size[1] - 1 - BORDER_PX)


def search_box(box2d: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """The image region searched for a 2D box's points: the box, open to infinity on a side where it touches the
    image border (a truncated object continues outside the image, where LiDAR points may still see it)."""
    out = np.array(box2d, np.float64)
    if out[0] <= BORDER_PX:
        out[0] = -np.inf
    if out[2] >= image_size[1] - 1 - BORDER_PX:
        out[2] = np.inf
    return out


def bottom_edge(box2d: np.ndarray, calib: Calibration, image_size: tuple[int, int], ground: GroundPlane,
                band: GroundBand) -> BottomEdge | None:
    """The 2D box's bottom edge as the object's ground contact (:class:`kitti.geometric.segment.BottomEdge`), on the
    local ground (:func:`kitti.geometric.ground.local_offset` around a 0.5 m footprint); None where the box touches
    an image border (the edge is then the border's, not the object's)."""
    if cut_vertically(box2d, image_size) or touches_side(box2d, image_size):
        return None

    def ground_y(x: float, z: float) -> float:
        lift = local_offset(band, np.array([x, 0.0, z, 0.0, 0.5, 0.5, 0.0]))
        return float(ground.y_at(x, z)) + lift * float(ground.normal[1])

    return BottomEdge(float(box2d[3]), calib.P2, ground_y)


def _fit_box(class_name: str, obj_points: np.ndarray, box2d: np.ndarray, calib: Calibration,
             image_size: tuple[int, int], ground: GroundPlane, lift: float) -> tuple[np.ndarray, float, BevCandidate]:
    """The fitted box of an object's points ``(K, 3)`` standing ``lift`` metres above the plane (local ground):
    (box, projected 2D IoU, the BEV candidate it came from)."""
    candidates = bev_candidates(obj_points[:, [0, 2]], class_name,
                                heights=ground.height(obj_points) - lift)
    mean_h, std_h, range_h = MEAN_SIZE[class_name][2], SIZE_STD[class_name][2], SIZE_RANGE[class_name][2]
    top = float(np.percentile(obj_points[:, 1], 2))
    boxes = []
    for cand in candidates:
        y_bottom = float(ground.y_at(cand.centre[0], cand.centre[1])) + lift * ground.normal[1]
        h = prior_size(y_bottom - top, mean_h, std_h, HEIGHT_MARGIN, range_h)
        boxes.append([cand.centre[0], y_bottom, cand.centre[1], h, cand.w, cand.l, canonical_heading(cand.ry)])
    boxes_arr = np.array(boxes)
    best, iou = choose(boxes_arr, np.array([c.excess for c in candidates]), box2d, calib.P2, image_size)
    box = boxes_arr[best]
    if box2d[1] > BORDER_PX:  # the 2D box's top edge is the object's: its height is another lower bound
        seen = max(box[1] - top, top_edge_height(box, float(box2d[1]), calib.P2))
        box[3] = prior_size(seen, mean_h, std_h, HEIGHT_MARGIN, range_h)
        iou = float(projected_iou(box[None], box2d, calib.P2, image_size)[0])
    return box, iou, candidates[best]


def _place(label: Label2D, segment: Segment | None, calib: Calibration, size: tuple[int, int], ground: GroundPlane,
           band: GroundBand) -> GeometricBox:
    """The box of one 2D label from its cluster (module docstring): a rectangle fit (on the local ground), a
    sparse placement behind a few points, or the prior depth without a cluster; its direction by
    :func:`kitti.geometric.direction.orient`."""
    class_name, box2d = label.type, np.asarray(label.box2d, np.float64)
    if segment is None:
        box, iou = ray_box(class_name, box2d, calib, size, ground)
        return GeometricBox(orient(class_name, box), class_name, prior_score(iou), 0, "prior", label)
    n = len(segment.points)
    if n < MIN_FIT_POINTS[class_name]:
        surface = float(np.min(np.linalg.norm(segment.points[:, [0, 2]], axis=1)))
        box, iou = ray_box(class_name, box2d, calib, size, ground, surface)
        return GeometricBox(orient(class_name, box), class_name, fit_score(class_name, n, R0, iou, label.occlusion),
                            n, "sparse", label)
    obj_points = segment.points
    box, iou, fit = _fit_box(class_name, obj_points, box2d, calib, size, ground, 0.0)
    lift = local_offset(band, box)
    if lift > LIFT_MIN:  # on a raised surface: refit without its points, standing on it
        raised = obj_points[ground.height(obj_points) > lift + MIN_HEIGHT_ABOVE_GROUND[class_name]]
        if len(raised) >= MIN_FIT_POINTS[class_name]:
            obj_points = raised
        box, iou, fit = _fit_box(class_name, obj_points, box2d, calib, size, ground, lift)
    else:
        lift = 0.0
    centred = class_name in COLUMN_CENTRED and 0 <= label.occlusion <= AMODAL_MAX_OCCLUSION
    if centred and not touches_side(box2d, size):  # the score keeps the fit's own 2D agreement
        box = match_projected_width(box, box2d, calib.P2, fit.partial,
                                    (SIZE_RANGE[class_name][1], SIZE_RANGE[class_name][0]))
        box = centre_on_columns(box, box2d, calib.P2)
    box = orient(class_name, box, obj_points, ground.height(obj_points) - lift)
    score = fit_score(class_name, len(obj_points), fit.residual, iou, label.occlusion, fit.partial)
    return GeometricBox(box, class_name, score, len(obj_points), "fit", label)


def claim_order(labels: Sequence[Label2D]) -> list[int]:
    """Indices of ``labels`` in the order their boxes are fitted: the occlusion level (0 = fully visible) first,
    then the 2D box's bottom edge, lowest in the image first (nearer on a flat road). An occluder is thus fitted
    before the objects it hides and claims its points."""
    return sorted(range(len(labels)), key=lambda i: (max(labels[i].occlusion, 0), -labels[i].box2d[3]))


def label_frame(inputs: FrameInputs) -> list[GeometricBox]:
    """One :class:`GeometricBox` per 2D label of a wanted class, in label order (module docstring)."""
    return label_frame_and_claims(inputs)[0]


def label_frame_and_claims(inputs: FrameInputs) -> tuple[list[GeometricBox], list[np.ndarray]]:
    """:func:`label_frame`, and per box the indices (int64, into ``inputs.points``) of the points its search left out
    because a box fitted before it claimed them (:func:`claim_order`: its occluders' and nearer objects' returns)."""
    calib, size = inputs.calib, inputs.image_size
    points = np.asarray(inputs.points, np.float64)[:, :3]
    uv, cam_depth = g.project_rect_to_image(points, calib.P2)
    height, width = size
    near_image = np.flatnonzero((cam_depth > 0.5) & (uv[:, 1] >= 0) & (uv[:, 1] < height)
                                & (uv[:, 0] > -OUTSIDE_IMAGE * width) & (uv[:, 0] < (1 + OUTSIDE_IMAGE) * width))
    points, uv = points[near_image], uv[near_image]
    ground = fit_ground(points)
    heights = ground.height(points)
    band = GroundBand.of(points, heights)
    beam_rows = calib.focal_v * float(np.tan(np.radians(HDL64_UPPER_SPACING_DEG)))
    claimed = np.zeros(len(points), bool)  # inside a fitted box grown by CLAIM_MARGIN
    claimed_for_people = np.zeros(len(points), bool)  # the same, people's boxes grown by PERSON_CLAIM_MARGIN
    results: dict[int, GeometricBox] = {}
    taken_by: dict[int, np.ndarray] = {}
    for index in claim_order(inputs.labels):
        label = inputs.labels[index]
        if label.type not in inputs.classes:
            continue
        class_name, box2d = label.type, np.asarray(label.box2d, np.float64)
        taken = claimed_for_people if class_name in PERSON_CLASSES else claimed
        taken_by[index] = near_image[taken]
        in_box = frustum_mask(uv, search_box(box2d, size)) & ~taken
        prior_depth = depth_estimate(class_name, max(box2d[3] - box2d[1], 1.0), calib.focal_v)
        segment = segment_object(points[in_box], uv[in_box], heights[in_box], box2d, class_name, prior_depth,
                                 HEIGHT_PRIOR[class_name], MIN_CLUSTER_POINTS,
                                 fully_visible=label.occlusion == 0 and label.truncation < 0.1,
                                 depth_bound=(label.occlusion >= 2 and class_name in DEPTH_BOUND_CLASSES)
                                 or cut_vertically(box2d, size), beam_rows=beam_rows,
                                 bottom=bottom_edge(box2d, calib, size, ground, band)
                                 if 0 <= label.occlusion <= AMODAL_MAX_OCCLUSION else None)
        results[index] = _place(label, segment, calib, size, ground, band)
        if results[index].source != "prior":
            grown = g.points_in_boxes_mask(points, results[index].box[None], CLAIM_MARGIN)[:, 0]
            claimed |= grown
            claimed_for_people |= (g.points_in_boxes_mask(points, results[index].box[None], PERSON_CLAIM_MARGIN)[:, 0]
                                   if class_name in PERSON_CLASSES else grown)
    return [results[i] for i in sorted(results)], [taken_by[i] for i in sorted(results)]
