"""Scene points from LiDAR and from dense depth (pseudo-LiDAR crops, flying pixels, 64-beam thinning)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kitti import geometry as g
from kitti.depth.point_source import DepthOptions, _thin_to_beams, depth_points, lidar_points
from kitti.io.calib import read_calib
from kitti.io.dataset import KittiDataset


def test_lidar_points_in_fov(kitti_real_root: Path) -> None:
    dataset = KittiDataset(kitti_real_root)
    calib, scan = dataset.calib(0), dataset.velodyne(0)
    pts = lidar_points(scan, calib, (375, 1242))
    assert pts.dtype == np.float32 and pts.shape[1] == 4 and 5000 < len(pts) < len(scan)
    uv, w = g.project_rect_to_image(pts, calib.P2)
    assert (w > 0).all() and (uv >= 0).all() and (uv[:, 0] < 1242).all() and (uv[:, 1] < 375).all()
    assert set(np.round(pts[:, 3], 4)) <= set(np.round(scan[:, 3], 4))


@pytest.fixture(scope="module")
def scene(kitti_real_root: Path) -> tuple:
    """A depth map of a road (rect y = 1.65 m) with a 20 m wall (rows 120..200, cols 500..700), sky above row 120
    elsewhere, and a far patch at 95 m."""
    calib = read_calib(kitti_real_root / "training" / "calib" / "000000.txt")
    height, width = 375, 1242
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    fv, cv = calib.P2[1, 1], calib.P2[1, 2]
    with np.errstate(divide="ignore"):
        depth = np.where(v > cv + 5, fv * 1.65 / (v - cv), 0.0)
    depth[120:200, 500:700] = 20.0
    depth[10:40, 100:200] = 95.0
    return calib, depth.astype(np.float32)


def test_depth_points_exact_and_cropped(scene: tuple) -> None:
    calib, depth = scene
    pts = depth_points(depth, calib, opts=DepthOptions(max_relative_gradient=np.inf))
    assert pts.dtype == np.float32 and (pts[:, 3] == 1.0).all()
    uv, w = g.project_rect_to_image(pts.astype(np.float64), calib.P2)
    u, v = np.round(uv).astype(int).T
    assert np.abs(uv - np.round(uv)).max() < 1e-3  # exact back-projection: pixels come back
    assert np.allclose(w, depth[v, u], rtol=1e-5)
    assert (w >= 1.0).all() and (w <= 80.0).all()  # range crop drops the 95 m patch
    velo = g.rect_to_velo(pts, calib)
    assert (velo[:, 2] <= 1.0 + 1e-4).all()  # height crop: nothing more than 1 m above the LiDAR
    # the wall reaches above the sensor: its top rows are cropped (rect y down: above = more negative y)
    wall = np.abs(w - 20.0) < 1e-3
    assert wall.any() and -1.3 < pts[wall, 1].min() and wall.sum() < 80 * 200
    sky = np.zeros(depth.shape, bool)
    sky[:, :621] = True
    half = depth_points(depth, calib, sky=sky, opts=DepthOptions(max_relative_gradient=np.inf))
    assert len(half) < len(pts) and (g.project_rect_to_image(half, calib.P2)[0][:, 0] >= 620.5).all()


def test_flying_pixels_and_beams(scene: tuple) -> None:
    calib, depth = scene
    all_pts = depth_points(depth, calib, opts=DepthOptions(max_relative_gradient=np.inf))
    clean = depth_points(depth, calib)
    uv = g.project_rect_to_image(clean, calib.P2)[0]
    # no surviving point next to the wall's left/right depth edges
    near_edge = (np.abs(uv[:, 0] - 499.5) < 1.0) | (np.abs(uv[:, 0] - 699.5) < 1.0)
    rows = (uv[:, 1] > 121) & (uv[:, 1] < 198)
    assert not (near_edge & rows).any() and len(clean) < len(all_pts)
    thin = depth_points(depth, calib, opts=DepthOptions(beams64=True))
    assert 0 < len(thin) < len(clean) / 4
    velo = g.rect_to_velo(thin, calib)
    assert len(_thin_to_beams(velo, DepthOptions())) == len(thin)  # at most one point per beam cell
