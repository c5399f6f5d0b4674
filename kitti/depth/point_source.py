"""Scene points of a frame in the rect camera frame, from LiDAR or from a dense metric depth map.

Every function returns float32 ``(N, 4)`` rows ``x, y, z, intensity`` in the rect camera frame (x right, y down,
z forward, metres) restricted to the image_2 field of view.

* ``lidar``: ``velodyne/%06d.bin`` -> image-FOV mask (projection inside the image and velodyne x > 2 m) -> rect.
* ``depth``: pseudo-LiDAR (docs/design.md §10.1) from ``<subset>/<depth_dir>/%06d.npz`` (:attr:`DepthOptions.depth_dir`:
  ``depth_2``, the synthetic world's rendered depth, or ``DA3_depth_results`` of :mod:`kitti.depth.generate`;
  format in :mod:`kitti.io.depthmap`): every pixel ``(u, v)`` with depth ``D`` is
  back-projected exactly with :func:`kitti.geometry.image_to_rect`; dropped are sky (``sky`` key if present, else
  ``D == 0``), ``D`` outside :attr:`DepthOptions.depth_range`, points more than :attr:`DepthOptions.max_height`
  above the LiDAR (velodyne z, as pseudo-LiDAR's ``max_high``), and flying pixels at depth edges where
  ``|grad D| / D`` exceeds :attr:`DepthOptions.max_relative_gradient`. Optional 64-beam thinning keeps the nearest
  point per (elevation, azimuth) cell of a virtual HDL-64. Intensity is the constant 1.0.
* ``lidar+depth``: the ``lidar`` points (reflectance kept) plus depth points that densify where the LiDAR is
  sparse. The depth map is first fitted to this frame's LiDAR points (:func:`kitti.depth.alignment.align_depth`,
  model :attr:`DepthOptions.align_model`, over pixels with depth, no sky, no flying pixel; too few pairs is a
  :class:`KittiFormatError` naming the depth file); the aligned map then goes through the ``depth`` filters above,
  and a depth pixel adds a point (intensity 1.0) only if its aligned depth is at least
  :attr:`DepthOptions.combine_min_depth` (far objects, where LiDAR returns are few) **or** its
  :attr:`DepthOptions.combine_cell_px` square image cell holds no LiDAR return (LiDAR dropouts: dark or specular
  surfaces, above the top beam). Near surfaces that the LiDAR sees keep LiDAR points only. The LiDAR rows come
  first, then the depth rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from kitti import geometry as g
from kitti.depth.alignment import ALIGN_MODELS, DepthAlignment, align_depth
from kitti.errors import KittiFormatError
from kitti.io.calib import Calibration
from kitti.io.dataset import KittiDataset
from kitti.io.depthmap import read_depth

POINT_SOURCES = ("lidar", "depth", "lidar+depth")
#: depth-map directories under the subset folder: rendered/synthetic (or any external) depth, and DA3 output
DEPTH_DIRS = ("depth_2", "DA3_depth_results")
#: image-FOV rule: velodyne x must exceed this (metres)
FOV_MIN_FORWARD = 2.0


@dataclass(frozen=True)
class DepthOptions:
    """Pseudo-LiDAR conversion and LiDAR + depth combination settings (metres; angles in degrees)."""

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
    #: directory of the depth maps under the subset folder (one of :data:`DEPTH_DIRS`)
    depth_dir: str = "depth_2"
    #: ``lidar+depth``: depth-to-LiDAR fit (:data:`kitti.depth.alignment.ALIGN_MODELS`)
    align_model: str = "scale"
    #: ``lidar+depth``: depth pixels at least this far (aligned depth, metres) add points ...
    combine_min_depth: float = 30.0
    #: ... as do pixels of an image cell (this many pixels square) without any LiDAR return
    combine_cell_px: int = 8

    def __post_init__(self) -> None:
        if self.depth_dir not in DEPTH_DIRS:
            raise ValueError(f"depth_dir must be one of {DEPTH_DIRS}, got {self.depth_dir!r}")
        if self.align_model not in ALIGN_MODELS:
            raise ValueError(f"align_model must be one of {ALIGN_MODELS}, got {self.align_model!r}")


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


def surface_mask(depth: np.ndarray, sky: np.ndarray | None, opts: DepthOptions) -> np.ndarray:
    """Bool ``(H, W)``: pixels with depth (``D > 0``), not sky and not flying pixels (no range crop)."""
    valid = depth > 0
    if sky is not None:
        valid &= ~(sky.astype(np.float64) > opts.sky_threshold)
    return valid & ~_flying_pixels(depth, opts.max_relative_gradient)


def depth_points(depth: np.ndarray, calib: Calibration, sky: np.ndarray | None = None,
                 opts: DepthOptions = DepthOptions(), keep: np.ndarray | None = None) -> np.ndarray:
    """Dense depth ``(H, W)`` metres (camera-2 depth, 0 = none) -> pseudo-LiDAR ``(M, 4)`` float32, rect frame.
    ``keep`` (bool ``(H, W)``) optionally restricts the pixels further."""
    valid = surface_mask(depth, sky, opts) & (depth >= opts.depth_range[0]) & (depth <= opts.depth_range[1])
    if keep is not None:
        valid &= keep
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


def lidar_empty_cells(lidar_rect: np.ndarray, P: np.ndarray, image_size: tuple[int, int], cell_px: int) -> np.ndarray:
    """Bool ``(H, W)``: pixels whose ``cell_px`` square image cell holds no projected LiDAR point."""
    height, width = image_size
    rows, cols = -(-height // cell_px), -(-width // cell_px)
    uv, w = g.project_rect_to_image(lidar_rect, P)
    uv = uv[(w > 0) & (uv[:, 0] >= 0) & (uv[:, 0] < width) & (uv[:, 1] >= 0) & (uv[:, 1] < height)]
    cell = (np.floor(uv[:, 1]).astype(np.int64) // cell_px) * cols + np.floor(uv[:, 0]).astype(np.int64) // cell_px
    hit = np.bincount(cell, minlength=rows * cols)[: rows * cols].reshape(rows, cols) > 0
    return ~np.repeat(np.repeat(hit, cell_px, axis=0), cell_px, axis=1)[:height, :width]


def combine_lidar_depth(lidar: np.ndarray, depth: np.ndarray, calib: Calibration, sky: np.ndarray | None = None,
                        opts: DepthOptions = DepthOptions()) -> tuple[np.ndarray, DepthAlignment]:
    """``lidar+depth`` points (module docstring): ``lidar`` FOV points ``(N, 4)`` rect frame and a depth map
    ``(H, W)`` -> float32 ``(N + M, 4)`` rect frame and the fit used. ``ValueError`` if the fit has too few pairs."""
    fit = align_depth(depth, lidar, calib.P2, opts.align_model, surface_mask(depth, sky, opts))
    aligned = fit.apply(depth)
    keep = (aligned >= opts.combine_min_depth) | lidar_empty_cells(lidar, calib.P2, depth.shape, opts.combine_cell_px)
    return np.concatenate([lidar, depth_points(aligned, calib, sky, opts, keep)]), fit


def depth_path(dataset: KittiDataset, frame: int, opts: DepthOptions = DepthOptions()) -> Path:
    """``<subset>/<opts.depth_dir>/%06d.npz``."""
    return dataset.dir / opts.depth_dir / f"{frame:06d}.npz"


def check_point_inputs(dataset: KittiDataset, frames: Iterable[int], source: str,
                       opts: DepthOptions = DepthOptions()) -> None:
    """Raise :class:`KittiFormatError` naming the first missing input file of ``source`` among ``frames``."""
    if source not in POINT_SOURCES:
        raise ValueError(f"unknown point source {source!r}; expected one of {', '.join(POINT_SOURCES)}")
    for frame in frames:
        paths = [dataset.path("velodyne", frame)] if "lidar" in source else []
        paths += [depth_path(dataset, frame, opts)] if "depth" in source else []
        for path in paths:
            if not path.is_file():
                hint = " (generate it with python -m kitti.generate_da3_depth)" if "DA3" in str(path.parent) else ""
                raise KittiFormatError(path, f"frame {frame:06d}: file not found for --points {source}{hint}")


def scene_points(dataset: KittiDataset, frame: int, calib: Calibration, image_size: tuple[int, int],
                 source: str = "lidar", depth_options: DepthOptions = DepthOptions()) -> np.ndarray:
    """The FOV scene points of ``frame`` from ``source`` (:data:`POINT_SOURCES`), float32 ``(N, 4)`` rect frame;
    depth maps come from :attr:`DepthOptions.depth_dir`."""
    if source not in POINT_SOURCES:
        raise ValueError(f"unknown point source {source!r}; expected one of {', '.join(POINT_SOURCES)}")
    if source == "lidar":
        return lidar_points(dataset.velodyne(frame), calib, image_size)
    path = depth_path(dataset, frame, depth_options)
    arrays = read_depth(path, image_size)
    if source == "depth":
        return depth_points(arrays["depth"], calib, arrays.get("sky"), depth_options)
    lidar = lidar_points(dataset.velodyne(frame), calib, image_size)
    try:
        points, _ = combine_lidar_depth(lidar, arrays["depth"], calib, arrays.get("sky"), depth_options)
    except ValueError as exc:
        raise KittiFormatError(path, f"cannot align this depth map to the LiDAR: {exc}") from None
    return points
