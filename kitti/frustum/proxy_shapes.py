"""Generic shape templates of the proxy objects (ray-cast by :mod:`kitti.frustum.proxies`), defined here from
scratch (not the synthetic world's shapes, which would flatter the benchmark).

Template frame (unit box): ``a`` along the length in ``[-0.5, 0.5]`` (front at ``+0.5``), ``b`` up in ``[0, 1]``
(``0`` = bottom face), ``c`` across in ``[-0.5, 0.5]``. A bottom-centre box ``(x, y_bottom, z, h, w, l, ry)`` (rect
frame, metres) maps it to rect coordinates by ``p = (x, y_bottom, z) + a l e_l - b h e_y + c w e_w`` with
``e_l = (cos ry, 0, -sin ry)``, ``e_y = (0, 1, 0)``, ``e_w = (sin ry, 0, cos ry)`` (:func:`box_frame`); every car
template fills its box (it reaches all six faces, up to :data:`INSET`).

Each part has a return probability (a LiDAR return or a valid depth pixel where a ray hits it): glass and thin
parts return less often than paint or clothing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kitti.frustum.raycast import ConvexShape

#: return probability per material; scaled so that proxy cars get about as many points as the real cars of the 14
#: real KITTI frames in every distance bin (benchmarks/proxy_realism.py --data <kitti_real> --split all)
PAINT, GLASS, TYRE, CLOTH, SKIN, METAL = 0.8, 0.45, 0.7, 0.8, 0.75, 0.6
#: templates stop this fraction of the box short of each face (unit box)
INSET = 0.001


@dataclass(frozen=True)
class Template:
    """A named shape and the return probability ``(K,)`` of each of its parts."""

    name: str
    shape: ConvexShape
    returns: np.ndarray


def ellipse(centre_a: float, centre_c: float, half_a: float, half_c: float, n: int = 8) -> np.ndarray:
    """Convex ``n``-gon ``(n, 2)`` in the (a, c) plan inscribed in an ellipse; vertices at the extremes of a and c."""
    angle = np.arange(n) * 2 * np.pi / n
    return np.stack([centre_a + half_a * np.cos(angle), centre_c + half_c * np.sin(angle)], axis=1)


def rounded_rect(a0: float, a1: float, half_c: float, round_a: float, round_c: float) -> np.ndarray:
    """Plan ``(8, 2)`` of a rectangle ``[a0, a1] x [-half_c, half_c]`` with chamfered (rounded) corners."""
    return np.array([[a1, -half_c + round_c], [a1, half_c - round_c], [a1 - round_a, half_c],
                     [a0 + round_a, half_c], [a0, half_c - round_c], [a0, -half_c + round_c],
                     [a0 + round_a, -half_c], [a1 - round_a, -half_c]])


def loft(plan_bottom: np.ndarray, b0: float, plan_top: np.ndarray, b1: float) -> np.ndarray:
    """Vertices ``(n + m, 3)`` (a, b, c) of the convex part between two horizontal plans at heights ``b0 < b1``."""
    bottom = np.column_stack([plan_bottom[:, 0], np.full(len(plan_bottom), b0), plan_bottom[:, 1]])
    top = np.column_stack([plan_top[:, 0], np.full(len(plan_top), b1), plan_top[:, 1]])
    return np.concatenate([bottom, top])


def prism(plan: np.ndarray, b0: float, b1: float) -> np.ndarray:
    """Vertical prism of a plan between heights ``b0`` and ``b1``."""
    return loft(plan, b0, plan, b1)


def disc(centre_a: float, centre_b: float, radius_a: float, radius_b: float, c0: float, c1: float,
         n: int = 8) -> np.ndarray:
    """Wheel-like prism: an ``n``-gon in the (a, b) plane extruded across from ``c0`` to ``c1``."""
    angle = np.arange(n) * 2 * np.pi / n
    a, b = centre_a + radius_a * np.cos(angle), centre_b + radius_b * np.sin(angle)
    return np.concatenate([np.column_stack([a, b, np.full(n, c)]) for c in (c0, c1)])


def limb(start: tuple[float, float, float], end: tuple[float, float, float], half_a: float, half_c: float,
         n: int = 6) -> np.ndarray:
    """Slanted limb: the hull of two horizontal ``n``-gons centred at ``start`` and ``end`` (a, b, c)."""
    return np.concatenate([prism(ellipse(p[0], p[2], half_a, half_c, n), p[1], p[1])[:n] for p in (start, end)])


def _template(name: str, parts: list[tuple[np.ndarray, float]]) -> Template:
    """A template from ``(vertices, return probability)`` parts, shrunk by :data:`INSET` towards the box centre so
    that its surface points lie strictly inside the box."""
    centre = np.array([0.0, 0.5, 0.0])
    shrunk = [centre + (p - centre) * (1 - 2 * INSET) for p, _ in parts]
    return Template(name, ConvexShape.from_parts(shrunk), np.array([r for _, r in parts]))


def _car(name: str, body_top: float, cabin_bottom: tuple[float, float], cabin_top: tuple[float, float],
         cabin_half_c: tuple[float, float]) -> Template:
    """Lower body (rounded plan, slightly narrower at the belt line), a tapered glass cabin, four wheels."""
    body = loft(rounded_rect(-0.5, 0.5, 0.5, 0.06, 0.12), 0.12, rounded_rect(-0.48, 0.47, 0.47, 0.08, 0.12),
                body_top)
    cabin = loft(rounded_rect(*cabin_bottom, cabin_half_c[0], 0.03, 0.06), body_top,
                 rounded_rect(*cabin_top, cabin_half_c[1], 0.02, 0.06), 1.0)
    wheels = [disc(a, 0.2, 0.085, 0.2, c, c + 0.1) for a in (-0.32, 0.32) for c in (-0.49, 0.39)]
    return _template(name, [(body, PAINT), (cabin, GLASS)] + [(w, TYRE) for w in wheels])


def _pedestrian(name: str, stride: float, arm_swing: float) -> Template:
    """Two legs (``stride`` = foot offset along a), a torso, two arms, a head."""
    legs = [limb((0.0, 0.5, c), (s, 0.0, c), 0.1, 0.13) for s, c in ((stride, -0.14), (-stride, 0.14))]
    torso = loft(ellipse(0.0, 0.0, 0.16, 0.3), 0.48, ellipse(0.0, 0.0, 0.17, 0.36), 0.82)
    arms = [limb((0.0, 0.8, c), (s, 0.5, c * 1.05), 0.07, 0.09) for s, c in ((-arm_swing, -0.38), (arm_swing, 0.38))]
    head = loft(ellipse(0.02, 0.0, 0.12, 0.16), 0.85, ellipse(0.02, 0.0, 0.1, 0.13), 1.0)
    return _template(name, [(leg, CLOTH) for leg in legs] + [(torso, CLOTH)] + [(arm, CLOTH) for arm in arms]
                     + [(head, SKIN)])


def _cyclist(name: str, lean: float) -> Template:
    """Bicycle (two thin wheels, frame, handlebar) and a rider leaning forward by ``lean`` (along a)."""
    wheels = [disc(a, 0.2, 0.19, 0.2, -0.05, 0.05) for a in (-0.31, 0.31)]
    frame = np.concatenate([np.column_stack([[-0.3, 0.0, 0.26, -0.08], [0.2, 0.2, 0.52, 0.52], np.full(4, c)])
                            for c in (-0.06, 0.06)])
    bar = prism(rounded_rect(0.24, 0.3, 0.5, 0.01, 0.05), 0.58, 0.63)
    legs = [limb((-0.08, 0.52, c), (0.02, 0.12, c), 0.06, 0.1) for c in (-0.18, 0.18)]
    torso = loft(ellipse(-0.1, 0.0, 0.09, 0.25), 0.5, ellipse(-0.1 + lean, 0.0, 0.08, 0.33), 0.84)
    arms = [limb((-0.08 + lean, 0.8, c), (0.27, 0.62, c * 1.2), 0.04, 0.08) for c in (-0.34, 0.34)]
    head = loft(ellipse(-0.07 + lean, 0.0, 0.07, 0.22), 0.86, ellipse(-0.07 + lean, 0.0, 0.06, 0.18), 1.0)
    return _template(name, [(w, TYRE) for w in wheels] + [(frame, METAL), (bar, METAL)]
                     + [(leg, CLOTH) for leg in legs] + [(torso, CLOTH)] + [(arm, CLOTH) for arm in arms]
                     + [(head, SKIN)])


#: the templates of each class (one is drawn uniformly per proxy)
TEMPLATES: dict[str, tuple[Template, ...]] = {
    "Car": (
        _car("sedan", 0.52, (-0.3, 0.22), (-0.18, 0.02), (0.46, 0.38)),
        _car("hatchback", 0.52, (-0.47, 0.2), (-0.42, 0.0), (0.46, 0.39)),
        _car("suv", 0.58, (-0.48, 0.16), (-0.46, -0.02), (0.47, 0.42)),
    ),
    "Pedestrian": (
        _pedestrian("standing", 0.08, 0.1),
        _pedestrian("walking", 0.26, 0.2),
        _pedestrian("striding", 0.4, 0.3),
    ),
    "Cyclist": (
        _cyclist("upright", 0.06),
        _cyclist("leaning", 0.16),
    ),
}


def box_frame(box3d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(M (3, 3), origin (3,))`` with ``rect = origin + M @ (a, b, c)`` for a bottom-centre box ``(7,)``."""
    x, y, z, h, w, l, ry = np.asarray(box3d, np.float64)
    c, s = np.cos(ry), np.sin(ry)
    m = np.array([[l * c, 0.0, w * s], [0.0, -h, 0.0], [-l * s, 0.0, w * c]])
    return m, np.array([x, y, z])


def cast(template: Template, box3d: np.ndarray, origin: np.ndarray,
         directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First hit of rays ``origin (3,) + t * directions (R, 3)`` (rect frame, metres) on ``template`` fitted to
    ``box3d``: ``(t (R,), part (R,))`` as :meth:`ConvexShape.first_hit` (``t`` in units of ``|directions|``)."""
    m, centre = box_frame(box3d)
    inv = np.linalg.inv(m)
    return template.shape.first_hit(inv @ (np.asarray(origin, np.float64) - centre), directions @ inv.T)
