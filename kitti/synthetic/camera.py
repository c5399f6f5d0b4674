"""Camera 2 render of a scene through ``P2``: flat-shaded BGR image, instance map and depth map, from one ray cast
per pixel (pixel centres at integer ``(u, v)``, the OpenCV / KITTI convention).

Shading: Lambert with a fixed sun plus ambient light, per-primitive colour, procedural textures (asphalt grain,
lane paint, paving joints, facade windows, foliage mottling), distance haze and a sky gradient above the horizon.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kitti.io.calib import Calibration
from kitti.synthetic import materials as mat
from kitti.synthetic.calibration import IMAGE_HEIGHT, IMAGE_WIDTH, camera2_centre_velo
from kitti.synthetic.raycast import GROUND, Hits, cast_rays
from kitti.synthetic.street import Scene

#: surfaces farther than this (metres of camera depth) get depth 0 (the ground plane runs to the horizon)
MAX_DEPTH = 250.0
_SUN = np.array([0.35, 0.45, 0.82]) / np.linalg.norm([0.35, 0.45, 0.82])  # velodyne frame, towards the sun
_GROUND_COLORS = {mat.ASPHALT: (0.40, 0.40, 0.41), mat.GRASS: (0.18, 0.42, 0.26), mat.LANE_PAINT: (0.86, 0.88, 0.88)}
_HAZE = np.array([0.92, 0.86, 0.80])


@dataclass
class Render:
    """``image`` BGR uint8 ``(H, W, 3)``; ``instance`` int32 ``(H, W)`` object index or -1; ``depth`` float32
    ``(H, W)`` camera-2 depth (metres, 0 = none); ``sky`` bool ``(H, W)`` (no surface)."""

    image: np.ndarray
    instance: np.ndarray
    depth: np.ndarray
    sky: np.ndarray


def pixel_rays(calib: Calibration, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera-2 centre ``(3,)`` and ray directions ``(N, 3)`` (velodyne frame) through pixels ``(u, v)``; each
    direction is scaled so that the ray parameter ``t`` equals the camera-2 depth ``w`` of ``P2``."""
    k_inv = np.linalg.inv(calib.P2[:, :3])
    rect = np.stack([u, v, np.ones_like(u, dtype=np.float64)], axis=-1).reshape(-1, 3) @ k_inv.T
    return camera2_centre_velo(calib), rect @ calib.rect_to_velo[:3, :3].T


def cast_pixels(scene_prims, ground: np.ndarray | None, calib: Calibration, u: np.ndarray,
                v: np.ndarray) -> Hits:
    """Ray cast the pixels ``(u, v)`` against ``scene_prims`` (and ``ground`` unless None)."""
    origin, dirs = pixel_rays(calib, u.astype(np.float64), v.astype(np.float64))
    return cast_rays(origin, dirs, scene_prims, ground)


def _hash_noise(p: np.ndarray, cell: float) -> np.ndarray:
    """Deterministic value noise in [0, 1) of points ``(N, 3)`` quantised to ``cell`` metres."""
    q = np.floor(p / cell)
    return np.mod(np.sin(q[:, 0] * 12.9898 + q[:, 1] * 78.233 + q[:, 2] * 37.719) * 43758.5453, 1.0)


def _shade(scene: Scene, hits: Hits, points: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """Linear BGR colour in [0, 1] of every hit ``(N, 3)``."""
    prim = np.maximum(hits.hit, 0)
    color = scene.prims.color[prim].copy()
    material = scene.prims.material[prim].copy()
    ground = hits.hit == GROUND
    gmat = scene.street.ground_material(points[ground, 0], points[ground, 1])
    material[ground] = gmat
    color[ground] = np.array([_GROUND_COLORS[m] for m in (mat.ASPHALT, mat.GRASS, mat.LANE_PAINT)])[
        np.searchsorted([mat.ASPHALT, mat.GRASS, mat.LANE_PAINT], gmat)] if gmat.size else color[ground]
    grain = _hash_noise(points, 0.04)
    coarse = _hash_noise(points, 0.6)
    amp = np.select([material == mat.ASPHALT, material == mat.GRASS, material == mat.FOLIAGE,
                     material == mat.SIDEWALK, material == mat.WALL, material == mat.BARK],
                    [0.22, 0.35, 0.6, 0.12, 0.06, 0.3], 0.03)
    color *= (1.0 + amp[:, None] * (grain[:, None] - 0.5)) * (1.0 + 0.5 * amp[:, None] * (coarse[:, None] - 0.5))
    wall = material == mat.WALL
    if wall.any():  # windows: a 3 m grid on the facade, from 0.8 m above the ground
        s, _ = scene.street.to_street(points[wall, 0], points[wall, 1])
        height = points[wall, 2] - scene.ground_z(points[wall, 0], points[wall, 1])
        window = (np.mod(s, 3.0) > 0.9) & (np.mod(s, 3.0) < 2.1) & (np.mod(height, 3.0) > 1.0) & \
                 (np.mod(height, 3.0) < 2.4) & (height > 0.8)
        color[np.flatnonzero(wall)[window]] = (0.28, 0.24, 0.22)
    sidewalk = material == mat.SIDEWALK
    if sidewalk.any():  # paving joints every 0.5 m
        s, q = scene.street.to_street(points[sidewalk, 0], points[sidewalk, 1])
        joint = (np.mod(s, 0.5) < 0.03) | (np.mod(q, 0.5) < 0.03)
        color[np.flatnonzero(sidewalk)[joint]] *= 0.75
    lambert = np.clip(hits.normal @ _SUN, 0.0, 1.0)
    color *= (0.45 + 0.7 * lambert)[:, None]
    dist = hits.t * np.linalg.norm(dirs, axis=1)
    fog = 1.0 - np.exp(-dist / 350.0)
    return color * (1 - fog[:, None]) + _HAZE * fog[:, None]


def _sky(v: np.ndarray, horizon_v: float) -> np.ndarray:
    """Sky gradient (BGR, [0, 1]) for pixel rows ``v``: pale at the horizon, blue higher up."""
    f = np.clip((horizon_v - v) / 250.0, 0.0, 1.0)[:, None]
    return np.array([0.93, 0.87, 0.80]) * (1 - f) + np.array([0.88, 0.62, 0.38]) * f


def render_camera(scene: Scene, calib: Calibration, rng: np.random.Generator) -> Render:
    """Render image_2, the instance map and the depth map of ``scene`` (``rng`` only adds sensor noise)."""
    height, width = IMAGE_HEIGHT, IMAGE_WIDTH
    v, u = np.mgrid[0:height, 0:width]
    origin, dirs = pixel_rays(calib, u.astype(np.float64), v.astype(np.float64))
    hits = cast_rays(origin, dirs, scene.prims, scene.ground)
    surface = np.isfinite(hits.t)
    points = origin + dirs * np.where(surface, hits.t, 0.0)[:, None]
    color = np.empty((height * width, 3))
    color[surface] = _shade(scene, Hits(hits.t[surface], hits.hit[surface], hits.normal[surface]),
                            points[surface], dirs[surface])
    horizon_v = float(calib.P2[1, 2])
    color[~surface] = _sky(v.ravel()[~surface].astype(np.float64), horizon_v)
    image = color.reshape(height, width, 3)
    image = cv2.GaussianBlur(image, (3, 3), 0.6) + rng.normal(0.0, 0.012, size=image.shape)
    image = (np.clip(image, 0, 1) ** (1 / 1.1) * 255 + 0.5).astype(np.uint8)
    instance = np.where(hits.hit >= 0, scene.prims.instance[np.maximum(hits.hit, 0)], -1).astype(np.int32)
    depth = np.where(surface & (hits.t <= MAX_DEPTH), hits.t, 0.0).astype(np.float32)
    return Render(image, instance.reshape(height, width), depth.reshape(height, width),
                  (~surface).reshape(height, width))
