"""Ray casting against unions of convex polytopes (the proxy shape templates of :mod:`kitti.frustum.proxy_shapes`).

A convex part is a set of half-spaces ``n . x <= d`` (rows ``(nx, ny, nz, d)``); a shape is a list of parts. A ray
``o + t r`` enters a part at ``t_in = max`` over the planes it crosses inwards and leaves it at ``t_out = min`` over
the planes it crosses outwards (slab method generalised to any convex polytope); the first hit of a shape is the
smallest ``t_in`` over the parts it enters. Only rays that meet a part's bounding box are tested against its planes.
Units are those of the inputs (``t`` in units of ``|r|``).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

#: vertices within this distance of a candidate plane lie on it (template units)
PLANE_TOLERANCE = 1e-9


def _supporting_triples(v: np.ndarray) -> list[tuple[int, int, int]]:
    """The vertex triples, in :func:`itertools.combinations` order, that may span a face of the hull of ``v``: all
    but those whose plane clearly has vertices on both sides (a vectorised pre-filter with a tolerance far above
    rounding, so that :func:`planes_from_vertices` decides every face with its own arithmetic)."""
    triples = np.array(list(combinations(range(len(v)), 3)), dtype=np.intp).reshape(-1, 3)
    normal = np.cross(v[triples[:, 1]] - v[triples[:, 0]], v[triples[:, 2]] - v[triples[:, 0]])
    norm = np.sqrt((normal * normal).sum(axis=1))
    unit = normal / np.where(norm > 1e-6, norm, 1.0)[:, None]
    side = np.einsum("tk,vk->tv", unit, v) - (unit * v[triples[:, 0]]).sum(axis=1)[:, None]
    mixed = (side > 1e-6).any(axis=1) & (side < -1e-6).any(axis=1) & (norm > 1e-6)
    return [tuple(t) for t in triples[~mixed].tolist()]


def planes_from_vertices(vertices: np.ndarray) -> np.ndarray:
    """Half-spaces ``(P, 4)`` ``(n, d)`` with unit outward ``n`` of the convex hull of ``vertices (V, 3)`` (V small:
    every vertex triple is tried). Raises ``ValueError`` for a flat or degenerate vertex set."""
    v = np.asarray(vertices, dtype=np.float64)
    planes: list[np.ndarray] = []
    kept = np.empty((0, 4))
    for i, j, k in _supporting_triples(v):
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
        # np.allclose(plane, p, atol=1e-9) against every plane kept so far, at once
        if not (np.abs(plane - kept) <= 1e-9 + 1e-5 * np.abs(kept)).all(axis=1).any():
            planes.append(plane)
            kept = np.array(planes)
    if len(planes) < 4:
        raise ValueError(f"degenerate convex part ({len(v)} vertices, {len(planes)} faces)")
    return np.array(planes)


def inverse_directions(directions: np.ndarray) -> np.ndarray:
    """``1 / directions`` with components below ``1e-12`` in magnitude replaced by ``1e-12`` (finite slabs)."""
    d = np.asarray(directions, np.float64)
    return 1.0 / np.where(np.abs(d) < 1e-12, 1e-12, d)


def enters_box(origin: np.ndarray, inverse: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Bool ``(R,)``: the ray ``origin + t * directions[i]`` meets the axis-aligned box ``[lo, hi]`` at a ``t >= 0``
    (slab test; ``inverse`` from :func:`inverse_directions`)."""
    t0 = (lo - origin) * inverse
    t1 = (hi - origin) * inverse
    far = np.maximum(t0, t1).min(axis=1)
    return (np.minimum(t0, t1).max(axis=1) <= far) & (far >= 0)


@dataclass(frozen=True)
class ConvexPart:
    """One convex part: half-spaces ``planes (P, 4)`` and its vertices' bounding box ``lo``, ``hi`` (3,)."""

    planes: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def from_vertices(cls, vertices: np.ndarray) -> "ConvexPart":
        v = np.asarray(vertices, np.float64)
        return cls(planes_from_vertices(v), v.min(axis=0), v.max(axis=0))

    def hit(self, origin: np.ndarray, directions: np.ndarray, inverse: np.ndarray) -> np.ndarray:
        """Entry ``t (R,)`` of the rays into the part (``0`` from inside, ``inf`` for a miss); ``inverse`` from
        :func:`inverse_directions`."""
        t_hit = np.full(len(directions), np.inf)
        rays = np.flatnonzero(enters_box(origin, inverse, self.lo, self.hi))
        if not len(rays):
            return t_hit
        normals, offsets = self.planes[:, :3], self.planes[:, 3]
        num = offsets - normals @ origin  # (P,): >= 0 where the origin is inside the plane
        den = directions[rays] @ normals.T  # (R', P)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = num[None] / den
        t_in = np.where(den < 0, t, -np.inf)
        t_in[(den == 0) & (num[None] < 0)] = np.inf  # parallel, outside that plane: never inside the part
        t_out = np.where(den > 0, t, np.inf).min(axis=1)
        t_in = t_in.max(axis=1)
        t_hit[rays] = np.where((t_in <= t_out) & (t_out >= 0), np.maximum(t_in, 0.0), np.inf)
        return t_hit


@dataclass(frozen=True)
class ConvexShape:
    """A union of convex parts and their joint bounding box (rays that miss it are not tested further)."""

    parts: tuple[ConvexPart, ...]
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def from_parts(cls, parts: list[np.ndarray]) -> "ConvexShape":
        """Shape from the vertex arrays of its convex parts."""
        convex = tuple(ConvexPart.from_vertices(p) for p in parts)
        return cls(convex, np.min([p.lo for p in convex], axis=0), np.max([p.hi for p in convex], axis=0))

    @property
    def n_parts(self) -> int:
        return len(self.parts)

    def first_hit(self, origin: np.ndarray, directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First intersection of the rays ``origin (3,) + t * directions (R, 3)``, ``t >= 0``: ``(t (R,), part (R,))``,
        ``t = inf`` and ``part = -1`` for a miss; ``t = 0`` when the origin is inside a part."""
        origin, directions = np.asarray(origin, np.float64), np.asarray(directions, np.float64)
        first = np.full(len(directions), np.inf)
        part = np.full(len(directions), -1)
        inverse = inverse_directions(directions)
        rays = np.flatnonzero(enters_box(origin, inverse, self.lo, self.hi))
        directions, inverse = directions[rays], inverse[rays]
        for k, convex in enumerate(self.parts):
            t = convex.hit(origin, directions, inverse)
            nearer = t < first[rays]
            first[rays[nearer]], part[rays[nearer]] = t[nearer], k
        return first, part
