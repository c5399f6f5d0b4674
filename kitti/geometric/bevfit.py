"""Bird's-eye-view rectangle fit of an object's points, constrained by the class size prior.

BEV coordinates are the rect ``(x, z)`` (metres). A direction at angle ``phi`` in that plane is ``(cos phi,
sin phi)``; a KITTI box whose length axis points along it has ``ry = -phi`` (the length axis is ``(cos ry, 0,
-sin ry)``).

1. Heading search over ``[0, pi/2)`` in :data:`HEADING_STEPS` steps (coarse to fine) with the L-shape *closeness*
   criterion (Zhang et al., 2017): each point scores ``1 / max(d, d0)`` where ``d`` is its distance to the nearest
   edge of the enclosing rectangle at that heading; the best heading maximises the sum. It favours rectangles whose
   edges the points hug (the visible faces), unlike the minimum-area rectangle which is biased by partial views.
2. Two candidates per fit (the length axis along either rectangle axis). The visible extent on each axis, grown by
   the scan's sampling gap on the face spanning that axis (:func:`sampling_gap`), becomes a size with
   :func:`prior_size`; the rectangle keeps its edge nearest to the sensor and grows (or shrinks) away from
   it (:func:`place_interval`), since the far faces are not seen. Pedestrians take the prior mean size
   (:data:`PRIOR_BEV_SIZE`), cyclists the prior mean width (:data:`PRIOR_WIDTH`).
3. People (:func:`placed_as_person`): a pedestrian's points give neither a reliable heading nor a near face, and a
   cyclist seen end-on shows a thin wheel that the scan often misses, so their centre is moved along the sensor ray
   to :data:`PERSON_SURFACE_DEPTH` behind the points' median range (:func:`centre_behind_surface`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kitti.hdl64 import HDL64_AZIMUTH_STEP_DEG
from kitti.priors import MEAN_SIZE, SIZE_RANGE, SIZE_STD

HEADING_STEPS = 90
#: most points used by the heading search (an even stride over the rest)
MAX_HEADING_POINTS = 300
#: the coarse heading pass tries every COARSE_FACTOR-th angle
COARSE_FACTOR = 3
#: heading prior of the search: real KITTI cars are mostly aligned with the camera axes (mod 90 deg: 51 % within
#: 2 deg, 70 % within 5 deg, 7,462 label files, kitti/geometric/SOURCES.md), so the closeness score is weighted by
#: ``1 + AXIS_PRIOR_GAIN * exp(-d^2 / (2 AXIS_PRIOR_DEG^2))`` with ``d`` the angle to the nearest axis: a clear
#: L-shape at another heading still wins, a curved end-on view (bumper and roof arcs) no longer tilts the box
AXIS_PRIOR_GAIN = 0.15
AXIS_PRIOR_DEG = 3.0
#: classes whose heading search uses the axis prior (vehicles in lanes; pedestrians walk in any direction)
AXIS_ALIGNED_CLASSES = ("Car", "Cyclist")
#: closeness criterion floor distance (metres)
CLOSENESS_D0 = 0.05
#: a visible extent below ``mean - PARTIAL_STDS * std`` is a partial view: the size is the prior mean
PARTIAL_STDS = 2.5
#: horizontal angular spacing (radians) of consecutive returns of the scan (the HDL-64E's, as recorded in KITTI)
ANGULAR_STEP = float(np.radians(HDL64_AZIMUTH_STEP_DEG))
#: smallest cosine of the incidence angle used by :func:`sampling_gap` (caps the gap on faces seen edge-on)
MIN_INCIDENCE_COS = 0.3
#: median depth (metres, along the sensor ray) of a person's visible surface in front of the box centre: the body
#: seen as a round cylinder of radius half an adult chest depth (~0.24 m / 2), whose visible half lies on average
#: ``pi / 4`` of the radius in front of its axis
PERSON_SURFACE_DEPTH = 0.12 * np.pi / 4
#: classes whose BEV size is always the prior mean: a pedestrian's box spans the swing of arms and legs, which the
#: scan of the body cannot measure (its visible extent is the body's)
PRIOR_BEV_SIZE = ("Pedestrian",)
#: classes whose width is always the prior mean: a cyclist's box spans the bicycle, while the scan's lateral extent
#: is the rider's elbows and knees and the handlebar (the fitted widths were 1.5x the annotated ones on real frames)
PRIOR_WIDTH = PRIOR_BEV_SIZE + ("Cyclist",)
#: classes that may be placed as a person (:func:`placed_as_person`)
PERSON_CLASSES = ("Pedestrian", "Cyclist")
#: a cyclist whose length axis lies within this angle (degrees) of the sensor ray is seen end-on
END_ON_DEG = 30.0
#: heights (metres above the ground) of a car's door mirrors: they stick out ~0.1-0.2 m beyond the body on each side,
#: and KITTI's boxes span the body, so a car's width is measured on the points outside this band
MIRROR_BAND = (0.8, 1.2)
#: fewest points outside the mirror band for the width to be measured on them (else on every point)
MIN_BODY_POINTS = 10
#: metres added to the visible vertical extent (top point to ground) before the height prior is applied
HEIGHT_MARGIN = 0.05


@dataclass(frozen=True)
class BevCandidate:
    """A BEV rectangle: centre ``(x, z)`` rect metres, length ``l`` and width ``w`` metres, heading ``ry``
    (radians), the mean closeness distance of the points to its visible edges (metres), ``excess``, how far
    (metres, summed over both axes) the visible extent exceeds the size it was given (points left outside), and
    ``partial``: the length was not seen (the prior mean stands in for it)."""

    centre: np.ndarray
    l: float
    w: float
    ry: float
    residual: float
    excess: float
    partial: bool = False


def _closeness(xz: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closeness score ``(K,)`` of BEV points ``(N, 2)`` at rectangle angles ``phi (K,)``, and the nearest-edge
    distances ``(N, K)`` (metres)."""
    c1 = xz @ np.stack([np.cos(phi), np.sin(phi)])     # (N, K)
    c2 = xz @ np.stack([-np.sin(phi), np.cos(phi)])
    d1 = np.minimum(c1 - c1.min(axis=0), c1.max(axis=0) - c1)
    d2 = np.minimum(c2 - c2.min(axis=0), c2.max(axis=0) - c2)
    d = np.minimum(d1, d2)
    return (1.0 / np.maximum(d, CLOSENESS_D0)).sum(axis=0), d


def axis_prior(phi: np.ndarray) -> np.ndarray:
    """Weight ``(K,)`` of rectangle angles ``phi (K,)`` in ``[0, pi/2)`` (radians) by the heading prior above."""
    d = np.degrees(np.minimum(phi, np.pi / 2 - phi))
    return 1.0 + AXIS_PRIOR_GAIN * np.exp(-0.5 * (d / AXIS_PRIOR_DEG) ** 2)


def closeness_heading(xz: np.ndarray, steps: int = HEADING_STEPS, axis_aligned: bool = False) -> tuple[float, float]:
    """Best rectangle angle ``phi`` in ``[0, pi/2)`` (radians) for BEV points ``(N, 2)`` by the closeness criterion
    (weighted by :func:`axis_prior` when ``axis_aligned``), and the mean nearest-edge distance (metres) of the
    points at that angle. Coarse-to-fine: every
    :data:`COARSE_FACTOR`-th of the ``steps`` angles, then every angle around the best coarse one."""
    if len(xz) > MAX_HEADING_POINTS:
        xz = xz[np.linspace(0, len(xz) - 1, MAX_HEADING_POINTS).astype(np.int64)]
    xz = xz - xz.mean(axis=0)
    step = np.pi / 2 / steps
    coarse = np.arange(0, steps, COARSE_FACTOR) * step
    score, _ = _closeness(xz, coarse)
    best = coarse[int(np.argmax(score * axis_prior(coarse) if axis_aligned else score))]
    fine = np.mod(best + np.arange(-COARSE_FACTOR + 1, COARSE_FACTOR) * step, np.pi / 2)
    score, d = _closeness(xz, fine)
    k = int(np.argmax(score * axis_prior(fine) if axis_aligned else score))
    return float(fine[k]), float(d[:, k].mean())


def sampling_gap(range_m: float, incidence_cos: float) -> float:
    """Expected shortfall (metres) of a face's visible extent: a scan samples a face at range ``range_m`` every
    ``ANGULAR_STEP * range_m / cos(incidence)`` metres, so its outermost returns fall on average half that spacing
    inside each end. ``incidence_cos`` is ``|cos|`` of the angle between the ray and the face normal."""
    return ANGULAR_STEP * range_m / max(incidence_cos, MIN_INCIDENCE_COS)


def prior_size(extent: float, mean: float, std: float, margin: float, bounds: tuple[float, float]) -> float:
    """Size (metres) along one axis from the visible ``extent``: the prior ``mean`` for a partial view
    (``extent < mean - PARTIAL_STDS std``), else the extent grown by ``margin`` clipped to ``bounds`` (the range of
    real sizes, :data:`kitti.priors.SIZE_RANGE`)."""
    if extent < mean - PARTIAL_STDS * std:
        return mean
    return float(np.clip(extent + margin, *bounds))


def place_interval(lo: float, hi: float, size: float, sensor: float) -> tuple[float, float]:
    """Interval of length ``size`` from the visible interval ``[lo, hi]`` on an axis where the sensor sits at
    ``sensor``: the edge nearest to the sensor stays, the far edge moves; centred when the sensor lies between."""
    if sensor <= lo:
        return lo, lo + size
    if sensor >= hi:
        return hi - size, hi
    mid = 0.5 * (lo + hi)
    return mid - size / 2, mid + size / 2


def centre_behind_surface(xz: np.ndarray, sensor: np.ndarray, ray: np.ndarray) -> np.ndarray:
    """BEV centre ``(x, z)`` metres of a person whose points are ``xz (N, 2)``: on the unit ``ray`` from ``sensor``
    (through the points' mean), :data:`PERSON_SURFACE_DEPTH` beyond the points' median range."""
    return sensor + ray * (float(np.median(np.linalg.norm(xz - sensor, axis=1))) + PERSON_SURFACE_DEPTH)


def placed_as_person(class_name: str, ray_cos: float) -> bool:
    """Whether a box is centred from the points' median range (:func:`centre_behind_surface`): pedestrians
    always, cyclists seen end-on (``ray_cos`` = ``|cos|`` of the angle between the sensor ray and the length axis)."""
    return class_name == "Pedestrian" or (class_name in PERSON_CLASSES and ray_cos > np.cos(np.radians(END_ON_DEG)))


def width_points(heights: np.ndarray | None, class_name: str) -> np.ndarray | None:
    """Bool mask ``(N,)`` of the points a car's width is measured on: those outside :data:`MIRROR_BAND` (``heights``
    metres above the ground), when at least :data:`MIN_BODY_POINTS`; None (every point) otherwise."""
    if class_name != "Car" or heights is None:
        return None
    body = (heights < MIRROR_BAND[0]) | (heights > MIRROR_BAND[1])
    return body if int(body.sum()) >= MIN_BODY_POINTS else None


def bev_candidates(xz: np.ndarray, class_name: str, sensor: np.ndarray | None = None,
                   heights: np.ndarray | None = None) -> list[BevCandidate]:
    """The two prior-constrained rectangles (length along either fitted axis) of BEV points ``(N, 2)`` (rect x, z);
    ``sensor`` is the BEV position of the sensor (default the camera origin); ``heights (N,)`` metres above the
    ground, when given, keep a car's mirrors out of its width (:func:`width_points`)."""
    sensor = np.zeros(2) if sensor is None else np.asarray(sensor, np.float64)
    body = width_points(heights, class_name)
    phi, residual = closeness_heading(xz, axis_aligned=class_name in AXIS_ALIGNED_CLASSES)
    to_object = xz.mean(axis=0) - sensor
    range_m = float(np.linalg.norm(to_object))
    ray = to_object / max(range_m, 1e-6)
    mean_l, mean_w, _ = MEAN_SIZE[class_name]
    std_l, std_w, _ = SIZE_STD[class_name]
    range_l, range_w, _ = SIZE_RANGE[class_name]
    person_centre = centre_behind_surface(xz, sensor, ray) if class_name in PERSON_CLASSES else None
    out = []
    for length_phi in (phi, phi + np.pi / 2):
        e_l = np.array([np.cos(length_phi), np.sin(length_phi)])
        e_w = np.array([-e_l[1], e_l[0]])
        cl, cw = xz @ e_l, xz @ e_w
        if body is not None:
            cw = cw[body]
        ext_l, ext_w = float(np.ptp(cl)), float(np.ptp(cw))
        # the face spanning the length axis has normal e_w, the one spanning the width axis e_l
        if class_name in PRIOR_BEV_SIZE:
            l, w = mean_l, mean_w
        else:
            l = prior_size(ext_l, mean_l, std_l, sampling_gap(range_m, abs(float(ray @ e_w))), range_l)
            w = mean_w if class_name in PRIOR_WIDTH else prior_size(
                ext_w, mean_w, std_w, sampling_gap(range_m, abs(float(ray @ e_l))), range_w)
        if person_centre is not None and placed_as_person(class_name, abs(float(ray @ e_l))):
            centre = person_centre
        else:
            l0, l1 = place_interval(float(cl.min()), float(cl.max()), l, float(sensor @ e_l))
            w0, w1 = place_interval(float(cw.min()), float(cw.max()), w, float(sensor @ e_w))
            centre = 0.5 * (l0 + l1) * e_l + 0.5 * (w0 + w1) * e_w
        excess = max(0.0, ext_l - l) + max(0.0, ext_w - w)
        partial = class_name not in PRIOR_BEV_SIZE and ext_l < mean_l - PARTIAL_STDS * std_l
        out.append(BevCandidate(centre, l, w, float(-length_phi), residual, excess, partial))
    return out
