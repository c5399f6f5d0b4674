"""Heading choice with the 2D box: among candidate 3D boxes, the one whose projection (P2) agrees best with the
annotated 2D box and whose visible extent fits inside it; headings are reported mod pi in ``(-pi/2, pi/2]``
(points alone cannot tell the front from the back of a box)."""
from __future__ import annotations

import numpy as np

from kitti import geometry as g

#: metres of points left outside a candidate cost as much as this much 2D IoU
EXCESS_WEIGHT = 0.5


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
