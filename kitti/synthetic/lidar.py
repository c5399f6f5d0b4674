"""Velodyne HDL-64E model: ray-cast scan with range noise, dropout and material / incidence intensity.

64 beams: 32 upper lasers from +2.0 to -8.33 degrees (~1/3 degree apart), 32 lower lasers from -8.83 to -24.8
degrees (~1/2 degree apart), like the real sensor; 2000 azimuth steps (0.18 degree, the spacing measured in the real
KITTI scans) over 360 degrees. Returns beyond ``MAX_RANGE`` are dropped: the real KITTI object scans stop at 80 m
(horizontal range of every one of the 14 reference frames tops out at 79.9-80.0 m).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kitti.hdl64 import HDL64_AZIMUTH_STEP_DEG, HDL64_ELEVATIONS_DEG, HDL64_MAX_RANGE, HDL64_RANGE_NOISE
from kitti.synthetic import materials as mat
from kitti.synthetic.raycast import GROUND, cast_rays
from kitti.synthetic.street import Scene

#: azimuth steps over 360 degrees (2000 steps of :data:`kitti.hdl64.HDL64_AZIMUTH_STEP_DEG`)
N_AZIMUTH = round(360.0 / HDL64_AZIMUTH_STEP_DEG)
MAX_RANGE = HDL64_MAX_RANGE
RANGE_NOISE = HDL64_RANGE_NOISE[0]  # metres, 1 sigma along the ray
BASE_DROPOUT = 0.01


def beam_elevations() -> np.ndarray:
    """Elevation of the 64 beams, degrees, top to bottom (:data:`kitti.hdl64.HDL64_ELEVATIONS_DEG`)."""
    return HDL64_ELEVATIONS_DEG.copy()


def beam_directions(n_azimuth: int = N_AZIMUTH) -> np.ndarray:
    """Unit ray directions ``(64 * n_azimuth, 3)`` in the velodyne frame, beam-major; every beam has a small fixed
    azimuth offset (fraction of a step) as the real lasers do."""
    el = np.radians(beam_elevations())[:, None]
    step = 2 * np.pi / n_azimuth
    offsets = np.mod(np.arange(64) * 0.618, 1.0)[:, None] * step
    az = np.arange(n_azimuth)[None, :] * step + offsets - np.pi
    dirs = np.stack(np.broadcast_arrays(np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)), axis=-1)
    return dirs.reshape(-1, 3)


@dataclass
class Scan:
    """A simulated scan: ``points`` float32 ``(N, 4)`` (x, y, z, intensity; velodyne frame) and the labelled
    object each point hit (``instance`` int32 ``(N,)``, -1 for background)."""

    points: np.ndarray
    instance: np.ndarray


def simulate_scan(scene: Scene, rng: np.random.Generator, n_azimuth: int = N_AZIMUTH) -> Scan:
    """Ray cast one 360 degree sweep of ``scene`` from the velodyne origin."""
    dirs = beam_directions(n_azimuth)
    hits = cast_rays(np.zeros(3), dirs, scene.prims, scene.ground)
    keep = np.isfinite(hits.t) & (hits.t <= MAX_RANGE)
    dirs, t, hit, normal = dirs[keep], hits.t[keep], hits.hit[keep], hits.normal[keep]
    points = dirs * t[:, None]
    material = np.where(hit >= 0, scene.prims.material[np.maximum(hit, 0)], 0)
    on_ground = hit == GROUND
    material[on_ground] = scene.street.ground_material(points[on_ground, 0], points[on_ground, 1])
    cos_inc = np.abs(np.einsum("ij,ij->i", dirs, normal))
    drop = (BASE_DROPOUT + mat.DROPOUT[material] + 0.3 * np.clip(1.0 - cos_inc / 0.06, 0.0, 1.0)
            + 0.35 * (t / MAX_RANGE) ** 2)
    keep = rng.random(t.shape[0]) >= drop
    t_noisy = t + rng.normal(0.0, RANGE_NOISE, size=t.shape[0])
    intensity = (mat.REFLECTIVITY[material] * (0.5 + 0.5 * cos_inc) * rng.lognormal(0.0, 0.15, size=t.shape[0])
                 * (1.0 - 0.2 * t / MAX_RANGE))
    xyz = dirs * t_noisy[:, None]
    out = np.concatenate([xyz, np.clip(intensity, 0.0, 1.0)[:, None]], axis=1)[keep].astype(np.float32)
    instance = np.where(hit >= 0, scene.prims.instance[np.maximum(hit, 0)], -1)[keep].astype(np.int32)
    return Scan(out, instance)
