"""Composite objects and clutter built from primitives.

Object frame: origin at the bottom-face centre, x along the length (heading), y left, z up (metres). Each labelled
shape fills its sampled ``(l, w, h)`` box tightly: some part touches each of the six faces, none sticks out, so the
KITTI box is the sampled size and pose by construction. Clutter (buildings, trees, poles, hedges) has instance -1.
"""
from __future__ import annotations

import numpy as np

from kitti.synthetic import materials as mat
from kitti.synthetic.primitives import AXIS_Y, BOX, CYLINDER, ELLIPSOID, PrimitiveBuilder, rot_z

Color = tuple[float, float, float]
Pose = tuple[np.ndarray, np.ndarray]

_BLACK: Color = (0.06, 0.06, 0.07)
_GLASS: Color = (0.20, 0.16, 0.13)
_PLATE: Color = (0.92, 0.92, 0.92)
_TAIL: Color = (0.10, 0.10, 0.75)
_SKIN: Color = (0.55, 0.66, 0.85)
#: plan-view radius (metres) of a car body's four corners: on the 14 real frames (12 cars seen end-on at 6-30 m) the
#: end face's returns at body height lie behind those at its middle by 0.02 / 0.06 / 0.14 / 0.30 m at 0.45 / 0.7 /
#: 0.85 / 0.95 of the half-width (median over the cars), as a corner of radius 0.5 m gives (0.00 / 0.07 / 0.18 /
#: 0.30 m for a 1.6 m wide car); a square body gives 0.00-0.04
CAR_CORNER_RADIUS = 0.5


def object_pose(x: float, y: float, z: float, yaw: float) -> Pose:
    """Pose of an object frame: bottom centre ``(x, y, z)`` and heading ``yaw`` about the velodyne z axis."""
    return np.array([x, y, z], dtype=np.float64), rot_z(yaw)


def _segment(b: PrimitiveBuilder, pose: Pose, p0: tuple, p1: tuple, half_xy: tuple[float, float], inst: int,
             material: int, color: Color) -> None:
    """A box from point ``p0`` to ``p1`` (object frame) with cross-section half sizes ``half_xy``."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    axis = p1 - p0
    length = float(np.linalg.norm(axis))
    z = axis / length
    ref = np.array([0.0, 1.0, 0.0]) if abs(z[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x = np.cross(ref, z)
    x /= np.linalg.norm(x)
    local = np.stack([x, np.cross(z, x), z], axis=1)
    b.add_local(pose, BOX, tuple((p0 + p1) / 2), (half_xy[0], half_xy[1], length / 2), inst, material, color,
                local_rot=local)


def _wheels(b: PrimitiveBuilder, pose: Pose, inst: int, xs: tuple[float, ...], y: float, radius: float,
            half_width: float) -> None:
    for x in xs:
        for side in (-1.0, 1.0):
            b.add_local(pose, CYLINDER, (x, side * y, radius), (radius, radius, half_width), inst, mat.TYRE, _BLACK,
                        local_rot=AXIS_Y)


def corner_recess(y: float, w: float, radius: float) -> float:
    """How far (metres) the end of a body ``w`` wide whose plan-view corners are rounded with ``radius`` lies behind
    its end plane at lateral offset ``y`` from its axis."""
    dy = max(abs(y) - (w / 2 - radius), 0.0)
    return radius - float(np.sqrt(max(radius ** 2 - dy ** 2, 0.0)))


def _plates_and_lights(b: PrimitiveBuilder, pose: Pose, inst: int, l: float, w: float, h: float,
                       corner: float = 0.0) -> None:
    """Number plates on both ends, tail lights on the rear, set back onto a body with plan-view corners of radius
    ``corner``."""
    for end in (-1.0, 1.0):
        b.add_local(pose, BOX, (end * (l / 2 - 0.015), 0.0, 0.33 * h), (0.015, 0.26, 0.06), inst, mat.PLATE, _PLATE)
    for side in (-1.0, 1.0):
        y = side * (w / 2 - 0.2)
        b.add_local(pose, BOX, (-(l / 2 - 0.015 - corner_recess(y, w, corner)), y, 0.5 * h), (0.015, 0.13, 0.05), inst,
                    mat.LIGHT, _TAIL)


def add_car(b: PrimitiveBuilder, pose: Pose, inst: int, l: float, w: float, h: float, color: Color) -> None:
    """Car: lower body with rounded plan-view corners (:data:`CAR_CORNER_RADIUS`), glass cabin set back and narrower,
    roof, four wheels, number plates and tail lights."""
    radius = float(np.clip(0.21 * h, 0.27, 0.38))
    body = (0.6 * radius, 0.56 * h)
    half_l, half_h, corner = l / 2 - 0.03, (body[1] - body[0]) / 2, min(CAR_CORNER_RADIUS, 0.45 * w)
    z = sum(body) / 2
    b.add_local(pose, BOX, (0.0, 0.0, z), (half_l, w / 2 - corner, half_h), inst, mat.CAR_PAINT, color)
    b.add_local(pose, BOX, (0.0, 0.0, z), (half_l - corner, w / 2, half_h), inst, mat.CAR_PAINT, color)
    for end in (-1.0, 1.0):
        for side in (-1.0, 1.0):
            b.add_local(pose, CYLINDER, (end * (half_l - corner), side * (w / 2 - corner), z), (corner, corner, half_h),
                        inst, mat.CAR_PAINT, color)
    cab_x = -0.08 * l
    b.add_local(pose, BOX, (cab_x, 0.0, (body[1] + 0.92 * h) / 2), (0.29 * l, 0.44 * w, (0.92 * h - body[1]) / 2),
                inst, mat.GLASS, _GLASS)
    b.add_local(pose, BOX, (cab_x - 0.01 * l, 0.0, 0.96 * h), (0.25 * l, 0.42 * w, 0.04 * h), inst,
                mat.CAR_PAINT, color)
    _wheels(b, pose, inst, (l / 2 - 0.22 * l, -(l / 2 - 0.24 * l)), w / 2 - 0.13, radius, 0.1)
    _plates_and_lights(b, pose, inst, l, w, h, corner)


def add_van(b: PrimitiveBuilder, pose: Pose, inst: int, l: float, w: float, h: float, color: Color) -> None:
    """Van: full-length lower body, tall box cabin almost as long as the van with a window band, four wheels."""
    radius = float(np.clip(0.16 * h, 0.3, 0.4))
    body = (0.6 * radius, 0.48 * h)
    b.add_local(pose, BOX, (0.0, 0.0, sum(body) / 2), (l / 2 - 0.03, w / 2, (body[1] - body[0]) / 2), inst,
                mat.CAR_PAINT, color)
    x0, x1 = -l / 2 + 0.03, l / 2 - 0.17 * l
    b.add_local(pose, BOX, ((x0 + x1) / 2, 0.0, (body[1] + 0.7 * h) / 2),
                ((x1 - x0) / 2, 0.47 * w, (0.7 * h - body[1]) / 2), inst, mat.GLASS, _GLASS)
    b.add_local(pose, BOX, ((x0 + x1) / 2, 0.0, 0.85 * h), ((x1 - x0) / 2, 0.485 * w, 0.15 * h), inst,
                mat.CAR_PAINT, color)
    _wheels(b, pose, inst, (l / 2 - 0.17 * l, -(l / 2 - 0.2 * l)), w / 2 - 0.13, radius, 0.11)
    _plates_and_lights(b, pose, inst, l, w, h)


def add_pedestrian(b: PrimitiveBuilder, pose: Pose, inst: int, l: float, w: float, h: float, top: Color,
                   legs: Color) -> None:
    """Pedestrian in mid stride: two legs (feet reach the box front/back), torso, swinging arms (reach the box
    sides), ellipsoid head (touches the box top)."""
    hip = 0.5 * h
    reach = max(l / 2 - 0.06, 0.0)
    for side, fwd in ((1.0, 1.0), (-1.0, -1.0)):
        _segment(b, pose, (0.0, side * 0.09, hip), (fwd * reach, side * 0.09, 0.06), (0.06, 0.07), inst,
                 mat.CLOTH, legs)
    shoulder = 0.82 * h
    half_torso_y = min(w / 2 - 0.1, 0.2)
    b.add_local(pose, BOX, (0.0, 0.0, (hip + 0.84 * h) / 2), (0.11, half_torso_y, (0.84 * h - hip) / 2), inst,
                mat.CLOTH, top)
    arm = 0.33 * h
    for side, fwd in ((1.0, -1.0), (-1.0, 1.0)):
        swing = fwd * min(0.6 * reach, arm * 0.6)
        _segment(b, pose, (0.0, side * (w / 2 - 0.05), shoulder),
                 (swing, side * (w / 2 - 0.05), shoulder - np.sqrt(arm ** 2 - swing ** 2)), (0.045, 0.045), inst,
                 mat.CLOTH, top)
    b.add_local(pose, ELLIPSOID, (0.0, 0.0, h - 0.115), (0.1, 0.085, 0.115), inst, mat.SKIN, _SKIN)


def add_cyclist(b: PrimitiveBuilder, pose: Pose, inst: int, l: float, w: float, h: float, top: Color,
                legs: Color, bike: Color) -> None:
    """Cyclist: bike (two thin wheels touching the box ends, frame tubes, handlebar as wide as the box) and a rider
    leaning forward (torso, head touching the box top, arms to the handlebar, legs to the pedals)."""
    rw = 0.34
    for end in (-1.0, 1.0):
        b.add_local(pose, CYLINDER, (end * (l / 2 - rw), 0.0, rw), (rw, rw, 0.02), inst, mat.TYRE, _BLACK,
                    local_rot=AXIS_Y)
    rear, front = -(l / 2 - rw), l / 2 - rw
    seat = (-0.22, 0.0, rw + 0.52)
    bar = (front - 0.08, 0.0, rw + 0.62)
    for p0, p1 in ((( rear, 0.0, rw), (0.0, 0.0, rw)), ((0.0, 0.0, rw), seat), (seat, (front - 0.1, 0.0, rw + 0.5)),
                   ((0.0, 0.0, rw), (front - 0.1, 0.0, rw + 0.5)), ((front, 0.0, rw), bar)):
        _segment(b, pose, p0, p1, (0.02, 0.02), inst, mat.METAL, bike)
    b.add_local(pose, BOX, bar, (0.02, w / 2, 0.02), inst, mat.METAL, bike)
    lean = np.radians(35.0)
    hip = np.array([-0.22, 0.0, rw + 0.57])
    torso = (h - 0.115 - 0.2 * np.cos(lean) - hip[2]) / np.cos(lean)
    shoulder = hip + torso * np.array([np.sin(lean), 0.0, np.cos(lean)])
    _segment(b, pose, tuple(hip), tuple(shoulder), (0.11, min(w / 2 - 0.08, 0.19)), inst, mat.CLOTH, top)
    b.add_local(pose, ELLIPSOID, tuple(shoulder + 0.2 * np.array([np.sin(lean), 0.0, np.cos(lean)])),
                (0.1, 0.085, 0.115), inst, mat.SKIN, _SKIN)
    for side in (-1.0, 1.0):
        _segment(b, pose, (shoulder[0], side * 0.17, shoulder[2]), (bar[0], side * (w / 2 - 0.06), bar[2]),
                 (0.04, 0.04), inst, mat.CLOTH, top)
    for side, pedal in ((1.0, (0.15, rw - 0.02 + 0.06)), (-1.0, (-0.1, rw + 0.2))):
        _segment(b, pose, (hip[0], side * 0.1, hip[2]), (pedal[0], side * 0.1, pedal[1]), (0.06, 0.065), inst,
                 mat.CLOTH, legs)


def add_building(b: PrimitiveBuilder, center: np.ndarray, yaw: float, half: tuple[float, float, float],
                 color: Color) -> None:
    """Building block (box, ``center`` = box centre, velodyne frame); windows are drawn by the renderer."""
    b.add(BOX, center, rot_z(yaw), half, -1, mat.WALL, color)


def add_tree(b: PrimitiveBuilder, base: np.ndarray, trunk_radius: float, trunk_height: float,
             crown: tuple[float, float, float], bark: Color, leaves: Color) -> None:
    """Tree: vertical trunk cylinder from ``base`` (ground point, velodyne) and an ellipsoid crown on top."""
    b.add(CYLINDER, base + [0, 0, trunk_height / 2 + 0.2], np.eye(3),
          (trunk_radius, trunk_radius, trunk_height / 2 + 0.2), -1, mat.BARK, bark)
    b.add(ELLIPSOID, base + [0, 0, trunk_height + crown[2] * 0.8], np.eye(3), crown, -1, mat.FOLIAGE, leaves)


def add_pole(b: PrimitiveBuilder, base: np.ndarray, radius: float, height: float, sign: bool) -> None:
    """Street lamp / sign pole (grey cylinder from the ground point ``base``), optionally with a sign plate."""
    b.add(CYLINDER, base + [0, 0, height / 2], np.eye(3), (radius, radius, height / 2), -1, mat.POLE,
          (0.45, 0.47, 0.48))
    if sign:
        b.add(BOX, base + [0, 0, height - 0.35], np.eye(3), (0.03, 0.3, 0.3), -1, mat.PLATE, (0.7, 0.35, 0.1))


def add_hedge(b: PrimitiveBuilder, center: np.ndarray, yaw: float, half: tuple[float, float, float],
              color: Color) -> None:
    """Hedge / bush row (box, ``center`` = box centre)."""
    b.add(BOX, center, rot_z(yaw), half, -1, mat.FOLIAGE, color)
