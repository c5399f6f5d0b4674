"""Scene points of a frame in the rect camera frame, from LiDAR or from a dense metric depth map.

Every function returns float32 ``(N, 4)`` rows ``x, y, z, intensity`` in the rect camera frame (x right, y down,
z forward, metres) restricted to the image_2 field of view.

* ``lidar``: ``velodyne/%06d.bin`` -> image-FOV mask (projection inside the image and velodyne x > 2 m) -> rect.
* ``depth``: ``depth_2/%06d.npz`` pseudo-LiDAR (METHOD 21.4): every pixel ``(u, v)`` with depth ``D`` is
  back-projected exactly with :func:`kitti.geometry.image_to_rect`; dropped are sky (``sky`` key if present, else
  ``D == 0``), ``D`` outside :attr:`DepthOptions.depth_range`, points more than :attr:`DepthOptions.max_height`
  above the LiDAR (velodyne z, as pseudo-LiDAR's ``max_high``), and flying pixels at depth edges where
  ``|grad D| / D`` exceeds :attr:`DepthOptions.max_relative_gradient`. Optional 64-beam thinning keeps the nearest
  point per (elevation, azimuth) cell of a virtual HDL-64. Intensity is the constant 1.0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kitti import geometry as g
from kitti.calib import Calibration
from kitti.dataset import KittiDataset

POINT_SOURCES = ("lidar", "depth")
#: image-FOV rule: velodyne x must exceed this (metres)
FOV_MIN_FORWARD = 2.0


@dataclass(frozen=True)
class DepthOptions:
    """Pseudo-LiDAR conversion settings (metres, radians-free: angles in degrees)."""

    depth_range: tuple[float, float] = (1.0, 80.0)
    #: drop points higher than this above the LiDAR (velodyne z, metres)
    max_height: float = 1.0
    #: flying-pixel threshold on ``|grad D| / D`` (per pixel)
    max_relative_gradient: float = 0.1
    #: sky probability above which a pixel is sky (when the depth file has a ``sky`` array)
    sky_threshold: float = 0.5
    #: thin to a virtual 64-beam scan
    beams64: bool = False
    beam_top_deg: float = 2.0
    beam_spacing_deg: float = 0.4
    beam_rows: int = 64
    azimuth_columns: int = 512
    azimuth_fov_deg: float = 90.0


def lidar_points(scan: np.ndarray, calib: Calibration, image_size: tuple[int, int]) -> np.ndarray:
    """Velodyne scan ``(N, 4)`` -> FOV points ``(M, 4)`` float32 in the rect frame (intensity kept)."""
    height, width = image_size
    scan = scan[scan[:, 0] > FOV_MIN_FORWARD]  # cheap pre-filter, same rule as image_fov_mask's; halves its work
    scan = scan[g.image_fov_mask(scan, calib, width, height, FOV_MIN_FORWARD)]
    out = np.empty((len(scan), 4), np.float32)
    out[:, :3] = g.velo_to_rect(scan, calib)
    out[:, 3] = scan[:, 3]
    return out


def _flying_pixels(depth: np.ndarray, threshold: float) -> np.ndarray:
    """Bool ``(H, W)``: pixels whose relative depth gradient ``|grad D| / D`` exceeds ``threshold``."""
    dv, du = np.gradient(depth.astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.hypot(du, dv) / depth
    return ~(rel <= threshold)


def _thin_to_beams(points_velo: np.ndarray, opts: DepthOptions) -> np.ndarray:
    """Indices of the points kept by 64-beam thinning (nearest point per elevation/azimuth cell), sorted."""
    x, y, z = points_velo[:, 0], points_velo[:, 1], points_velo[:, 2]
    planar = np.hypot(x, y)
    elevation = np.degrees(np.arctan2(z, planar))
    azimuth = np.degrees(np.arctan2(y, x))
    row = np.floor((opts.beam_top_deg - elevation) / opts.beam_spacing_deg).astype(np.int64)
    col = np.floor((azimuth + opts.azimuth_fov_deg / 2) / opts.azimuth_fov_deg * opts.azimuth_columns).astype(np.int64)
    valid = np.flatnonzero((row >= 0) & (row < opts.beam_rows) & (col >= 0) & (col < opts.azimuth_columns))
    cell = row[valid] * opts.azimuth_columns + col[valid]
    order = np.lexsort((planar[valid], cell))
    first = np.ones(len(order), bool)
    first[1:] = cell[order][1:] != cell[order][:-1]
    return np.sort(valid[order[first]])


def depth_points(depth: np.ndarray, calib: Calibration, sky: np.ndarray | None = None,
                 opts: DepthOptions = DepthOptions()) -> np.ndarray:
    """Dense depth ``(H, W)`` metres (camera-2 depth, 0 = none) -> pseudo-LiDAR ``(M, 4)`` float32, rect frame."""
    valid = (depth >= opts.depth_range[0]) & (depth <= opts.depth_range[1])
    if sky is not None:
        valid &= ~(sky.astype(np.float64) > opts.sky_threshold)
    valid &= ~_flying_pixels(depth, opts.max_relative_gradient)
    v, u = np.nonzero(valid)
    rect = g.image_to_rect(np.stack([u, v], 1).astype(np.float64), depth[v, u], calib.P2)
    velo = g.rect_to_velo(rect, calib)
    keep = np.flatnonzero(velo[:, 2] <= opts.max_height)
    if opts.beams64:
        keep = keep[_thin_to_beams(velo[keep], opts)]
    out = np.empty((len(keep), 4), np.float32)
    out[:, :3] = rect[keep]
    out[:, 3] = 1.0
    return out


def scene_points(dataset: KittiDataset, frame: int, calib: Calibration, image_size: tuple[int, int],
                 source: str = "lidar", depth_options: DepthOptions = DepthOptions()) -> np.ndarray:
    """The FOV scene points of ``frame`` from ``source`` (``lidar`` or ``depth``), float32 ``(N, 4)`` rect frame."""
    if source == "lidar":
        return lidar_points(dataset.velodyne(frame), calib, image_size)
    if source == "depth":
        arrays = dataset.depth(frame, image_size)
        return depth_points(arrays["depth"], calib, arrays.get("sky"), depth_options)
    raise ValueError(f"unknown point source {source!r}; expected one of {', '.join(POINT_SOURCES)}")
