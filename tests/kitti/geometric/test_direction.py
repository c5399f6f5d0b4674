"""Full headings of geometric boxes: a car's profile, then the road side."""
from __future__ import annotations

import numpy as np
import pytest

from kitti.geometric.direction import END_BAND, front_end_by_profile, orient, road_side_direction, wrap


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
