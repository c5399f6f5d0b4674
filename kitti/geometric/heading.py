"""Heading choice with the 2D box: among candidate 3D boxes, the one whose projection (P2) agrees best with the
annotated 2D box and whose visible extent fits inside it; headings are reported mod pi in ``(-pi/2, pi/2]``
(points alone cannot tell the front from the back of a box)."""
from __future__ import annotations

import numpy as np

from kitti import geometry as g

#: metres of points left outside a candidate cost as much as this much 2D IoU
EXCESS_WEIGHT = 0.5
#: 1-sigma error (pixels) of each vertical edge of a KITTI car's 2D box as the projection of its 3D box (90th
#: percentile of the centre offset over the KITTI label files, occlusion 0-2: 0.40-0.51 px)
EDGE_SIGMA_PX = 0.5
#: 1-sigma errors of a fitted car's heading (degrees: the labeller's median absolute heading error on the 14 real
#: frames' cars, 1.7), width (metres: the spread of KITTI car widths, 0.10) and length (metres: the same, 0.43, when
#: the points did not show it; else the width's)
HEADING_SIGMA_DEG = 1.7
SIZE_SIGMA = 0.10
PARTIAL_LENGTH_SIGMA = 0.43
#: Gauss-Newton steps of :func:`match_projected_width`
WIDTH_MATCH_STEPS = 3


def projected_iou(boxes: np.ndarray, box2d: np.ndarray, P2: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """2D IoU ``(K,)`` between the image-clipped projections of boxes ``(K, 7)`` and one 2D box (pixels)."""
    hulls = g.project_boxes_to_image(boxes, P2, image_size)
    return g.box2d_iou(hulls, np.asarray(box2d, np.float64)[None])[:, 0]


def top_edge_height(box: np.ndarray, v_top: float, P2: np.ndarray) -> float:
    """Height (metres) that puts the projected top of a bottom-centre ``box`` (KITTI 7-vector, rect) on the image
    row ``v_top`` (pixels, a 2D box's top edge), its bottom face, footprint and heading unchanged: the top face's
    highest corner in the image lies on that row."""
    corners = g.box3d_corners(np.asarray(box, np.float64)[None])[0, 4:]  # top face
    x, z = corners[:, 0], corners[:, 2]
    # v (P2[2] . X) = P2[1] . X, solved for the rect y of each corner
    y = (v_top * (P2[2, 0] * x + P2[2, 2] * z + P2[2, 3]) - P2[1, 0] * x - P2[1, 2] * z - P2[1, 3]) / (
        P2[1, 1] - v_top * P2[2, 1])
    return float(box[1] - y.max())


def centre_on_columns(box: np.ndarray, box2d: np.ndarray, P2: np.ndarray) -> np.ndarray:
    """``box`` (KITTI 7-vector, rect) moved along rect x so that its projection's horizontal centre lies on the 2D
    box's (pixels): the image columns the object spans place it laterally where its points may not (far cars
    whose dark or glazed side returns nothing)."""
    out = np.array(box, np.float64)
    hull = g.project_boxes_to_image(out[None], P2)[0]
    shift = 0.5 * ((box2d[0] + box2d[2]) - (hull[0] + hull[2]))
    out[0] += shift * out[2] / P2[0, 0]
    return out


def _projected_width(boxes: np.ndarray, P2: np.ndarray) -> np.ndarray:
    """Width (pixels) ``(K,)`` of the unclipped image box of each projected box ``(K, 7)``."""
    hull = g.project_boxes_to_image(boxes, P2)
    return hull[:, 2] - hull[:, 0]


def _reshaped(box: np.ndarray, ry: float, w: float, l: float) -> np.ndarray:
    """A KITTI ``box`` turned to ``ry`` about its centre, then resized to width ``w`` and length ``l`` (metres) with
    its faces nearest to the camera fixed (the fit sees those; the far faces are where its sizes grow)."""
    out = np.array(box, np.float64)
    out[6] = ry
    for axis, size, unit in ((4, w, np.array([np.sin(ry), np.cos(ry)])), (5, l, np.array([np.cos(ry), -np.sin(ry)]))):
        far = unit if float(unit @ out[[0, 2]]) >= 0.0 else -unit
        out[[0, 2]] += far * (size - out[axis]) / 2
        out[axis] = size
    return out


def match_projected_width(box: np.ndarray, box2d: np.ndarray, P2: np.ndarray, partial: bool,
                          bounds: tuple[tuple[float, float], tuple[float, float]]) -> np.ndarray:
    """``box`` (KITTI 7-vector, rect) whose heading, width and length (``bounds`` of width and length, metres) move
    so that its projection is as wide as the 2D box (pixels): the 2D box's width is a measurement of the
    projection's (error :data:`EDGE_SIGMA_PX` per column), the fit's values are the prior (errors
    :data:`HEADING_SIGMA_DEG`, :data:`SIZE_SIGMA`, and :data:`PARTIAL_LENGTH_SIGMA` for a length the points did
    not show); the most probable values (a few Gauss-Newton steps) move each by its share of the mismatch: the
    length of a car seen at an angle, the heading of a long car seen end-on, little of what the width hardly
    depends on."""
    prior = np.array([box[6], box[4], box[5]])
    var_prior = np.array([np.radians(HEADING_SIGMA_DEG), SIZE_SIGMA,
                          PARTIAL_LENGTH_SIGMA if partial else SIZE_SIGMA]) ** 2
    var_edge = 2 * EDGE_SIGMA_PX ** 2
    steps = np.array([np.radians(0.2), 0.02, 0.02])
    theta = prior.copy()
    target = float(box2d[2] - box2d[0])
    for _ in range(WIDTH_MATCH_STEPS):
        probes = [theta] + [theta + np.eye(3)[k] * steps[k] for k in range(3)]
        widths = _projected_width(np.stack([_reshaped(box, *p) for p in probes]), P2)
        jac = (widths[1:] - widths[0]) / steps
        # minimise (W(theta) - target)^2 / var_edge + sum((theta - prior)^2 / var_prior), W linearised at theta
        info = np.diag(1.0 / var_prior) + np.outer(jac, jac) / var_edge
        grad = jac * (widths[0] - target) / var_edge + (theta - prior) / var_prior
        theta = theta - np.linalg.solve(info, grad)
        theta[1] = np.clip(theta[1], *bounds[0])
        theta[2] = np.clip(theta[2], *bounds[1])
    return _reshaped(box, *theta)


def canonical_heading(ry: float) -> float:
    """``ry`` mod pi, in ``(-pi/2, pi/2]`` (radians)."""
    return float(np.pi / 2 - np.mod(np.pi / 2 - ry, np.pi))


def choose(boxes: np.ndarray, excess: np.ndarray, box2d: np.ndarray, P2: np.ndarray,
           image_size: tuple[int, int]) -> tuple[int, float]:
    """Index of the best candidate box ``(K, 7)`` and its projected 2D IoU: maximises ``IoU - EXCESS_WEIGHT *
    excess`` (``excess (K,)`` metres of visible extent beyond the candidate's size)."""
    iou = projected_iou(boxes, box2d, P2, image_size)
    best = int(np.argmax(iou - EXCESS_WEIGHT * np.asarray(excess)))
    return best, float(iou[best])
