"""Pseudo-LiDAR point sources: exact back-projection on real LiDAR, the selectable depth directory, and the
``lidar+depth`` source (LiDAR plus LiDAR-aligned depth points where the LiDAR is sparse or far)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kitti import geometry as g
from kitti.depth.point_source import (
    DepthOptions,
    check_point_inputs,
    combine_lidar_depth,
    depth_points,
    lidar_empty_cells,
    lidar_points,
    scene_points,
)
from kitti.errors import KittiFormatError
from kitti.frustum import engine as fx
from kitti.frustum.store import read_manifest
from kitti.io.dataset import KittiDataset
from kitti.io.depthmap import read_depth, write_depth

NO_CROPS = DepthOptions(depth_range=(1e-3, 1e9), max_height=np.inf, max_relative_gradient=np.inf)


@pytest.mark.parametrize("frame", [0, 8])
def test_back_projection_round_trip_on_real_lidar(kitti_real_root: Path, tmp_path: Path, frame: int) -> None:
    """Real LiDAR points -> sparse depth map (nearest point per pixel, moved onto its pixel's ray) -> npz ->
    depth source -> the same points within 1e-6 m, in the rect and velodyne frames."""
    dataset = KittiDataset(kitti_real_root)
    calib, size = dataset.calib(frame), dataset.image(frame).shape[:2]
    rect = lidar_points(dataset.velodyne(frame), calib, size)[:, :3].astype(np.float64)
    uv, w = g.project_rect_to_image(rect, calib.P2)
    u, v = np.rint(uv[:, 0]).astype(int), np.rint(uv[:, 1]).astype(int)
    inside = (u < size[1]) & (v < size[0])
    order = np.lexsort((w, v * size[1] + u))
    first = order[np.r_[True, np.diff((v * size[1] + u)[order]) != 0]]  # nearest point of each pixel
    first = first[inside[first]]
    w32 = w[first].astype(np.float32).astype(np.float64)  # depth maps store float32
    # expected: the point on pixel (u, v)'s ray at camera depth w, from the forward model alone (generic solver)
    rhs = np.stack([u[first] * w32, v[first] * w32, w32], 1) - calib.P2[:, 3]
    expected = np.linalg.lstsq(calib.P2[:, :3], rhs.T, rcond=None)[0].T
    # pixel snapping moves a point by at most half a pixel diagonal at its depth
    assert np.linalg.norm(expected - rect[first], axis=1).max() < 0.75 * w32.max() / calib.focal_u + 1e-3
    depth = np.zeros(size, np.float32)
    depth[v[first], u[first]] = w32
    write_depth(tmp_path / "d.npz", depth)
    points = depth_points(read_depth(tmp_path / "d.npz")["depth"], calib, opts=NO_CROPS)
    assert points.dtype == np.float32 and len(points) == len(first) and (points[:, 3] == 1.0).all()
    # depth_points emits pixels in row-major order; float32 output, so compare the float64 back-projection too
    row_major = np.lexsort((u[first], v[first]))
    exact = g.image_to_rect(np.stack([u[first], v[first]], 1), w32, calib.P2)
    assert np.abs(exact - expected).max() < 1e-6
    assert np.abs(g.rect_to_velo(exact, calib) - g.rect_to_velo(expected, calib)).max() < 1e-6
    np.testing.assert_allclose(points[:, :3], expected[row_major], atol=1e-5)  # float32 storage of ~80 m values


def _fake_kitti(kitti_real_root: Path, root: Path, frame: int = 0) -> None:
    for kind, ext in (("calib", "txt"), ("velodyne", "bin"), ("image_2", "png")):
        (root / "training" / kind).mkdir(parents=True, exist_ok=True)
        (root / "training" / kind / f"{frame:06d}.{ext}").symlink_to(
            kitti_real_root / "training" / kind / f"{frame:06d}.{ext}")


def test_depth_directory_is_selectable(kitti_real_root: Path, tmp_path: Path) -> None:
    _fake_kitti(kitti_real_root, tmp_path)
    dataset = KittiDataset(tmp_path)
    calib, size = dataset.calib(0), (370, 1224)
    with pytest.raises(KittiFormatError, match="generate_da3_depth"):
        check_point_inputs(dataset, [0], "depth", DepthOptions(depth_dir="DA3_depth_results"))
    for name, value in (("depth_2", 10.0), ("DA3_depth_results", 20.0)):
        write_depth(tmp_path / "training" / name / "000000.npz", np.full(size, value, np.float32))
        pts = scene_points(dataset, 0, calib, size, "depth", DepthOptions(depth_dir=name, max_height=np.inf))
        uv, w = g.project_rect_to_image(pts, calib.P2)
        np.testing.assert_allclose(w, value, rtol=1e-5)
    check_point_inputs(dataset, [0], "lidar+depth", DepthOptions(depth_dir="DA3_depth_results"))
    with pytest.raises(ValueError, match="depth_dir"):
        DepthOptions(depth_dir="elsewhere")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two synthetic frames with monocular-like depth in depth_2 (standing in for DA3 output); frame 1 in val."""
    from kitti.synthetic.generate import generate_dataset

    root = tmp_path_factory.mktemp("synthetic_pl")
    generate_dataset(root, 2, seed=7, val_fraction=0.5, workers=1, depth_error="mono")
    return root


def test_lidar_plus_depth_follows_its_rules(world: Path) -> None:
    dataset = KittiDataset(world)
    frame = dataset.frame_ids()[0]
    calib, arrays = dataset.calib(frame), dataset.depth(frame)
    size = arrays["depth"].shape
    lidar = lidar_points(dataset.velodyne(frame), calib, size)
    opts = DepthOptions()
    combined, fit = combine_lidar_depth(lidar, arrays["depth"], calib, arrays.get("sky"), opts)
    assert fit.scale == pytest.approx(1.0 / float(arrays["mono_scale"]), rel=0.01)
    np.testing.assert_array_equal(combined[: len(lidar)], lidar)  # LiDAR rows first, unchanged
    extra = combined[len(lidar):]
    assert len(extra) > 1000 and (extra[:, 3] == 1.0).all()
    uv, w = g.project_rect_to_image(extra, calib.P2)
    u, v = np.rint(uv[:, 0]).astype(int), np.rint(uv[:, 1]).astype(int)
    empty = lidar_empty_cells(lidar, calib.P2, size, opts.combine_cell_px)
    far = w >= opts.combine_min_depth - 1e-3
    assert (far | empty[v, u]).all() and far.any() and (~far).any()
    # the same through scene_points
    np.testing.assert_array_equal(scene_points(dataset, frame, calib, size, "lidar+depth", opts), combined)
    # far points only when the LiDAR covers every cell; a LiDAR hole (e.g. a dark car) is filled with depth points
    hole = (slice(150, 250), slice(400, 700))
    luv, _ = g.project_rect_to_image(lidar, calib.P2)
    in_hole = (luv[:, 1] >= 150) & (luv[:, 1] < 250) & (luv[:, 0] >= 400) & (luv[:, 0] < 700)
    holed, _ = combine_lidar_depth(lidar[~in_hole], arrays["depth"], calib, None,
                                DepthOptions(combine_min_depth=np.inf))
    huv, _ = g.project_rect_to_image(holed[(~in_hole).sum():], calib.P2)
    h_in = (huv[:, 1] >= 150 - 0.5) & (huv[:, 1] < 250) & (huv[:, 0] >= 400 - 0.5) & (huv[:, 0] < 700)
    has_depth = (arrays["depth"][hole] > 0).sum()
    assert h_in.sum() > 0.5 * has_depth
    empty_map = dataset.dir / "DA3_depth_results" / f"{frame:06d}.npz"
    write_depth(empty_map, np.zeros(size, np.float32))
    with pytest.raises(KittiFormatError, match="cannot align"):
        scene_points(dataset, frame, calib, size, "lidar+depth", DepthOptions(depth_dir="DA3_depth_results"))
    empty_map.unlink()


def test_frustum_extractor_accepts_lidar_plus_depth(world: Path, tmp_path: Path) -> None:
    assert fx.main(["--output", str(tmp_path), "--data", str(world), "--set", "val", "--points", "lidar+depth",
                    "--depth-dir", "depth_2", "--workers", "1"]) == 0
    manifest = read_manifest(tmp_path / "frustums_val.npz")
    assert manifest["point_source"] == "lidar+depth" and manifest["inputs"]["depth"]["depth_dir"] == "depth_2"
    assert fx.main(["--output", str(tmp_path), "--data", str(world), "--set", "val", "--points", "depth",
                    "--depth-dir", "DA3_depth_results", "--workers", "1"]) == 2  # no DA3 depth there
