"""Street scene sampling for one frame: road layout, labelled objects and clutter (velodyne frame, metres).

The road's direction relative to the ego car (velodyne yaw) is drawn from the frame directions of the KITTI label
files, and each vehicle deviates from its row or lane by a deviation drawn from KITTI's (angled parking, turning
cars; :func:`kitti.synthetic.kitti_stats.heading_statistics`), and its traffic (parked rows' occupancy, moving cars
per lane) scales with a vehicle count drawn from KITTI's vehicles per frame. Street coordinates: ``s`` along the road,
``q`` across it (left positive), ``q = 0`` on the centre line; the ego car (sensor at the origin, 1.73 m above the
ground) drives in a right-hand lane. Across the street: driving lanes, parking strips (parallel or perpendicular),
0.12 m kerbs with sidewalks, front gardens, then building facades. Parked cars stand in rows, moving cars in lanes,
pedestrians on sidewalks (some crossing), cyclists at the road edge. No two objects overlap in bird's-eye view (with
a margin). Everything is drawn from the ``numpy`` generator passed in, so a scene is a function of its seed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kitti.synthetic import materials as mat
from kitti.synthetic import shapes
from kitti.synthetic.kitti_stats import load_headings, load_vehicles_per_frame
from kitti.synthetic.primitives import BOX, PrimitiveBuilder, Primitives, rot_x, rot_y, rot_z

#: Velodyne height above the ground (KITTI), metres
SENSOR_HEIGHT = 1.73
#: kerb / sidewalk height above the road, metres
SIDEWALK_HEIGHT = 0.12
#: per class: mean and std of (l, w, h) and clip range (low, high) for each, metres (KITTI statistics)
SIZE_STATS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float], tuple, tuple]] = {
    "Car": ((3.88, 1.63, 1.53), (0.43, 0.10, 0.14), (3.2, 1.45, 1.3), (5.0, 1.95, 1.9)),
    "Van": ((5.10, 1.90, 2.20), (0.45, 0.10, 0.20), (4.3, 1.70, 1.8), (6.0, 2.20, 2.6)),
    "Pedestrian": ((0.84, 0.66, 1.76), (0.22, 0.15, 0.09), (0.45, 0.48, 1.5), (1.25, 0.95, 2.0)),
    "Cyclist": ((1.76, 0.60, 1.74), (0.10, 0.08, 0.08), (1.55, 0.48, 1.55), (2.0, 0.80, 1.95)),
}
#: std of a vehicle's deviation from its row or lane (deg) outside KITTI's tail: KITTI's within-5-deg deviations
#: (robust sigma 1.44 deg) are about the annotation noise alone (1.5 deg, :mod:`kitti.synthetic.annotate`)
CORE_DEVIATION_DEG = 0.5
#: labelled vehicles (Car, Van) per frame of the world at traffic 1, the traffic of generator 1.4 (7.9 / 7.8 / 8.7 on
#: its worlds 0 / 1 / 2, 100 frames each); with 7.8 the worlds of 1.5 label KITTI's mean (docs/results.md)
FULL_TRAFFIC_VEHICLES = 7.8
#: parked rows' occupancy never exceeds this (some gaps are always left)
MAX_OCCUPANCY = 0.95


def draw_percentiles(rng: np.random.Generator, percentiles: list[float]) -> float:
    """A draw from the distribution given by its evenly spaced ``percentiles`` (0 to 100 %; inverse CDF, linear
    between them)."""
    return float(np.interp(rng.random(), np.linspace(0.0, 1.0, len(percentiles)), percentiles))


def draw_road_yaw(rng: np.random.Generator) -> float:
    """Road direction (velodyne yaw, rad) from KITTI's frame directions (deg, rect frame; velodyne yaw = -ry mod
    90 deg)."""
    return -float(np.radians(draw_percentiles(rng, load_headings()["frame direction percentiles"])))


def draw_deviation(rng: np.random.Generator) -> float:
    """A vehicle's heading deviation from its row or lane (velodyne, rad): KITTI's tail beyond 5 deg with KITTI's
    probability, else ``N(0, CORE_DEVIATION_DEG)``."""
    stats = load_headings()
    if rng.random() < stats["deviation beyond 5 deg"]:
        return -float(np.radians(draw_percentiles(rng, stats["deviation tail percentiles"])))
    return float(np.radians(rng.normal(0.0, CORE_DEVIATION_DEG)))


def draw_traffic(rng: np.random.Generator) -> float:
    """A frame's traffic (dimensionless, 1 = the 1.4 world's): a vehicle count drawn from KITTI's labelled vehicles
    per frame over :data:`FULL_TRAFFIC_VEHICLES`. KITTI's drives range from empty roads (0 vehicles in 9 % of the
    frames) to full parked rows (20); the world's rows and lanes are filled in proportion."""
    return draw_percentiles(rng, load_vehicles_per_frame()["percentiles"]) / FULL_TRAFFIC_VEHICLES


_CAR_COLORS = [(0.72, 0.72, 0.70), (0.88, 0.88, 0.88), (0.10, 0.10, 0.11), (0.30, 0.30, 0.32), (0.12, 0.12, 0.62),
               (0.55, 0.30, 0.12), (0.35, 0.18, 0.08), (0.25, 0.40, 0.25), (0.55, 0.65, 0.70), (0.45, 0.45, 0.45)]
#: share of the cars painted black (``_CAR_COLORS[2]``, albedo 0.10; the others are equally likely): 9 of the 22 cars
#: of the 14 real frames seen head-on by >= 8 returns (occlusion <= 1) return intensity 0 for most of their body,
#: the darkest paints; a paint that dark is at the LiDAR's detection floor (:mod:`.lidar`) and loses its returns at
#: grazing incidence
BLACK_CAR_SHARE = 9 / 22
_CAR_COLOR_P = np.array([BLACK_CAR_SHARE if i == 2 else (1 - BLACK_CAR_SHARE) / (len(_CAR_COLORS) - 1)
                         for i in range(len(_CAR_COLORS))])
_CLOTH_COLORS = [(0.15, 0.15, 0.15), (0.45, 0.30, 0.15), (0.20, 0.20, 0.55), (0.75, 0.75, 0.75), (0.3, 0.45, 0.3),
                 (0.25, 0.25, 0.30), (0.55, 0.45, 0.35), (0.1, 0.1, 0.3)]
_WALL_COLORS = [(0.70, 0.80, 0.85), (0.85, 0.85, 0.85), (0.30, 0.35, 0.60), (0.55, 0.60, 0.62), (0.50, 0.70, 0.80),
                (0.62, 0.66, 0.70), (0.40, 0.50, 0.65)]


@dataclass
class Street:
    """Road layout: ``yaw`` of the road axis (rad, velodyne), ``q_ego`` the ego's lateral street coordinate,
    ``lane_edges`` the q of the lane lines, ``road`` = (q of right kerb, q of left kerb), ``sidewalk`` widths."""

    yaw: float
    q_ego: float
    lane_edges: np.ndarray
    road: tuple[float, float]
    sidewalk: tuple[float, float]

    def to_velo(self, s: float | np.ndarray, q: float | np.ndarray) -> np.ndarray:
        """Street ``(s, q)`` -> velodyne ``(x, y)`` (stacked on the last axis)."""
        c, sn = np.cos(self.yaw), np.sin(self.yaw)
        dq = np.asarray(q) - self.q_ego
        return np.stack([c * np.asarray(s) - sn * dq, sn * np.asarray(s) + c * dq], axis=-1)

    def to_street(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Velodyne ``(x, y)`` -> street ``(s, q)``."""
        c, sn = np.cos(self.yaw), np.sin(self.yaw)
        return c * x + sn * y, -sn * x + c * y + self.q_ego

    def ground_material(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Material of the ground plane at velodyne ``(x, y)``: asphalt on the road, white paint on the lane lines
        (dashed between lanes of one direction and on the centre line, solid at the lane / parking boundary),
        grass outside the road (the sidewalks are separate slabs)."""
        s, q = self.to_street(np.asarray(x), np.asarray(y))
        out = np.where((q >= self.road[0]) & (q <= self.road[1]), mat.ASPHALT, mat.GRASS).astype(np.int32)
        edges = self.lane_edges
        for k, edge in enumerate(edges):
            solid = k in (0, len(edges) - 1)
            line = (np.abs(q - edge) < 0.07) & (solid | (np.mod(s, 9.0) < 3.0))
            out[line] = mat.LANE_PAINT
        return out


@dataclass
class SceneObject:
    """A labelled object: class, bottom centre ``(x, y, z)`` and heading ``yaw`` (velodyne), size ``(l, w, h)``."""

    cls: str
    x: float
    y: float
    z: float
    yaw: float
    l: float
    w: float
    h: float


@dataclass
class Scene:
    """One frame's world: primitives, ground plane ``(a, b, c, d)`` (``a x + b y + c z + d = 0``, unit upward
    normal), labelled objects (instance ``i`` = ``objects[i]``) and the street layout."""

    prims: Primitives
    ground: np.ndarray
    objects: list[SceneObject]
    street: Street

    def ground_z(self, x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray | float:
        """Ground height (velodyne z) below ``(x, y)``."""
        a, b, c, d = self.ground
        return -(d + a * np.asarray(x) + b * np.asarray(y)) / c


@dataclass
class _Footprints:
    """Bird's-eye rectangles ``(cx, cy, yaw, half_l, half_w)`` already occupied (separating-axis overlap test)."""

    rects: list[tuple[float, float, float, float, float]] = field(default_factory=list)

    @staticmethod
    def _corners(r: tuple[float, float, float, float, float]) -> np.ndarray:
        cx, cy, yaw, hl, hw = r
        c, s = np.cos(yaw), np.sin(yaw)
        local = np.array([[hl, hw], [hl, -hw], [-hl, -hw], [-hl, hw]])
        return local @ np.array([[c, s], [-s, c]]) + [cx, cy]

    def free(self, rect: tuple[float, float, float, float, float]) -> bool:
        a = self._corners(rect)
        for other in self.rects:
            if (rect[0] - other[0]) ** 2 + (rect[1] - other[1]) ** 2 > (np.hypot(rect[3], rect[4])
                                                                        + np.hypot(other[3], other[4])) ** 2:
                continue
            b = self._corners(other)
            separated = False
            for yaw in (rect[2], other[2]):
                for axis in (np.array([np.cos(yaw), np.sin(yaw)]), np.array([-np.sin(yaw), np.cos(yaw)])):
                    pa, pb = a @ axis, b @ axis
                    if pa.max() < pb.min() or pb.max() < pa.min():
                        separated = True
                        break
                if separated:
                    break
            if not separated:
                return False
        return True

    def add(self, rect: tuple[float, float, float, float, float]) -> None:
        self.rects.append(rect)


class _SceneSampler:
    """Builds one scene; methods add one kind of content each."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.builder = PrimitiveBuilder()
        self.objects: list[SceneObject] = []
        self.footprints = _Footprints()
        # ego car footprint (sensor above the rear half of a ~4.8 m car), kept free
        self.footprints.add((-0.3, 0.0, 0.0, 3.2, 1.4))
        pitch, roll = np.radians(rng.uniform(-0.5, 0.5, size=2))
        normal = rot_y(pitch) @ rot_x(roll) @ np.array([0.0, 0.0, 1.0])
        self.ground = np.array([*normal, SENSOR_HEIGHT * normal[2]])

    def ground_z(self, x: float, y: float) -> float:
        a, b, c, d = self.ground
        return float(-(d + a * x + b * y) / c)

    # --- layout -------------------------------------------------------------------------------------------------
    def sample_street(self) -> None:
        rng = self.rng
        lane_w = rng.uniform(3.0, 3.6)
        lanes = int(rng.choice([1, 2], p=[0.7, 0.3]))
        ego_lane = int(rng.integers(lanes))
        self.parking = [str(rng.choice(["none", "parallel", "perpendicular"], p=[0.2, 0.65, 0.15]))
                        for _ in range(2)]  # [right, left]
        park_w = [{"none": 0.3, "parallel": 2.2, "perpendicular": 5.0}[p] for p in self.parking]
        road = (-(lanes * lane_w + park_w[0]), lanes * lane_w + park_w[1])
        edges = np.arange(-lanes, lanes + 1) * lane_w
        self.lane_w, self.lanes = lane_w, lanes
        self.traffic = draw_traffic(rng)
        self.street = Street(yaw=draw_road_yaw(rng),
                             q_ego=float(-(ego_lane + 0.5) * lane_w + rng.normal(0, 0.2)),
                             lane_edges=edges, road=road, sidewalk=(rng.uniform(2.0, 4.0), rng.uniform(2.0, 4.0)))

    def _pose(self, s: float, q: float, heading: float) -> tuple[float, float, float, float]:
        x, y = self.street.to_velo(s, q)
        on_sidewalk = not self.street.road[0] <= q <= self.street.road[1]
        z = self.ground_z(x, y) + (SIDEWALK_HEIGHT if on_sidewalk else 0.0)
        return float(x), float(y), z, float(heading + self.street.yaw)

    def _size(self, cls: str) -> tuple[float, float, float]:
        mean, std, lo, hi = SIZE_STATS[cls]
        return tuple(float(v) for v in np.clip(self.rng.normal(mean, std), lo, hi))

    # --- labelled objects ---------------------------------------------------------------------------------------
    def place(self, cls: str, s: float, q: float, heading: float, margin: float,
              size: tuple[float, float, float] | None = None) -> bool:
        """Add a labelled object at street ``(s, q)`` heading ``heading`` (rad, street frame) if its footprint is
        free."""
        l, w, h = size or self._size(cls)
        x, y, z, yaw = self._pose(s, q, heading)
        rect = (x, y, yaw, l / 2 + margin, w / 2 + margin)
        if not self.footprints.free(rect):
            return False
        self.footprints.add(rect)
        inst = len(self.objects)
        self.objects.append(SceneObject(cls, x, y, z, yaw, l, w, h))
        pose = shapes.object_pose(x, y, z, yaw)
        rng = self.rng
        jitter = lambda c: tuple(float(v) for v in np.clip(np.asarray(c) * rng.uniform(0.85, 1.15), 0, 1))  # noqa: E731
        if cls in ("Car", "Van"):
            color = jitter(_CAR_COLORS[rng.choice(len(_CAR_COLORS), p=_CAR_COLOR_P)])
            (shapes.add_car if cls == "Car" else shapes.add_van)(self.builder, pose, inst, l, w, h, color)
        else:
            top, legs = (jitter(_CLOTH_COLORS[i]) for i in rng.integers(len(_CLOTH_COLORS), size=2))
            if cls == "Pedestrian":
                shapes.add_pedestrian(self.builder, pose, inst, l, w, h, top, legs)
            else:
                shapes.add_cyclist(self.builder, pose, inst, l, w, h, top, legs,
                                   jitter(_CAR_COLORS[rng.integers(len(_CAR_COLORS))]))
        return True

    def _vehicle_class(self) -> str:
        return "Van" if self.rng.random() < 0.06 else "Car"

    def parked_cars(self) -> None:
        rng = self.rng
        occupancy = min(MAX_OCCUPANCY, rng.uniform(0.25, 0.8) * self.traffic)
        for side, kerb in ((0, self.street.road[0]), (1, self.street.road[1])):
            kind = self.parking[side]
            if kind == "none":
                continue
            inward = 1.0 if side == 0 else -1.0  # +q direction pointing into the road from this kerb
            s = rng.uniform(-35, -20)
            while s < 75:
                cls = self._vehicle_class()
                l, w, h = self._size(cls)
                if kind == "parallel":
                    along = l
                    heading = (0.0 if side == 0 else np.pi) if rng.random() < 0.85 else (np.pi if side == 0 else 0.0)
                    heading += draw_deviation(rng)
                    q = kerb + inward * (w / 2 + rng.uniform(0.1, 0.5))
                else:
                    along = w
                    heading = rng.choice([-1.0, 1.0]) * np.pi / 2 + draw_deviation(rng)
                    q = kerb + inward * (l / 2 + rng.uniform(0.2, 0.6))
                if rng.random() < occupancy:
                    self.place(cls, s + along / 2, q, heading, 0.25, (l, w, h))
                    s += along + rng.uniform(0.5, 2.5) if kind == "parallel" else along + rng.uniform(0.5, 1.2)
                else:
                    s += rng.uniform(3.0, 7.0)

    def moving_cars(self) -> None:
        rng = self.rng
        for lane in range(-self.lanes, self.lanes):
            q = (lane + 0.5) * self.lane_w
            same_direction = q < 0
            for _ in range(rng.poisson(0.9 * self.traffic)):
                s = rng.uniform(8, 65) if same_direction else rng.uniform(-30, 70)
                heading = (0.0 if same_direction else np.pi) + draw_deviation(rng)
                self.place(self._vehicle_class(), s, q + rng.normal(0, 0.25), heading, 0.5)

    def pedestrians(self) -> None:
        rng = self.rng
        road = self.street.road
        for _ in range(rng.poisson(rng.uniform(1.0, 4.5))):
            side = int(rng.integers(2))
            s = rng.uniform(-5, 40)
            if rng.random() < 0.12:  # crossing the road
                q = rng.uniform(road[0] + 1, road[1] - 1)
                heading = rng.choice([-1.0, 1.0]) * np.pi / 2 + rng.normal(0, 0.2)
            else:
                kerb, width = (road[0], self.street.sidewalk[0]) if side == 0 else (road[1], self.street.sidewalk[1])
                q = kerb + (-1 if side == 0 else 1) * rng.uniform(0.4, width - 0.4)
                heading = rng.choice([0.0, np.pi]) + rng.normal(0, 0.15) if rng.random() < 0.7 \
                    else rng.uniform(-np.pi, np.pi)
            group = int(rng.choice([1, 1, 1, 2, 3]))
            for k in range(group):
                self.place("Pedestrian", s + k * rng.uniform(0.7, 1.2), q + rng.normal(0, 0.3), heading, 0.1)

    def cyclists(self) -> None:
        rng = self.rng
        for _ in range(rng.poisson(0.9)):
            side = int(rng.integers(2))
            if side == 0:
                q = self.street.lane_edges[0] + rng.uniform(0.5, 1.0)
                heading = rng.normal(0, 0.05)
            else:
                q = self.street.lane_edges[-1] - rng.uniform(0.5, 1.0)
                heading = np.pi + rng.normal(0, 0.05)
            self.place("Cyclist", rng.uniform(4, 45), q, heading, 0.3)

    # --- clutter ------------------------------------------------------------------------------------------------
    def _kerb_side(self, side: int) -> tuple[float, float, float]:
        """(kerb q, outward sign, sidewalk width) of a side (0 right, 1 left)."""
        return (self.street.road[0], -1.0, self.street.sidewalk[0]) if side == 0 else \
            (self.street.road[1], 1.0, self.street.sidewalk[1])

    def sidewalks(self) -> None:
        for side in (0, 1):
            kerb, out, width = self._kerb_side(side)
            for s in np.arange(-60.0, 120.0, 6.0):
                x, y = self.street.to_velo(s + 3.0, kerb + out * width / 2)
                gz = self.ground_z(x, y)
                self.builder.add(BOX, (x, y, gz + SIDEWALK_HEIGHT / 2 - 0.05), rot_z(self.street.yaw),
                                 (3.0, width / 2, SIDEWALK_HEIGHT / 2 + 0.05), -1, mat.SIDEWALK, (0.62, 0.64, 0.66))

    def _free_point(self, x: float, y: float, radius: float) -> bool:
        rect = (x, y, 0.0, radius, radius)
        if self.footprints.free(rect):
            self.footprints.add(rect)
            return True
        return False

    def street_furniture(self) -> None:
        """Trees and poles on the sidewalks (placed before the objects, whose footprints must avoid them)."""
        rng = self.rng
        for side in (0, 1):
            kerb, out, width = self._kerb_side(side)
            if rng.random() < 0.65:
                s = rng.uniform(-60, -50)
                while s < 110:
                    q = kerb + out * rng.uniform(0.5, min(1.2, width - 0.3))
                    x, y = self.street.to_velo(s, q)
                    r = rng.uniform(0.12, 0.3)
                    if self._free_point(x, y, r + 0.2):
                        crown = (rng.uniform(1.2, 2.8), rng.uniform(1.2, 2.8), rng.uniform(1.3, 2.5))
                        trunk = rng.uniform(2.0, 4.0)
                        top = max(trunk + 0.6 * crown[2], 2.9 + crown[2])
                        shapes.add_tree(self.builder, np.array([x, y, self.ground_z(x, y)]), r, top - crown[2] * 0.8,
                                        crown, (0.15, 0.22, 0.28),
                                        tuple(rng.uniform([0.10, 0.30, 0.12], [0.22, 0.48, 0.28])))
                    s += rng.uniform(7, 16)
            s = rng.uniform(-60, -40)
            while s < 110:
                x, y = self.street.to_velo(s, kerb + out * 0.35)
                if self._free_point(x, y, 0.3):
                    shapes.add_pole(self.builder, np.array([x, y, self.ground_z(x, y)]), rng.uniform(0.05, 0.12),
                                    rng.uniform(3.0, 8.0), bool(rng.random() < 0.4))
                s += rng.uniform(15, 40)

    def buildings(self) -> None:
        rng = self.rng
        for side in (0, 1):
            kerb, out, width = self._kerb_side(side)
            open_land = rng.random() < 0.2
            s = rng.uniform(-70, -55)
            while s < 120:
                length = rng.uniform(8, 30)
                setback = rng.uniform(0.0, 6.0)
                q_front = kerb + out * (width + setback)
                if open_land or rng.random() < 0.15:
                    half = (length / 2, rng.uniform(0.3, 0.7), rng.uniform(0.4, 1.0))
                    x, y = self.street.to_velo(s + length / 2, q_front + out * half[1])
                    shapes.add_hedge(self.builder, np.array([x, y, self.ground_z(x, y) + half[2] - 0.05]),
                                     self.street.yaw, half, tuple(rng.uniform([0.08, 0.25, 0.08], [0.2, 0.42, 0.2])))
                else:
                    depth, height = rng.uniform(8, 15), rng.uniform(4, 15)
                    color = tuple(float(v) for v in np.asarray(_WALL_COLORS[rng.integers(len(_WALL_COLORS))])
                                  * rng.uniform(0.85, 1.1))
                    pieces = int(np.ceil(length / 8.0))
                    for k in range(pieces):  # 8 m chunks keep the angular culling tight
                        piece = length / pieces
                        x, y = self.street.to_velo(s + (k + 0.5) * piece, q_front + out * depth / 2)
                        shapes.add_building(self.builder, np.array([x, y, self.ground_z(x, y) + height / 2 - 0.5]),
                                            self.street.yaw, (piece / 2, depth / 2, height / 2 + 0.5), color)
                s += length + rng.uniform(0, 8)


def sample_scene(rng: np.random.Generator) -> Scene:
    """Sample one street scene from ``rng``."""
    sampler = _SceneSampler(rng)
    sampler.sample_street()
    sampler.street_furniture()
    sampler.parked_cars()
    sampler.moving_cars()
    sampler.cyclists()
    sampler.pedestrians()
    sampler.sidewalks()
    sampler.buildings()
    return Scene(sampler.builder.build(), sampler.ground, sampler.objects, sampler.street)
