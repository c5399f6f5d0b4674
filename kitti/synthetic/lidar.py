"""Velodyne HDL-64E model: ray-cast scan with range noise, dropout and material / incidence intensity.

64 beams: 32 upper lasers from +2.0 to -8.33 degrees (~1/3 degree apart), 32 lower lasers from -8.83 to -24.8
degrees (~1/2 degree apart), like the real sensor; 2000 azimuth steps (0.18 degree, the spacing measured in the real
KITTI scans) over 360 degrees. Returns beyond ``MAX_RANGE`` are dropped: the real KITTI object scans stop at 80 m
(horizontal range of every one of the 14 reference frames tops out at 79.9-80.0 m).

Car paint is a smooth, clear-coated surface: its return falls with the incidence angle as a diffuse surface's does
(Lambertian, ``reflectance x cos(incidence)``; on the 14 real frames the intensity of bright cars' body returns at
incidence cosines 0.05-0.2 / 0.2-0.35 is 0.22 / 0.36 of their head-on intensity, zeros included), and a dark paint
returns little even head-on. A ray on car paint is lost when ``reflectance x cos(incidence) x speckle / range^2`` is
below the sensor's detection floor (:data:`kitti.hdl64.HDL64_DETECTION_FLOOR`, from the HDL-64E spec), the paint's
reflectance at 905 nm being taken as the albedo of its colour (mean of the channels: black 0.10, white 0.88; the
share of black cars is in :mod:`.street`). So the side of a dark car seen at a grazing angle returns nothing while
its end face, seen head-on, still does, as on the real frames: of their unoccluded cars at 20-80 m whose side is
seen at an incidence cosine below 0.5 (12 cars) the points stop short of the box's edge by a median 2.25 azimuth
steps on the side face's edge against 1.00 on the end face's edge (generator 1.3, every paint returning: 0.54 and
0.70), and 8 of the 12 have a body intensity of 0 head-on. The rough surfaces (asphalt, vegetation, walls) keep the
range-only dropout: real ground returns reach 80 m at grazing angles a Lambertian law would lose beyond ~20 m.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kitti.hdl64 import (
    HDL64_AZIMUTH_STEP_DEG,
    HDL64_DETECTION_FLOOR,
    HDL64_ELEVATIONS_DEG,
    HDL64_MAX_RANGE,
    HDL64_RANGE_NOISE,
)
from kitti.synthetic import materials as mat
from kitti.synthetic.raycast import GROUND, cast_rays
from kitti.synthetic.street import Scene

#: azimuth steps over 360 degrees (2000 steps of :data:`kitti.hdl64.HDL64_AZIMUTH_STEP_DEG`)
N_AZIMUTH = round(360.0 / HDL64_AZIMUTH_STEP_DEG)
MAX_RANGE = HDL64_MAX_RANGE
RANGE_NOISE = HDL64_RANGE_NOISE[0]  # metres, 1 sigma along the ray
BASE_DROPOUT = 0.01
#: 1-sigma of the log of a return's speckle (the multiplicative scatter of its strength, shared by intensity and
#: detection)
SPECKLE_SIGMA = 0.15


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


def paint_reflectance(scene: Scene, hit: np.ndarray, material: np.ndarray) -> np.ndarray:
    """Reflectance at 905 nm of each hit ``(N,)``: the material's, except on car paint, where it is the albedo (mean
    of the BGR channels, in [0, 1]) of the primitive's colour."""
    reflectance = mat.REFLECTIVITY[material]
    paint = (material == mat.CAR_PAINT) & (hit >= 0)
    reflectance[paint] = scene.prims.color[hit[paint]].mean(axis=1)
    return reflectance


def below_floor(strength: np.ndarray, cos_inc: np.ndarray, t: np.ndarray, material: np.ndarray) -> np.ndarray:
    """Returns ``(N,)`` on car paint too weak to detect: ``strength`` (reflectance x speckle) x ``cos_inc`` / ``t``^2
    (range, metres) below :data:`kitti.hdl64.HDL64_DETECTION_FLOOR`."""
    return (material == mat.CAR_PAINT) & (strength * cos_inc < HDL64_DETECTION_FLOOR * t ** 2)


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
    reflectance = paint_reflectance(scene, hit, material)
    speckle = rng.lognormal(0.0, SPECKLE_SIGMA, size=t.shape[0])
    drop = (BASE_DROPOUT + mat.DROPOUT[material] + 0.3 * np.clip(1.0 - cos_inc / 0.06, 0.0, 1.0)
            + 0.35 * (t / MAX_RANGE) ** 2)
    keep = (rng.random(t.shape[0]) >= drop) & ~below_floor(reflectance * speckle, cos_inc, t, material)
    t_noisy = t + rng.normal(0.0, RANGE_NOISE, size=t.shape[0])
    incidence = np.where(material == mat.CAR_PAINT, cos_inc, 0.5 + 0.5 * cos_inc)  # paint: Lambertian
    intensity = reflectance * incidence * speckle * (1.0 - 0.2 * t / MAX_RANGE)
    xyz = dirs * t_noisy[:, None]
    out = np.concatenate([xyz, np.clip(intensity, 0.0, 1.0)[:, None]], axis=1)[keep].astype(np.float32)
    instance = np.where(hit >= 0, scene.prims.instance[np.maximum(hit, 0)], -1)[keep].astype(np.int32)
    return Scan(out, instance)
