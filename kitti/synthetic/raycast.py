"""The one ray caster of the synthetic world (numba): rays from a common origin against a ground plane and the
scene primitives (:mod:`.primitives`), all in the velodyne frame. Used by the LiDAR, the camera and the labeller.

Culling: an angular grid around the ray origin (1 degree bins of azimuth x elevation). Each primitive's bounding
sphere subtends an exact cone, whose azimuth / elevation range lists the primitive in those bins; primitives whose
sphere holds the origin go to a "global" list tested by every ray. Cost is ~ rays x (primitives per bin).

``t`` is in units of the ray direction's length (directions need not be unit vectors), ``inf`` when nothing is hit.
Hit ids: ``>= 0`` primitive index, ``GROUND`` the ground plane, ``MISS`` nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from kitti.synthetic.primitives import Primitives

GROUND = -2
MISS = -1
_BIN_DEG = 1.0
_N_AZ = int(round(360 / _BIN_DEG))
_N_EL = int(round(180 / _BIN_DEG))


@dataclass
class Hits:
    """Ray cast result for ``N`` rays: ``t`` (N,), hit id (N,) and unit surface normal (N, 3), velodyne frame."""

    t: np.ndarray
    hit: np.ndarray
    normal: np.ndarray


@njit(cache=True)
def _bin_of(dx: float, dy: float, dz: float) -> int:
    norm = np.sqrt(dx * dx + dy * dy + dz * dz)
    az = np.degrees(np.arctan2(dy, dx)) + 180.0
    el = np.degrees(np.arcsin(min(1.0, max(-1.0, dz / norm)))) + 90.0
    ia = min(int(az / _BIN_DEG), _N_AZ - 1)
    ie = min(int(el / _BIN_DEG), _N_EL - 1)
    return ie * _N_AZ + ia


@njit(cache=True)
def _cone_bins(origin: np.ndarray, center: np.ndarray, radius: float) -> tuple:
    """(global?, ia0, ia1, ie0, ie1): bin ranges (inclusive, azimuth may wrap) of a bounding sphere seen from origin."""
    vx, vy, vz = center[0] - origin[0], center[1] - origin[1], center[2] - origin[2]
    dxy = np.sqrt(vx * vx + vy * vy)
    dist = np.sqrt(dxy * dxy + vz * vz)
    if dist <= radius * 1.0001 or dxy <= radius * 1.0001:
        return True, 0, 0, 0, 0
    pad = 0.5 * _BIN_DEG
    half_el = np.degrees(np.arcsin(radius / dist)) + pad
    half_az = np.degrees(np.arcsin(radius / dxy)) + pad
    el = np.degrees(np.arctan2(vz, dxy)) + 90.0
    az = np.degrees(np.arctan2(vy, vx)) + 180.0
    ie0 = max(0, int(np.floor((el - half_el) / _BIN_DEG)))
    ie1 = min(_N_EL - 1, int(np.floor((el + half_el) / _BIN_DEG)))
    ia0 = int(np.floor((az - half_az) / _BIN_DEG))
    ia1 = int(np.floor((az + half_az) / _BIN_DEG))
    if ia1 - ia0 >= _N_AZ - 1:
        ia0, ia1 = 0, _N_AZ - 1
    return False, ia0, ia1, ie0, ie1


@njit(cache=True)
def _build_grid(origin: np.ndarray, center: np.ndarray, half: np.ndarray) -> tuple:
    """CSR angular grid ``(start, items, global)`` of the primitives' bounding spheres seen from ``origin``."""
    n = center.shape[0]
    radius = np.sqrt(half[:, 0] ** 2 + half[:, 1] ** 2 + half[:, 2] ** 2)
    start = np.zeros(_N_AZ * _N_EL + 1, np.int64)
    is_global = np.zeros(n, np.bool_)
    for i in range(n):
        glob, ia0, ia1, ie0, ie1 = _cone_bins(origin, center[i], radius[i])
        is_global[i] = glob
        if not glob:
            for ie in range(ie0, ie1 + 1):
                for ia in range(ia0, ia1 + 1):
                    start[ie * _N_AZ + (ia % _N_AZ) + 1] += 1
    start = np.cumsum(start)
    items = np.empty(start[-1], np.int32)
    fill = start[:-1].copy()
    for i in range(n):
        if is_global[i]:
            continue
        glob, ia0, ia1, ie0, ie1 = _cone_bins(origin, center[i], radius[i])
        for ie in range(ie0, ie1 + 1):
            for ia in range(ia0, ia1 + 1):
                b = ie * _N_AZ + (ia % _N_AZ)
                items[fill[b]] = i
                fill[b] += 1
    return start, items, np.flatnonzero(is_global).astype(np.int32)


@njit(cache=True)
def _hit_one(kind: int, c: np.ndarray, r: np.ndarray, h: np.ndarray, o: np.ndarray, d: np.ndarray,
             t_max: float, normal: np.ndarray) -> float:
    """Nearest t in (0, t_max) of the ray o + t d on one primitive (writes the world normal), else inf."""
    # local frame: l = R^T (x - c)
    ox = r[0, 0] * (o[0] - c[0]) + r[1, 0] * (o[1] - c[1]) + r[2, 0] * (o[2] - c[2])
    oy = r[0, 1] * (o[0] - c[0]) + r[1, 1] * (o[1] - c[1]) + r[2, 1] * (o[2] - c[2])
    oz = r[0, 2] * (o[0] - c[0]) + r[1, 2] * (o[1] - c[1]) + r[2, 2] * (o[2] - c[2])
    dx = r[0, 0] * d[0] + r[1, 0] * d[1] + r[2, 0] * d[2]
    dy = r[0, 1] * d[0] + r[1, 1] * d[1] + r[2, 1] * d[2]
    dz = r[0, 2] * d[0] + r[1, 2] * d[1] + r[2, 2] * d[2]
    best = np.inf
    nx = ny = nz = 0.0
    if kind == 0:  # box: slabs
        t0, t1 = -np.inf, np.inf
        axis, sign = -1, 0.0
        for a in range(3):
            oa = ox if a == 0 else (oy if a == 1 else oz)
            da = dx if a == 0 else (dy if a == 1 else dz)
            if abs(da) < 1e-12:
                if abs(oa) > h[a]:
                    return np.inf
                continue
            ta = (-h[a] - oa) / da
            tb = (h[a] - oa) / da
            s = -1.0
            if ta > tb:
                ta, tb = tb, ta
                s = 1.0
            if ta > t0:
                t0, axis, sign = ta, a, s
            t1 = min(t1, tb)
        if t0 > t1 or t0 <= 1e-6 or t0 >= t_max or axis < 0:
            return np.inf
        best = t0
        if axis == 0:
            nx = sign
        elif axis == 1:
            ny = sign
        else:
            nz = sign
    elif kind == 1:  # cylinder along local z
        rad, hz = h[0], h[2]
        a = dx * dx + dy * dy
        if a > 1e-12:
            b = ox * dx + oy * dy
            cc = ox * ox + oy * oy - rad * rad
            disc = b * b - a * cc
            if disc >= 0.0:
                t = (-b - np.sqrt(disc)) / a
                if 1e-6 < t < t_max and abs(oz + t * dz) <= hz:
                    best = t
                    nx, ny = (ox + t * dx) / rad, (oy + t * dy) / rad
        if abs(dz) > 1e-12:
            for cap in (-hz, hz):
                t = (cap - oz) / dz
                if 1e-6 < t < min(best, t_max):
                    px, py = ox + t * dx, oy + t * dy
                    if px * px + py * py <= rad * rad:
                        best = t
                        nx, ny, nz = 0.0, 0.0, (1.0 if cap > 0 else -1.0)
        if best == np.inf:
            return np.inf
    else:  # ellipsoid
        sx, sy, sz = ox / h[0], oy / h[1], oz / h[2]
        ex, ey, ez = dx / h[0], dy / h[1], dz / h[2]
        a = ex * ex + ey * ey + ez * ez
        b = sx * ex + sy * ey + sz * ez
        cc = sx * sx + sy * sy + sz * sz - 1.0
        disc = b * b - a * cc
        if disc < 0.0:
            return np.inf
        t = (-b - np.sqrt(disc)) / a
        if not (1e-6 < t < t_max):
            return np.inf
        best = t
        nx = (ox + t * dx) / (h[0] * h[0])
        ny = (oy + t * dy) / (h[1] * h[1])
        nz = (oz + t * dz) / (h[2] * h[2])
    wx = r[0, 0] * nx + r[0, 1] * ny + r[0, 2] * nz
    wy = r[1, 0] * nx + r[1, 1] * ny + r[1, 2] * nz
    wz = r[2, 0] * nx + r[2, 1] * ny + r[2, 2] * nz
    norm = np.sqrt(wx * wx + wy * wy + wz * wz)
    normal[0], normal[1], normal[2] = wx / norm, wy / norm, wz / norm
    return best


@njit(parallel=True, cache=True)
def _cast(origin: np.ndarray, dirs: np.ndarray, plane: np.ndarray, kind: np.ndarray, center: np.ndarray,
          rot: np.ndarray, half: np.ndarray, start: np.ndarray, items: np.ndarray, glob: np.ndarray,
          out_t: np.ndarray, out_hit: np.ndarray, out_n: np.ndarray) -> None:
    for i in prange(dirs.shape[0]):
        d = dirs[i]
        best = np.inf
        hit = -1
        nrm = np.zeros(3)
        tmp = np.zeros(3)
        if plane.shape[0] == 4:
            denom = plane[0] * d[0] + plane[1] * d[1] + plane[2] * d[2]
            if denom < -1e-12:
                t = -(plane[0] * origin[0] + plane[1] * origin[1] + plane[2] * origin[2] + plane[3]) / denom
                if t > 0:
                    best, hit = t, -2
                    nrm[0], nrm[1], nrm[2] = plane[0], plane[1], plane[2]
        b = _bin_of(d[0], d[1], d[2])
        for k in range(glob.shape[0] + start[b + 1] - start[b]):
            p = glob[k] if k < glob.shape[0] else items[start[b] + k - glob.shape[0]]
            t = _hit_one(kind[p], center[p], rot[p], half[p], origin, d, best, tmp)
            if t < best:
                best, hit = t, p
                nrm[0], nrm[1], nrm[2] = tmp[0], tmp[1], tmp[2]
        out_t[i] = best
        out_hit[i] = hit
        out_n[i, 0], out_n[i, 1], out_n[i, 2] = nrm[0], nrm[1], nrm[2]


def cast_rays(origin: np.ndarray, dirs: np.ndarray, prims: Primitives, ground: np.ndarray | None) -> Hits:
    """Cast rays ``origin (3,) + t * dirs (N, 3)`` (velodyne frame) against ``prims`` and the ground plane
    ``ground = (a, b, c, d)`` with ``a x + b y + c z + d = 0`` and an upward unit normal ``(a, b, c)`` (None: no
    ground). Returns the nearest hit per ray."""
    origin = np.ascontiguousarray(origin, dtype=np.float64)
    dirs = np.ascontiguousarray(dirs, dtype=np.float64).reshape(-1, 3)
    plane = np.zeros(0) if ground is None else np.ascontiguousarray(ground, dtype=np.float64)
    start, items, glob = _build_grid(origin, prims.center, prims.half)
    n = dirs.shape[0]
    hits = Hits(np.empty(n), np.empty(n, np.int32), np.empty((n, 3)))
    _cast(origin, dirs, plane, prims.kind, prims.center, prims.rot, prims.half, start, items, glob,
          hits.t, hits.hit, hits.normal)
    return hits
