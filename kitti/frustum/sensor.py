"""Sensor models that ray-cast proxy objects like the frame's own points (:mod:`kitti.frustum.proxies`).

* :class:`BeamSensor` - a spinning LiDAR: rays from the velodyne origin along fixed beam elevations and a regular
  azimuth grid (velodyne frame x forward, y left, z up; transformed to the rect frame with the frame's calibration).
  :func:`hdl64` is the Velodyne HDL-64E of KITTI; the virtual 64-beam grid of ``--beams64`` pseudo-LiDAR
  (:func:`kitti.depth.point_source._thin_to_beams`) is the same model with that grid's cell centres.
* :class:`PixelSensor` - a depth map: one ray per integer pixel ``(u, v)`` of image_2 from the camera-2 centre, as
  :func:`kitti.depth.point_source.depth_points` back-projects every pixel.

Both give unit ray directions in the rect frame, a range-noise standard deviation ``abs + rel * range`` (metres)
and a cell key per ray
and per scene point (the beam/azimuth cell or the pixel), so that a proxy ray can be compared with the scene points
of the same cell (foreground occlusion).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kitti import geometry as g
from kitti.depth.point_source import DepthOptions
from kitti.hdl64 import HDL64_AZIMUTH_STEP_DEG, HDL64_ELEVATIONS_DEG, HDL64_RANGE_NOISE
from kitti.io.calib import Calibration

#: depth-map range noise ``(absolute metres, relative)``
DEPTH_RANGE_NOISE = (0.0, 0.01)
#: a beam cell accepts scene points up to this far (degrees) from the beam's elevation
BEAM_TOLERANCE_DEG = 0.25
#: cell keys: beam index * this + azimuth column (columns are offset to stay positive)
_CELL_STRIDE = 1 << 20


@dataclass(frozen=True)
class Rays:
    """Rays of one proxy: ``origin (3,)`` rect metres, unit ``directions (R, 3)`` rect, cell ``keys (R,)`` int64."""

    origin: np.ndarray
    directions: np.ndarray
    keys: np.ndarray


class BeamSensor:
    """A spinning LiDAR at the velodyne origin with beams at ``elevations_deg`` and azimuths
    ``azimuth_offset_deg + k * azimuth_step_deg`` (velodyne frame, degrees; azimuth 0 = forward, positive left)."""

    def __init__(self, calib: Calibration, elevations_deg: np.ndarray, azimuth_step_deg: float,
                 range_noise: tuple[float, float], azimuth_offset_deg: float = 0.0) -> None:
        self.elevations = np.radians(np.asarray(elevations_deg, np.float64))
        self.step = np.radians(azimuth_step_deg)
        self.offset = np.radians(azimuth_offset_deg)
        self.range_noise = range_noise
        self.velo_to_rect = calib.velo_to_rect[:3, :3]
        self.rect_to_velo = calib.rect_to_velo[:3, :3]
        self.origin = calib.velo_to_rect[:3, 3].copy()

    def _angles(self, points_rect: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Azimuth and elevation (radians, velodyne frame) of rect points seen from the sensor."""
        v = (np.asarray(points_rect, np.float64)[:, :3] - self.origin) @ self.rect_to_velo.T
        return np.arctan2(v[:, 1], v[:, 0]), np.arctan2(v[:, 2], np.hypot(v[:, 0], v[:, 1]))

    def rays(self, box3d: np.ndarray) -> Rays:
        """The rays of the beam/azimuth grid inside the angular extent of ``box3d`` (bottom-centre box, rect)."""
        azimuth, elevation = self._angles(g.box3d_corners(box3d[None])[0])
        beams = np.flatnonzero((self.elevations >= elevation.min()) & (self.elevations <= elevation.max()))
        cols = np.arange(np.ceil((azimuth.min() - self.offset) / self.step),
                         np.floor((azimuth.max() - self.offset) / self.step) + 1).astype(np.int64)
        el, az = np.meshgrid(self.elevations[beams], self.offset + cols * self.step, indexing="ij")
        velo = np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], axis=-1).reshape(-1, 3)
        rect = velo @ self.velo_to_rect.T
        rect /= np.linalg.norm(rect, axis=1, keepdims=True)
        keys = (beams[:, None] * _CELL_STRIDE + cols[None, :] + _CELL_STRIDE // 2).reshape(-1)
        return Rays(self.origin, rect, keys)

    def keys(self, points_rect: np.ndarray) -> np.ndarray:
        """Cell key (int64) of each rect point: its nearest beam (-1 when none within :data:`BEAM_TOLERANCE_DEG`)
        and its nearest azimuth column."""
        azimuth, elevation = self._angles(points_rect)
        beam = np.abs(elevation[:, None] - self.elevations[None]).argmin(axis=1)
        col = np.rint((azimuth - self.offset) / self.step).astype(np.int64)
        key = beam * _CELL_STRIDE + col + _CELL_STRIDE // 2
        return np.where(np.abs(elevation - self.elevations[beam]) <= np.radians(BEAM_TOLERANCE_DEG), key, -1)

    def noise(self, ranges: np.ndarray) -> np.ndarray:
        """Range-noise standard deviation (metres) at ``ranges`` (metres)."""
        return self.range_noise[0] + self.range_noise[1] * np.asarray(ranges)


class PixelSensor:
    """A dense depth map of image_2: one ray per integer pixel from the camera-2 centre (rect frame)."""

    def __init__(self, P2: np.ndarray, image_size: tuple[int, int],
                 range_noise: tuple[float, float] = DEPTH_RANGE_NOISE) -> None:
        self.P2 = np.asarray(P2, np.float64)
        self.height, self.width = image_size
        self.range_noise = range_noise
        self.origin = g.image_to_rect(np.zeros((1, 2)), np.zeros(1), self.P2)[0]

    def rays(self, box3d: np.ndarray) -> Rays:
        """The pixel rays inside the clipped projection of ``box3d``."""
        u1, v1, u2, v2 = g.project_boxes_to_image(box3d[None], self.P2, (self.height, self.width))[0]
        v, u = np.mgrid[int(np.ceil(v1)):int(np.floor(v2)) + 1, int(np.ceil(u1)):int(np.floor(u2)) + 1]
        uv = np.stack([u.reshape(-1), v.reshape(-1)], axis=1).astype(np.float64)
        rect = g.image_to_rect(uv, np.ones(len(uv)), self.P2) - self.origin
        rect /= np.linalg.norm(rect, axis=1, keepdims=True)
        return Rays(self.origin, rect, (v * self.width + u).reshape(-1).astype(np.int64))

    def keys(self, points_rect: np.ndarray) -> np.ndarray:
        """Pixel key (int64) of each rect point (-1 outside the image or behind the camera)."""
        uv, w = g.project_rect_to_image(points_rect, self.P2)
        u, v = np.rint(uv[:, 0]).astype(np.int64), np.rint(uv[:, 1]).astype(np.int64)
        inside = (w > 0) & (u >= 0) & (u < self.width) & (v >= 0) & (v < self.height)
        return np.where(inside, v * self.width + u, -1)

    def noise(self, ranges: np.ndarray) -> np.ndarray:
        """Range-noise standard deviation (metres) at ``ranges`` (metres)."""
        return self.range_noise[0] + self.range_noise[1] * np.asarray(ranges)


Sensor = BeamSensor | PixelSensor


def hdl64(calib: Calibration) -> BeamSensor:
    """KITTI's Velodyne HDL-64E at the frame's velodyne origin."""
    return BeamSensor(calib, HDL64_ELEVATIONS_DEG, HDL64_AZIMUTH_STEP_DEG, HDL64_RANGE_NOISE)


def sensor_for(points: str, beams64: bool, calib: Calibration, image_size: tuple[int, int]) -> Sensor:
    """The sensor whose scan the scene points of source ``points`` (``lidar``, ``depth``, ``lidar+depth``) look
    like: the HDL-64E for ``lidar`` and ``lidar+depth`` (whose depth points only densify), the virtual 64-beam grid
    for ``depth`` with ``beams64``, else the pixel grid of the depth map."""
    if points != "depth":
        return hdl64(calib)
    if not beams64:
        return PixelSensor(calib.P2, image_size)
    opts = DepthOptions(beams64=True)
    elevations = opts.beam_top_deg - (np.arange(opts.beam_rows) + 0.5) * opts.beam_spacing_deg
    step = opts.azimuth_fov_deg / opts.azimuth_columns
    return BeamSensor(calib, elevations, step, DEPTH_RANGE_NOISE, -opts.azimuth_fov_deg / 2 + step / 2)
