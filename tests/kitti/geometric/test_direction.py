"""Full headings of geometric boxes: a car's profile, the cabin recess of an end-on view, then the road side."""
from __future__ import annotations

import numpy as np
import pytest

from kitti.geometric.direction import (
    END_BAND,
    front_end_by_cabin,
    front_end_by_profile,
    orient,
    road_side_direction,
    wrap,
)


def car_profile(front_sign: float, n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points of a 4 m car along its length axis (metres from the centre) and their heights: a 1.0 m bonnet over
    the front 1.2 m, a 1.45 m cabin and rear window, a 1.1 m boot lid over the rear 0.5 m; the front lies at
    ``front_sign * 2``."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(-2.0, 2.0, n)  # +2 = front
    top = np.where(s > 0.8, 1.0, np.where(s < -1.5, 1.1, 1.45))
    heights = rng.uniform(0.3, 1.0, n) * top
    heights[::4] = top[::4]
    return front_sign * s, heights


@pytest.mark.parametrize("front_sign", [1.0, -1.0])
def test_profile_finds_the_bonnet(front_sign: float) -> None:
    along, heights = car_profile(front_sign)
    assert front_end_by_profile(along, heights) == int(front_sign)


def test_profile_is_silent_on_one_face_or_few_points() -> None:
    along, heights = car_profile(1.0)
    rear_face = along < -2.0 + END_BAND / 2
    assert front_end_by_profile(along[rear_face], heights[rear_face]) == 0  # span too short
    assert front_end_by_profile(along[:10], heights[:10]) == 0
    flat = np.full_like(heights, 1.4)
    assert front_end_by_profile(along, flat) == 0


def test_road_side_prior() -> None:
    # along the road: on the left (x < -2 m) oncoming, on the right driving away (ry = -pi/2)
    assert road_side_direction("Car", -6.0, -np.pi / 2) == pytest.approx(np.pi / 2)
    assert road_side_direction("Car", 3.0, np.pi / 2) == pytest.approx(-np.pi / 2)
    assert road_side_direction("Car", 3.0, -np.pi / 2) == pytest.approx(-np.pi / 2)
    assert road_side_direction("Cyclist", 6.0, 1.4) == pytest.approx(wrap(1.4 + np.pi))


def test_orient_uses_the_profile_before_the_road_side() -> None:
    along, heights = car_profile(-1.0)  # front toward -length axis
    ry = -np.pi / 2  # length axis (cos ry, -sin ry) = +z
    points = np.stack([np.full_like(along, 3.0), 1.0 - heights, 20.0 + along], axis=1)
    box = np.array([3.0, 1.65, 20.0, 1.45, 1.7, 4.0, ry])
    assert orient("Car", box, points, heights)[6] == pytest.approx(np.pi / 2)  # toward the camera, as the profile says
    assert orient("Car", box)[6] == pytest.approx(-np.pi / 2)  # without points: the road side (right: away)


def end_on_view(recess: float, n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points of a 4 m, 1.5 m high car seen end-on from the ``+along`` side, as a scan 25 m away sees it: the end face
    (bumper and boot or grille, 0.3-0.7 m high) at ``along = 2`` and the cabin (1.1-1.45 m high) starting ``recess``
    metres behind it, going back 0.8 m."""
    rng = np.random.default_rng(seed)
    face = np.stack([2.0 - rng.uniform(0.0, 0.1, n // 2), rng.uniform(0.3, 0.7, n // 2)], axis=1)
    cabin = np.stack([2.0 - recess - rng.uniform(0.0, 0.8, n // 2), rng.uniform(1.1, 1.45, n // 2)], axis=1)
    both = np.concatenate([face, cabin])
    return both[:, 0], both[:, 1]


@pytest.mark.parametrize("recess, front", [(1.4, 1), (0.4, -1), (1.05, 0)])
def test_cabin_recess_tells_the_visible_end(recess: float, front: int) -> None:
    """A bonnet sets the cabin far back from the front bumper, a tailgate or boot lid close to the rear one; in
    between the cue stays silent; from the other side the answer flips."""
    along, heights = end_on_view(recess)
    assert front_end_by_cabin(along, heights, 1.5, near_end=1) == front
    assert front_end_by_cabin(-along, heights, 1.5, near_end=-1) == -front
    assert front_end_by_cabin(along[:4], heights[:4], 1.5, near_end=1) == 0  # too few points


def test_orient_reads_an_end_on_car_against_the_road_side() -> None:
    """A car 25 m ahead on the right (x = 3 m, where most cars drive away) shows its bonnet: it comes toward the
    camera. Its length axis is along +z (``ry = -pi/2``), the visible end is the one at the smaller z."""
    along, heights = end_on_view(1.4)
    box = np.array([3.0, 1.65, 25.0, 1.5, 1.7, 4.0, -np.pi / 2])
    points = np.stack([np.full_like(along, 3.0), 1.65 - heights, 25.0 - along], axis=1)
    assert orient("Car", box, points, heights)[6] == pytest.approx(np.pi / 2)
    rear_points = np.stack([np.full_like(along, 3.0), 1.65 - heights, 25.0 - end_on_view(0.4)[0]], axis=1)
    assert orient("Car", box, rear_points, end_on_view(0.4)[1])[6] == pytest.approx(-np.pi / 2)
