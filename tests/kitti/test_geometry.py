"""Geometry: frame round trips, box corners, projections, frustum rotation, points in boxes (real and synthetic)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kitti import geometry as g
from kitti.io.dataset import KittiDataset

DETECTION = ("Car", "Pedestrian", "Cyclist")


@pytest.fixture(scope="module")
def real(kitti_real_root: Path) -> KittiDataset:
    return KittiDataset(kitti_real_root)


def test_velo_rect_round_trip(real: KittiDataset) -> None:
    for frame in real.frame_ids():
        calib = real.calib(frame)
        points = real.velodyne(frame).astype(np.float64)
        back = g.rect_to_velo(g.velo_to_rect(points, calib), calib)
        assert np.abs(back - points[:, :3]).max() < 1e-9


def test_projection_of_labelled_boxes_matches_2d_boxes(real: KittiDataset) -> None:
    """Untruncated objects: the hull of the projected 3D box agrees with the annotated 2D box."""
    ious = []
    for frame in real.frame_ids():
        calib, size = real.calib(frame), real.image(frame).shape[:2]
        for label in real.labels(frame):
            if label.type != "DontCare" and label.truncation == 0:
                hull = g.project_boxes_to_image(label.box3d[None], calib.P2, size)
                ious.append(g.box2d_iou(np.array(label.box2d), hull)[0, 0])
    ious = np.array(ious)
    # Measured on the 14 frames: 63 boxes, median 0.969, 84 % above 0.7, minimum 0.477 (occluded objects whose
    # annotated box covers only the visible part).
    assert len(ious) >= 60
    assert np.median(ious) > 0.93
    assert (ious > 0.7).mean() > 0.8
    assert ious.min() > 0.4


def test_every_labelled_object_contains_lidar_points(real: KittiDataset) -> None:
    for frame in real.frame_ids():
        calib = real.calib(frame)
        rect = g.velo_to_rect(real.velodyne(frame), calib)
        labels = [lab for lab in real.labels(frame) if lab.type in DETECTION]
        if labels:
            counts = g.points_in_boxes_mask(rect, np.stack([lab.box3d for lab in labels])).sum(axis=0)
            assert (counts > 0).all(), f"frame {frame}: empty boxes {counts}"


def test_image_to_rect_inverts_projection(real: KittiDataset) -> None:
    calib = real.calib(8)
    rect = g.velo_to_rect(real.velodyne(8), calib)
    rect = rect[rect[:, 2] > 1]
    uv, w = g.project_rect_to_image(rect, calib.P2)
    assert np.abs(g.image_to_rect(uv, w, calib.P2) - rect).max() < 1e-9


def test_box_corners_layout() -> None:
    box = np.array([[1.0, 2.0, 10.0, 1.5, 1.6, 4.0, 0.0]])  # x, y_bottom, z, h, w, l, ry
    corners = g.box3d_corners(box)[0]
    assert np.allclose(corners[:4, 1], 2.0) and np.allclose(corners[4:, 1], 0.5)
    assert np.allclose(corners[:4, [0, 2]], corners[4:, [0, 2]])
    assert np.allclose(corners[:, 0].max() - corners[:, 0].min(), 4.0)  # ry = 0: length along x
    assert np.allclose(corners[:, 2].max() - corners[:, 2].min(), 1.6)
    turned = g.box3d_corners(np.array([[1.0, 2.0, 10.0, 1.5, 1.6, 4.0, np.pi / 2]]))[0]
    assert np.allclose(turned[0], [1.8, 2.0, 8.0])  # corner 0 (+l/2, +w/2) -> (x + w/2, z - l/2)


def test_frustum_rotation_maps_axis_to_z_and_inverts() -> None:
    rng = np.random.default_rng(0)
    P = np.array([[721.5, 0, 609.6, 44.86], [0, 721.5, 172.9, 0.216], [0, 0, 1, 0.0027]])
    box2d = np.array([[700.0, 150.0, 800.0, 220.0]])
    angle = g.frustum_angle(box2d, P)
    centre = np.array([[750.0, 185.0]])
    axis_point = g.image_to_rect(centre, np.array([20.0]), P)
    rotated = g.rotate_to_center(axis_point, angle)
    assert abs(rotated[0, 0]) < 1e-9 and rotated[0, 2] > 0
    points = rng.normal(size=(50, 4))
    assert np.allclose(g.rotate_from_center(g.rotate_to_center(points, angle[0]), angle[0]), points)
    ry = rng.uniform(-np.pi, np.pi, 100)
    back = g.heading_from_frustum(g.heading_to_frustum(ry, angle[0]), angle[0])
    assert np.allclose(np.cos(back - ry), 1.0)


def test_heading_rotation_consistent_with_box_corners() -> None:
    """Rotating a box's corners into the frustum frame equals the corners of the box with the frustum heading."""
    box = np.array([3.0, 1.7, 25.0, 1.5, 1.6, 4.0, 0.7])
    fa = -1.3
    corners = g.rotate_to_center(g.box3d_corners(box[None])[0], fa)
    centre = g.rotate_to_center(box[None, :3], fa)[0]
    moved = np.array([*centre, *box[3:6], g.heading_to_frustum(box[6], fa)])
    assert np.allclose(g.box3d_corners(moved[None])[0], corners)


def test_wrap_and_alpha() -> None:
    assert g.wrap_angle(np.pi) == pytest.approx(np.pi)
    assert g.wrap_angle(-np.pi) == pytest.approx(np.pi)
    assert g.wrap_angle(3 * np.pi / 2) == pytest.approx(-np.pi / 2)
    # object straight ahead: alpha == ry; object to the right (x = z): alpha = ry - pi/4
    assert g.alpha_from_ry(0.3, 0.0, 10.0) == pytest.approx(0.3)
    assert g.alpha_from_ry(0.3, 10.0, 10.0) == pytest.approx(0.3 - np.pi / 4)


def test_points_in_boxes_mask_faces_and_rotation() -> None:
    box = np.array([[0.0, 1.0, 10.0, 2.0, 2.0, 4.0, np.pi / 2]])  # length along -z after rotation
    points = np.array([
        [0.0, 0.0, 10.0],   # centre
        [0.0, 0.0, 11.99],  # inside along the (rotated) length
        [1.01, 0.0, 10.0],  # outside across the width
        [0.0, 1.0, 10.0],   # on the bottom face (inclusive)
        [0.0, 1.01, 10.0],  # below the bottom
        [0.0, -1.01, 10.0],  # above the top
    ])
    assert g.points_in_boxes_mask(points, box)[:, 0].tolist() == [True, True, False, True, False, False]
