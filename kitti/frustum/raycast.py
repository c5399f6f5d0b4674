"""Ray casting against unions of convex polytopes (the proxy shape templates of :mod:`kitti.frustum.proxy_shapes`).

A convex part is a set of half-spaces ``n . x <= d`` (rows ``(nx, ny, nz, d)``); a shape is a list of parts. A ray
``o + t r`` enters a part at ``t_in = max`` over the planes it crosses inwards and leaves it at ``t_out = min`` over
the planes it crosses outwards (slab method generalised to any convex polytope); the first hit of a shape is the
smallest ``t_in`` over the parts it enters. Units are those of the inputs (``t`` in units of ``|r|``).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

#: vertices within this distance of a candidate plane lie on it (template units)
PLANE_TOLERANCE = 1e-9


def planes_from_vertices(vertices: np.ndarray) -> np.ndarray:
    """Half-spaces ``(P, 4)`` ``(n, d)`` with unit outward ``n`` of the convex hull of ``vertices (V, 3)`` (V small:
    every vertex triple is tried). Raises ``ValueError`` for a flat or degenerate vertex set."""
    v = np.asarray(vertices, dtype=np.float64)
    planes: list[np.ndarray] = []
    for i, j, k in combinations(range(len(v)), 3):
        normal = np.cross(v[j] - v[i], v[k] - v[i])
        norm = np.linalg.norm(normal)
        if norm < 1e-12:
            continue
        normal /= norm
        side = (v - v[i]) @ normal
        if (side > PLANE_TOLERANCE).any() and (side < -PLANE_TOLERANCE).any():
            continue
        if (side > PLANE_TOLERANCE).any():
            normal = -normal
        plane = np.append(normal, normal @ v[i])
        if not any(np.allclose(plane, p, atol=1e-9) for p in planes):
            planes.append(plane)
    if len(planes) < 4:
        raise ValueError(f"degenerate convex part ({len(v)} vertices, {len(planes)} faces)")
    return np.array(planes)


@dataclass(frozen=True)
class ConvexShape:
    """A union of convex parts: ``planes (P, 4)`` stacked part after part, ``starts (K,)`` the first plane row of each
    part."""

    planes: np.ndarray
    starts: np.ndarray

    @classmethod
    def from_parts(cls, parts: list[np.ndarray]) -> "ConvexShape":
        """Shape from the vertex arrays of its convex parts."""
        planes = [planes_from_vertices(p) for p in parts]
        starts = np.cumsum([0] + [len(p) for p in planes[:-1]])
        return cls(np.concatenate(planes), starts.astype(np.int64))

    @property
    def n_parts(self) -> int:
        return len(self.starts)

    def first_hit(self, origin: np.ndarray, directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First intersection of the rays ``origin (3,) + t * directions (R, 3)``, ``t >= 0``: ``(t (R,), part (R,))``,
        ``t = inf`` and ``part = -1`` for a miss; ``t = 0`` when the origin is inside a part."""
        normals, offsets = self.planes[:, :3], self.planes[:, 3]
        num = offsets - normals @ np.asarray(origin, np.float64)  # (P,): >= 0 where the origin is inside the plane
        den = np.asarray(directions, np.float64) @ normals.T       # (R, P)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = num[None] / den
        entering = np.where(den < 0, t, -np.inf)
        leaving = np.where(den > 0, t, np.inf)
        entering[(den == 0) & (num[None] < 0)] = np.inf  # parallel, outside that plane: never inside the part
        t_in = np.maximum.reduceat(entering, self.starts, axis=1)
        t_out = np.minimum.reduceat(leaving, self.starts, axis=1)
        hit = (t_in <= t_out) & (t_out >= 0)
        t_hit = np.where(hit, np.maximum(t_in, 0.0), np.inf)
        part = np.argmin(t_hit, axis=1)
        first = t_hit[np.arange(len(part)), part]
        return first, np.where(np.isfinite(first), part, -1)
