"""Scene primitives in the velodyne frame (x forward, y left, z up; metres).

Three kinds, all described by a centre, a rotation (world-from-local, columns = local axes) and half sizes:

* ``BOX``: oriented box with half extents ``half``;
* ``CYLINDER``: axis along local z, radius ``half[0]``, half length ``half[2]`` (``half[1]`` = radius);
* ``ELLIPSOID``: semi-axes ``half``.

Each primitive carries the index of the labelled object it belongs to (``instance``, -1 for clutter), a material
(:mod:`.materials`) and a BGR colour in [0, 1].
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BOX, CYLINDER, ELLIPSOID = 0, 1, 2


def rot_z(yaw: float) -> np.ndarray:
    """Rotation by ``yaw`` radians about the velodyne z axis (counter-clockwise seen from above)."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rot_y(angle: float) -> np.ndarray:
    """Rotation by ``angle`` radians about the y axis."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_x(angle: float) -> np.ndarray:
    """Rotation by ``angle`` radians about the x axis."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


#: local rotation that turns a cylinder's axis (local z) onto local y (wheels)
AXIS_Y = rot_x(np.pi / 2)


@dataclass
class Primitives:
    """Flat arrays of ``P`` primitives (numba-friendly)."""

    kind: np.ndarray      # int32 (P,)
    center: np.ndarray    # float64 (P, 3) velodyne
    rot: np.ndarray       # float64 (P, 3, 3) world-from-local
    half: np.ndarray      # float64 (P, 3) metres
    instance: np.ndarray  # int32 (P,) object index or -1
    material: np.ndarray  # int32 (P,)
    color: np.ndarray     # float64 (P, 3) BGR in [0, 1]

    def __len__(self) -> int:
        return int(self.kind.shape[0])

    def subset(self, mask: np.ndarray) -> "Primitives":
        """The primitives selected by a boolean mask or index array."""
        return Primitives(*(np.ascontiguousarray(getattr(self, name)[mask]) for name in
                            ("kind", "center", "rot", "half", "instance", "material", "color")))


@dataclass
class PrimitiveBuilder:
    """Accumulates primitives; parts are given in an object's local frame and placed by a pose."""

    _rows: list[tuple] = field(default_factory=list)

    def add(self, kind: int, center: np.ndarray, rot: np.ndarray, half: np.ndarray, instance: int, material: int,
            color: tuple[float, float, float]) -> None:
        """Add one primitive given directly in the velodyne frame."""
        self._rows.append((kind, np.asarray(center, float), np.asarray(rot, float), np.asarray(half, float),
                           instance, material, np.asarray(color, float)))

    def add_local(self, pose: tuple[np.ndarray, np.ndarray], kind: int, center: tuple[float, float, float],
                  half: tuple[float, float, float], instance: int, material: int,
                  color: tuple[float, float, float], local_rot: np.ndarray | None = None) -> None:
        """Add a part defined in an object frame ``pose = (origin (3,), rotation (3, 3))`` (velodyne frame)."""
        origin, rotation = pose
        rot = rotation if local_rot is None else rotation @ local_rot
        self.add(kind, origin + rotation @ np.asarray(center, float), rot, half, instance, material, color)

    def build(self) -> Primitives:
        if not self._rows:
            raise ValueError("PrimitiveBuilder.build: no primitives were added")
        kind, center, rot, half, instance, material, color = zip(*self._rows)
        return Primitives(np.array(kind, np.int32), np.array(center), np.array(rot), np.array(half),
                          np.array(instance, np.int32), np.array(material, np.int32), np.array(color))
