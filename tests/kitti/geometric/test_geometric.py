"""The geometric labeller on hand-made point clouds: ground plane, BEV fit, full frame labelling, prior fallback."""
from __future__ import annotations

import numpy as np
import pytest

import ops
from kitti import geometry as g
from kitti.geometric import FrameInputs, label_frame
from kitti.geometric.bevfit import (
    ANGULAR_STEP,
    MIN_INCIDENCE_COS,
    PERSON_SURFACE_DEPTH,
    bev_candidates,
    place_interval,
    placed_as_person,
    prior_size,
    sampling_gap,
)
from kitti.geometric.ground import fit_ground
from kitti.geometric.heading import canonical_heading, match_projected_width, top_edge_height
from kitti.geometric.labeller import label_frame_and_claims
from kitti.geometric.score import OCCLUSION_TRUST, fit_score
from kitti.geometric.segment import (
    HEAD_SLACK_BEAMS,
    JOIN_SCALE,
    MAX_EXTENT,
    BottomEdge,
    _components,
    _gap,
    box_coverage,
    extent_factor,
    head_factor,
    near_side,
    trim_to_reach,
)
from kitti.io.calib import Calibration
from kitti.io.labels import Label2D
from kitti.priors import MEAN_SIZE, SIZE_RANGE, depth_estimate

IMAGE = (375, 1242)
CAMERA_HEIGHT = 1.65


def calibration() -> Calibration:
    p2 = np.array([[721.5, 0.0, 609.6, 44.9], [0.0, 721.5, 172.9, 0.2], [0.0, 0.0, 1.0, 0.003]])
    tr = np.array([[0.0, -1.0, 0.0, 0.0], [0.0, 0.0, -1.0, -0.08], [1.0, 0.0, 0.0, -0.27]])
    return Calibration(P2=p2, R0_rect=np.eye(3), Tr_velo_to_cam=tr)


def ground_points(rng: np.random.Generator, n: int = 3000) -> np.ndarray:
    """Road points on ``y = CAMERA_HEIGHT`` (rect), x in [-15, 15], z in [3, 45]."""
    xz = rng.uniform([-15.0, 3.0], [15.0, 45.0], size=(n, 2))
    return np.stack([xz[:, 0], np.full(n, CAMERA_HEIGHT) + rng.normal(0, 0.01, n), xz[:, 1]], axis=1)


def visible_box_points(box: np.ndarray, rng: np.random.Generator, spacing: float = 0.08) -> np.ndarray:
    """Points on the side faces of a bottom-centre box that face the camera origin (rect frame)."""
    x, y, z, h, w, l, ry = box
    c, s = np.cos(ry), np.sin(ry)
    along, across = np.array([c, -s]), np.array([s, c])  # (x, z) of the length and width axes
    faces = [(along, l, across, w), (-along, l, across, w), (across, w, along, l), (-across, w, along, l)]
    out = []
    for normal, depth, tangent, extent in faces:
        centre = np.array([x, z]) + normal * depth / 2
        if centre @ normal >= 0:  # faces away from the sensor
            continue
        t = np.arange(-extent / 2, extent / 2, spacing)
        v = np.arange(0.05, h, spacing)
        tt, vv = np.meshgrid(t, v)
        xz = centre + tt.ravel()[:, None] * tangent
        out.append(np.stack([xz[:, 0], y - vv.ravel(), xz[:, 1]], axis=1))
    points = np.concatenate(out)
    return points + rng.normal(0, 0.01, points.shape)


def label_for(box: np.ndarray, calib: Calibration, class_name: str = "Car") -> Label2D:
    hull = g.project_boxes_to_image(box[None], calib.P2, IMAGE)[0]
    return Label2D(class_name, 0.0, 0, tuple(float(v) for v in hull))


def heading_error(a: float, b: float) -> float:
    """Absolute heading difference mod pi (radians)."""
    d = abs(canonical_heading(a) - canonical_heading(b))
    return min(d, np.pi - d)


def test_ground_plane_recovered_despite_objects() -> None:
    rng = np.random.default_rng(0)
    tilt = np.radians(3.0)
    road = ground_points(rng)
    road[:, 1] += np.tan(tilt) * road[:, 2]  # road rising away from the camera (rect y down)
    clutter = rng.uniform([-10, -1, 5], [10, 1.5, 40], size=(1500, 3))
    plane = fit_ground(np.concatenate([road, clutter]))
    expected = np.array([0.0, -np.cos(tilt), np.sin(tilt)])
    assert np.degrees(np.arccos(abs(plane.normal @ expected))) < 0.5
    assert plane.y_at(0.0, 20.0) == pytest.approx(CAMERA_HEIGHT + np.tan(tilt) * 20.0, abs=0.03)


def test_prior_size_and_interval() -> None:
    real = (2.9, 4.9)
    assert prior_size(0.1, 3.9, 0.4, 0.05, real) == 3.9                # partial view -> prior mean
    assert prior_size(4.2, 3.9, 0.4, 0.05, real) == pytest.approx(4.25)  # seen extent (+ margin)
    assert prior_size(9.0, 3.9, 0.4, 0.05, real) == pytest.approx(4.9)  # clipped to the real range
    assert place_interval(10.0, 10.5, 4.0, 0.0) == (10.0, 14.0)    # grows away from the sensor
    assert place_interval(-10.5, -10.0, 4.0, 0.0) == (-14.0, -10.0)
    assert place_interval(-1.0, 1.0, 3.0, 0.0) == (-1.5, 1.5)      # sensor between the edges: centred


def test_sampling_gap_grows_with_range_and_incidence() -> None:
    assert sampling_gap(20.0, 1.0) == pytest.approx(ANGULAR_STEP * 20.0)       # face seen head-on
    assert sampling_gap(20.0, 0.5) == pytest.approx(2 * ANGULAR_STEP * 20.0)   # oblique face: sparser returns
    assert sampling_gap(20.0, 0.0) == pytest.approx(ANGULAR_STEP * 20.0 / MIN_INCIDENCE_COS)


def test_rear_view_width_gets_the_head_on_gap() -> None:
    """A car straight ahead seen from behind (rear face only, sampled every ANGULAR_STEP * range): the width is the
    visible extent plus one head-on sampling gap, not more."""
    z, width = 20.0, 1.6
    spacing = ANGULAR_STEP * z
    xs = np.arange(-width / 2 + spacing / 2, width / 2, spacing)
    rear = np.stack([xs, np.full_like(xs, z)], axis=1)
    side = np.stack([np.full(5, xs[-1]), z + np.linspace(0.0, 0.3, 5)], axis=1)  # a sliver of one side
    xz = np.concatenate([rear, side])
    best = min(bev_candidates(xz, "Car"), key=lambda c: abs(np.cos(c.ry)))  # the length axis along the ray (z)
    assert best.w == pytest.approx(np.ptp(xs) + spacing, abs=0.02)
    assert abs(best.w - width) < 0.03


def scanned_cylinder(centre: np.ndarray, radius: float) -> np.ndarray:
    """BEV points ``(N, 2)`` of a vertical cylinder's visible half seen from the origin, one return every
    ``ANGULAR_STEP`` radians of azimuth (the nearest surface point of each ray)."""
    range_c = float(np.linalg.norm(centre))
    bearing = np.arctan2(centre[1], centre[0])
    half = np.arcsin(radius / range_c)
    rays = bearing + np.arange(-half, half, ANGULAR_STEP)
    u = np.stack([np.cos(rays), np.sin(rays)], axis=1)
    along = u @ centre
    t = along - np.sqrt(np.maximum(radius**2 - (range_c**2 - along**2), 0.0))
    return u * t[:, None]


@pytest.mark.parametrize("range_m", [8.0, 15.0, 25.0])
def test_pedestrian_centre_is_behind_the_visible_surface(range_m: float) -> None:
    """A body of radius half a chest depth, anywhere in a 0.84 x 0.66 m box: its centre is found along the ray to a
    few cm at every range (the near-edge rule put it half a box length behind the nearest point, ~0.3 m too far),
    and the box takes the prior size."""
    centre = range_m * np.array([np.sin(0.2), np.cos(0.2)])
    xz = scanned_cylinder(centre, 0.12)
    for cand in bev_candidates(xz, "Pedestrian"):
        assert np.linalg.norm(cand.centre) - range_m == pytest.approx(0.0, abs=0.03)
        assert np.arctan2(cand.centre[1], cand.centre[0]) == pytest.approx(np.arctan2(centre[1], centre[0]), abs=0.01)
        assert (cand.l, cand.w) == pytest.approx(MEAN_SIZE["Pedestrian"][:2])  # the body's extent is not the box's
    assert PERSON_SURFACE_DEPTH == pytest.approx(0.094, abs=0.001)


def test_end_on_cyclist_is_placed_like_a_person() -> None:
    """A cyclist seen from behind whose thin rear wheel the scan missed (only the rider returns): centred on the
    rider, not half a bicycle length behind him."""
    range_m = 30.0
    rider = scanned_cylinder(np.array([0.0, range_m]), 0.12)
    bike_side = np.stack([np.full(6, 0.02), range_m + np.linspace(-0.6, 0.6, 6)], axis=1)  # frame seen edge-on
    xz = np.concatenate([rider, bike_side])
    along = min(bev_candidates(xz, "Cyclist"), key=lambda c: abs(np.cos(c.ry)))  # length axis along the ray (z)
    assert along.centre[1] == pytest.approx(range_m, abs=0.1)
    assert placed_as_person("Cyclist", np.cos(np.radians(10.0)))
    assert not placed_as_person("Cyclist", np.cos(np.radians(60.0)))  # seen from the side: the rectangle fit
    assert not placed_as_person("Car", 1.0)


@pytest.mark.parametrize("ry", [0.4, -1.2, 1.5707])
def test_bev_fit_recovers_l_shape(ry: float) -> None:
    box = np.array([3.0, CAMERA_HEIGHT, 15.0, 1.5, 1.8, 4.4, ry])
    points = visible_box_points(box, np.random.default_rng(1))
    candidates = bev_candidates(points[:, [0, 2]], "Car")
    errors = [heading_error(c.ry, ry) for c in candidates]
    best = candidates[int(np.argmin(errors))]
    assert min(errors) < np.radians(2.0)
    assert np.linalg.norm(best.centre - box[[0, 2]]) < 0.25


@pytest.mark.parametrize("ry, x, z", [(0.4, 3.0, 15.0), (-1.3, -4.0, 22.0), (1.5707, 1.0, 10.0)])
def test_label_frame_recovers_box(ry: float, x: float, z: float) -> None:
    calib = calibration()
    rng = np.random.default_rng(2)
    box = np.array([x, CAMERA_HEIGHT, z, 1.5, 1.75, 4.3, ry])
    points = np.concatenate([ground_points(rng), visible_box_points(box, rng)])
    (result,) = label_frame(FrameInputs(calib, IMAGE, points, [label_for(box, calib)]))
    assert result.source == "fit" and result.class_name == "Car"
    assert 0.5 < result.score <= 1.0 and result.n_points > 100
    fitted = result.box
    assert np.linalg.norm(fitted[[0, 2]] - box[[0, 2]]) < 0.25
    assert fitted[1] == pytest.approx(CAMERA_HEIGHT, abs=0.05)
    assert np.allclose(fitted[3:6], box[3:6], atol=0.25)
    assert heading_error(fitted[6], ry) < np.radians(3.0)


def test_empty_frustum_gets_a_prior_box_along_the_ray() -> None:
    calib = calibration()
    rng = np.random.default_rng(3)
    label = Label2D("Pedestrian", 0.0, 0, (600.0, 150.0, 630.0, 220.0))
    kept = Label2D("Van", 0.0, 0, (100.0, 150.0, 200.0, 220.0))
    results = label_frame(FrameInputs(calib, IMAGE, ground_points(rng), [kept, label]))
    assert len(results) == 1  # classes outside the labelled ones get no box
    (result,) = results
    assert result.source == "prior" and result.n_points == 0 and result.score <= 0.1
    depth = depth_estimate("Pedestrian", 70.0, calib.focal_v)
    assert result.box[2] == pytest.approx(depth, rel=0.02)
    assert np.allclose(result.box[3:6], np.array(MEAN_SIZE["Pedestrian"])[[2, 1, 0]])
    assert result.box[1] == pytest.approx(CAMERA_HEIGHT, abs=0.05)  # stands on the ground
    uv, _ = g.project_rect_to_image(result.box[None, :3] - [0, result.box[3] / 2, 0], calib.P2)
    assert uv[0, 0] == pytest.approx(615.0, abs=1.0)  # on the ray through the 2D box centre (standing on the road)


def test_occluder_points_are_not_the_occluded_car() -> None:
    """A large car 5 m behind another, mostly hidden by it (its 2D box spans the occluder): the occluder is fitted
    first and claims its points, so the occluded car's box lands on its own visible part (without the claim it lands
    on the occluder, 5.2 m short), with a lower score (occlusion level 2)."""
    calib = calibration()
    rng = np.random.default_rng(4)
    front = np.array([0.0, CAMERA_HEIGHT, 12.0, 1.5, 1.7, 4.2, np.pi / 2])
    behind = np.array([0.3, CAMERA_HEIGHT, 17.0, 2.0, 2.2, 4.5, np.pi / 2])  # taller and wider: it shows around
    front_label = label_for(front, calib)
    hidden_points = visible_box_points(behind, rng)
    uv, _ = g.project_rect_to_image(hidden_points, calib.P2)
    x1, y1, x2, y2 = front_label.box2d
    shadowed = (uv[:, 0] > x1) & (uv[:, 0] < x2) & (uv[:, 1] > y1) & (uv[:, 1] < y2)
    points = np.concatenate([ground_points(rng), visible_box_points(front, rng), hidden_points[~shadowed]])
    seen = uv[~shadowed]  # a 2D box of its visible pixels only: harder than KITTI's, which span the whole car
    behind_label = Label2D("Car", 0.0, 2, (*seen.min(axis=0), *seen.max(axis=0)))
    fitted_behind, fitted_front = label_frame(FrameInputs(calib, IMAGE, points, [behind_label, front_label]))
    assert np.linalg.norm(fitted_front.box[[0, 2]] - front[[0, 2]]) < 0.3
    assert fitted_behind.source == "fit"
    assert np.linalg.norm(fitted_behind.box[[0, 2]] - behind[[0, 2]]) < 0.6
    assert fitted_behind.score < fitted_front.score


def person_points(centre: np.ndarray, rng: np.random.Generator, n: int = 120) -> np.ndarray:
    """Returns of a standing person (rect frame) at BEV ``centre (x, z)``: the camera-facing half of a 0.2 m radius
    cylinder, 0.1-1.7 m above the ground."""
    toward = -centre / np.linalg.norm(centre)
    angle = np.arctan2(toward[1], toward[0]) + rng.uniform(-np.pi / 2, np.pi / 2, n)
    xz = centre + 0.2 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return np.stack([xz[:, 0], CAMERA_HEIGHT - rng.uniform(0.1, 1.7, n), xz[:, 1]], axis=1)


def test_a_pedestrian_keeps_the_points_of_the_one_standing_behind() -> None:
    """Two pedestrians in a group, one 0.55 m behind the other and a little to the side, a hedge 16 m further: the
    front one's box claims its own points but not those just beyond it, which are the other person's (a person's box
    already spans arms and stride; before, its claim margin took them and the one behind was placed on the hedge)."""
    calib = calibration()
    rng = np.random.default_rng(5)
    front = np.array([-3.0, CAMERA_HEIGHT, 20.0, 1.75, 0.66, 0.84, np.pi / 2])
    behind = np.array([-2.75, CAMERA_HEIGHT, 20.55, 1.75, 0.66, 0.84, np.pi / 2])
    hedge = np.stack([rng.uniform(-5.0, -4.0, 40), CAMERA_HEIGHT - rng.uniform(0.2, 2.5, 40),
                     np.full(40, 36.0)], axis=1)
    behind_points = person_points(behind[[0, 2]], rng)
    behind_points = behind_points[np.abs(behind_points[:, 0] - front[0]) > 0.2]  # the part the front one hides
    points = np.concatenate([ground_points(rng), person_points(front[[0, 2]], rng), behind_points, hedge])
    front_label = label_for(front, calib, "Pedestrian")
    behind_label = Label2D("Pedestrian", 0.0, 1, label_for(behind, calib, "Pedestrian").box2d)
    fitted_front, fitted_behind = label_frame(FrameInputs(calib, IMAGE, points, [front_label, behind_label]))
    assert np.linalg.norm(fitted_front.box[[0, 2]] - front[[0, 2]]) < 0.3
    assert np.linalg.norm(fitted_behind.box[[0, 2]] - behind[[0, 2]]) < 0.3


def test_person_hidden_from_below_is_not_placed_on_the_background() -> None:
    """A pedestrian 3 m behind a parked car, only head and shoulders above its roof: the short 2D box (occlusion 2)
    puts the height prior ~3x too far, on a wall behind. As a far bound only, the prior lets the person's own
    points win (with the two-sided prior the box lands on the wall, ~26 m too far)."""
    calib = calibration()
    rng = np.random.default_rng(5)
    car = np.array([0.0, CAMERA_HEIGHT, 10.0, 1.5, 1.7, 4.2, np.pi / 2])
    person = np.array([0.2, CAMERA_HEIGHT, 14.0, 1.75, 0.6, 0.8, 0.0])
    car_label = label_for(car, calib)
    body = visible_box_points(person, rng, spacing=0.05)
    uv, _ = g.project_rect_to_image(body, calib.P2)
    x1, y1, x2, y2 = car_label.box2d
    shown = ~((uv[:, 0] > x1) & (uv[:, 0] < x2) & (uv[:, 1] > y1) & (uv[:, 1] < y2))  # not behind the car
    person_label = Label2D("Pedestrian", 0.0, 2, (*uv[shown].min(axis=0), *uv[shown].max(axis=0)))
    # a wall at 40 m sampled like a 64-beam scan there (0.12 m across, 0.28 m between beams)
    wall_x, wall_y = np.meshgrid(np.arange(-6.0, 6.0, 0.12), np.arange(CAMERA_HEIGHT - 3.0, CAMERA_HEIGHT, 0.28))
    wall = np.stack([wall_x.ravel(), wall_y.ravel(), np.full(wall_x.size, 40.0)], axis=1)
    points = np.concatenate([ground_points(rng), visible_box_points(car, rng), body[shown], wall])
    fitted_car, fitted_person = label_frame(FrameInputs(calib, IMAGE, points, [car_label, person_label]))
    assert depth_estimate("Pedestrian", person_label.box2d[3] - person_label.box2d[1], calib.focal_v) > 30.0
    assert fitted_person.source == "fit"
    assert np.linalg.norm(fitted_person.box[[0, 2]] - person[[0, 2]]) < 0.3
    assert np.linalg.norm(fitted_car.box[[0, 2]] - car[[0, 2]]) < 0.3


def test_occlusion_lowers_the_fit_score() -> None:
    visible = fit_score("Car", 200, 0.02, 0.9, occlusion=0)
    assert fit_score("Car", 200, 0.02, 0.9, occlusion=1) == pytest.approx(visible * OCCLUSION_TRUST["Car"][1])
    assert fit_score("Car", 200, 0.02, 0.9, occlusion=2) == pytest.approx(visible * OCCLUSION_TRUST["Car"][2])
    assert fit_score("Car", 200, 0.02, 0.9, occlusion=-1) == fit_score("Car", 200, 0.02, 0.9, occlusion=3)
    for trust in OCCLUSION_TRUST.values():
        assert trust[0] == 1.0 and all(a > b for a, b in zip(trust, trust[1:]))  # each level trusted less


def test_truncated_near_car_is_not_the_wall_beside_it() -> None:
    """A car 6 m ahead, cut by the right and bottom image borders, next to a 12 m wall running along the road: the
    frustum opens beyond the border, where the wall fills it too. The cluster's coverage counts only the part of
    the 2D box it spans, the cut 2D box bounds the depth from above only, and a cluster longer than a car is
    penalised, so the car's own points win (before: the box landed on the wall, 3 m off)."""
    calib = calibration()
    rng = np.random.default_rng(6)
    car = np.array([3.6, CAMERA_HEIGHT, 6.0, 1.5, 1.7, 4.0, np.pi / 2])
    label = label_for(car, calib)
    assert label.box2d[2] >= IMAGE[1] - 2 and label.box2d[3] >= IMAGE[0] - 2  # cut by two borders
    label = Label2D("Car", 0.4, 0, label.box2d)
    wall_z, wall_y = np.meshgrid(np.arange(3.0, 15.0, 0.05), np.arange(CAMERA_HEIGHT - 2.0, CAMERA_HEIGHT, 0.05))
    wall = np.stack([np.full(wall_z.size, 6.5), wall_y.ravel(), wall_z.ravel()], axis=1)
    points = np.concatenate([ground_points(rng), visible_box_points(car, rng), wall])
    fitted, = label_frame(FrameInputs(calib, IMAGE, points, [label]))
    assert fitted.source == "fit"
    assert np.linalg.norm(fitted.box[[0, 2]] - car[[0, 2]]) < 0.4
    assert heading_error(fitted.box[6], car[6]) < np.radians(5)


def test_cluster_coverage_and_extent() -> None:
    box2d = np.array([0.0, 100.0, 400.0, 300.0])
    assert box_coverage(np.array([-600.0, 100.0]), box2d) == pytest.approx(0.25)  # mostly outside the image
    assert box_coverage(np.array([-100.0, 390.0]), box2d) == pytest.approx(0.975)
    line = np.stack([np.zeros(50), np.linspace(0.0, 12.0, 50)], axis=1)  # a 12 m wall
    car = np.stack([np.linspace(0.0, 4.0, 50), np.zeros(50)], axis=1)
    assert extent_factor(car, "Car") == 1.0
    assert extent_factor(line, "Car") == pytest.approx(np.exp(-(12.0 - MAX_EXTENT["Car"]) / MAX_EXTENT["Car"]))


def test_pedestrian_cluster_is_trimmed_to_what_a_person_reaches() -> None:
    rng = np.random.default_rng(0)
    body = rng.normal([2.0, 15.0], 0.12, size=(60, 2))      # one person's returns (rect x, z)
    bag = rng.normal([3.1, 15.2], 0.05, size=(12, 2))       # a pole or a neighbour's arm 1.1 m away, joined by the gap
    keep = trim_to_reach(np.concatenate([body, bag]), "Pedestrian", 3)
    assert keep[:60].mean() > 0.95 and not keep[60:].any()
    assert trim_to_reach(bag[:2], "Pedestrian", 3).all()      # too few to trim: kept as they are


def test_a_person_does_not_join_a_post_a_step_away_but_a_car_bridges_its_glass() -> None:
    """At 15 m the beams leave gaps under 0.3 m inside a body: a cyclist's returns and a post 0.6 m in front of them
    are two clusters (before, the dilation joined gaps up to 2.5 times the intended width and the post set the box's
    near face), while the returns of a car's lower body and roof 0.5 m apart (glass between) stay one."""
    rider = np.stack(np.meshgrid(np.arange(11.0, 12.6, 0.1), np.arange(15.0, 15.5, 0.1)), axis=-1).reshape(-1, 2)
    post = np.array([[11.1, 14.3], [11.15, 14.35], [11.1, 14.4]])
    labels = _components(np.concatenate([rider, post]), JOIN_SCALE["Cyclist"] * _gap(15.0))
    assert len(set(labels[: len(rider)])) == 1 and labels[-1] not in set(labels[: len(rider)])
    body = np.stack([np.linspace(0.0, 4.0, 40), np.full(40, 15.0)], axis=1)
    roof = body[5:30] + [0.0, 0.5]
    assert len(set(_components(np.concatenate([body, roof]), JOIN_SCALE["Car"] * _gap(15.0)))) == 1


def test_far_car_with_a_handful_of_points_is_placed_behind_them() -> None:
    """A car 60 m ahead hit by two beams on its boot and two on its rear window, with a pole 25 m nearer inside its
    2D box: the four points are the object (the depth prior favours them over the pole's seven), too few for a
    rectangle, so a prior-size box is placed on the ray through the 2D box centre with its near side at the nearest
    one's range (before: the box was fitted to the pole, 25 m short; then placed behind the median point)."""
    calib = calibration()
    rng = np.random.default_rng(7)
    car = np.array([-1.0, CAMERA_HEIGHT, 60.0, 1.5, 1.63, 3.88, np.pi / 2])
    label = label_for(car, calib)
    rear = np.array([[-1.2, CAMERA_HEIGHT - 0.6, 60.0 - 3.88 / 2], [-0.9, CAMERA_HEIGHT - 0.6, 60.0 - 3.88 / 2],
                     [-1.1, CAMERA_HEIGHT - 1.3, 60.0 - 3.88 / 2 + 0.9],
                     [-0.9, CAMERA_HEIGHT - 1.3, 60.0 - 3.88 / 2 + 0.9]])  # two on the boot, two on the rear window
    uv, _ = g.project_rect_to_image(np.array([[-1.0, CAMERA_HEIGHT - 0.7, 35.0]]), calib.P2)
    pole = np.array([[-1.0 + 0.02 * k, CAMERA_HEIGHT - 0.3 - 0.15 * k, 35.0] for k in range(7)])
    assert label.box2d[0] < uv[0, 0] < label.box2d[2]
    points = np.concatenate([ground_points(rng), rear, pole])
    fitted, = label_frame(FrameInputs(calib, IMAGE, points, [label]))
    assert fitted.source == "sparse" and fitted.n_points == 4
    assert np.linalg.norm(fitted.box[[0, 2]] - car[[0, 2]]) < 0.2


@pytest.mark.parametrize("ry", [0.0, 0.6, np.pi / 2])
def test_top_edge_height_inverts_the_projection(ry: float) -> None:
    """The height whose projected top lies on the 2D box's top row is the box's own: a far car whose roof the scan
    missed gets its height from the 2D box (a lower bound beside the points')."""
    calib = calibration()
    box = np.array([-2.0, CAMERA_HEIGHT, 40.0, 1.42, 1.6, 3.9, ry])
    v_top = g.project_boxes_to_image(box[None], calib.P2)[0, 1]
    guess = box.copy()
    guess[3] = 1.0
    assert top_edge_height(guess, float(v_top), calib.P2) == pytest.approx(1.42, abs=1e-6)



def test_an_occluded_person_is_not_placed_on_a_low_occluder() -> None:
    """A pedestrian at 20 m half hidden (occlusion 2) behind a bush 6 m nearer that stops at 1 m: the bush holds more
    points, and the depth prior of an occluded person is a far bound only, so before, the box landed on the bush. A
    person's box top is the head: the bush's highest return lies ~10 beam rows below it, the person's within one."""
    calib = calibration()
    rng = np.random.default_rng(3)
    person = np.array([1.0, CAMERA_HEIGHT, 20.0, 1.75, 0.66, 0.84, np.pi / 2])
    bush = np.stack([rng.uniform(0.3, 1.1, 400), CAMERA_HEIGHT - rng.uniform(0.3, 1.0, 400),
                     rng.uniform(13.8, 14.2, 400)], axis=1)
    body = person_points(person[[0, 2]], rng)
    label = Label2D("Pedestrian", 0.0, 2, label_for(person, calib, "Pedestrian").box2d)
    (fitted,) = label_frame(FrameInputs(calib, IMAGE, np.concatenate([ground_points(rng), body, bush]), [label]))
    assert abs(fitted.box[2] - person[2]) < 0.5


def test_an_occluded_person_stands_on_the_bottom_edge_of_its_box() -> None:
    """A pedestrian at 21.6 m (occlusion 2) behind a tree trunk 6 m nearer that spans the 2D box from its top edge to
    its bottom: the trunk holds more points and, as an occluded person's depth prior is a far bound only, it won.
    KITTI draws the whole projected 3D box, so the box's bottom edge is the person's ground contact: the ray through it
    meets the road at 21.6 m, 0.4 m below the trunk's foot at 15.6 m. A wall 9 m behind the person is no better."""
    calib = calibration()
    rng = np.random.default_rng(7)
    person = np.array([3.4, CAMERA_HEIGHT, 21.6, 1.75, 0.66, 0.84, np.pi / 2])
    label = Label2D("Pedestrian", 0.0, 2, label_for(person, calib, "Pedestrian").box2d)
    body = person_points(person[[0, 2]], rng, n=60)
    angle = rng.uniform(0.0, 2.0 * np.pi, 400)
    trunk = np.stack([2.45 + 0.2 * np.cos(angle), CAMERA_HEIGHT - rng.uniform(0.0, 4.0, 400),
                      15.6 + 0.2 * np.sin(angle)], axis=1)
    wall_x, wall_y = np.meshgrid(np.arange(3.0, 6.5, 0.1), np.arange(CAMERA_HEIGHT - 3.0, CAMERA_HEIGHT, 0.15))
    wall = np.stack([wall_x.ravel(), wall_y.ravel(), np.full(wall_x.size, 30.6)], axis=1)
    points = np.concatenate([ground_points(rng), body, trunk, wall])
    (fitted,) = label_frame(FrameInputs(calib, IMAGE, points, [label]))
    assert abs(fitted.box[2] - person[2]) < 0.5


def test_bottom_edge_factor_peaks_where_the_ray_meets_the_ground() -> None:
    calib = calibration()
    person = np.array([3.4, CAMERA_HEIGHT, 21.6, 1.75, 0.66, 0.84, np.pi / 2])
    row = label_for(person, calib, "Pedestrian").box2d[3]
    edge = BottomEdge(row, calib.P2, lambda x, z: CAMERA_HEIGHT)
    near = person[2] - person[5] / 2
    assert edge.factor(np.array([3.4, near])) > 0.9
    assert edge.factor(np.array([3.4, near - 6.0])) < 1e-3
    assert edge.factor(np.array([3.4, near + 9.0])) < 1e-3
    assert near_side(np.array([[0.0, 10.0], [0.0, 11.0], [0.0, 12.0]])) == pytest.approx([0.0, 10.0])


def test_head_factor_keeps_clusters_that_reach_the_box_top() -> None:
    """No penalty within HEAD_SLACK_BEAMS beam rows of the 2D box's top edge, exp(-rows beyond) after that."""
    assert head_factor(100.0 + 4.0 * HEAD_SLACK_BEAMS, 100.0, 4.0) == 1.0
    assert head_factor(90.0, 100.0, 4.0) == 1.0
    assert head_factor(100.0 + 4.0 * (HEAD_SLACK_BEAMS + 2.0), 100.0, 4.0) == pytest.approx(np.exp(-2.0))


def test_claims_of_a_hidden_car_are_its_occluders_points() -> None:
    """label_frame_and_claims: the car 8 m behind another (occlusion 2) had the front car's returns claimed before
    its search, none of its own; nothing was claimed before the front car."""
    calib = calibration()
    rng = np.random.default_rng(2)
    front = np.array([0.0, CAMERA_HEIGHT, 12.0, 1.5, 1.7, 4.2, np.pi / 2])
    back = np.array([0.8, CAMERA_HEIGHT, 20.0, 1.5, 1.7, 4.2, np.pi / 2])
    front_points, back_points = visible_box_points(front, rng), visible_box_points(back, rng)
    points = np.concatenate([ground_points(rng), front_points, back_points])
    labels = [label_for(front, calib), Label2D("Car", 0.0, 2, label_for(back, calib).box2d)]
    boxes, claims = label_frame_and_claims(FrameInputs(calib, IMAGE, points, labels))
    assert len(boxes) == len(claims) == 2 and len(claims[0]) == 0
    front_start, back_start = len(points) - len(back_points) - len(front_points), len(points) - len(back_points)
    assert ((claims[1] >= front_start) & (claims[1] < back_start)).sum() > 0.95 * len(front_points)
    assert not (claims[1] >= back_start).any()


@pytest.mark.parametrize("occlusion", [1, 2])
def test_half_hidden_car_is_centred_on_its_2d_box(occlusion: int) -> None:
    """A car 20 m ahead whose left half is hidden by something in front that returns nothing (a dark van): its
    points are the right half of its rear, but its KITTI 2D box spans the whole car's projection at every occlusion
    level, so the box is centred on the 2D box's columns (the points alone put it 0.4 m to the right)."""
    calib = calibration()
    rng = np.random.default_rng(11)
    car = np.array([0.5, CAMERA_HEIGHT, 20.0, 1.5, 1.7, 4.2, np.pi / 2])
    points = visible_box_points(car, rng)
    label = label_for(car, calib)
    label = Label2D("Car", 0.0, occlusion, label.box2d)
    visible = points[points[:, 0] > car[0]]
    (fitted,) = label_frame(FrameInputs(calib, IMAGE, np.concatenate([ground_points(rng), visible]), [label]))
    assert fitted.source == "fit"
    assert fitted.box[0] == pytest.approx(car[0], abs=0.1)


def test_projection_width_pulls_a_turned_box_back() -> None:
    """A car 25 m ahead seen end-on, fitted 5 deg off its heading and 0.15 m too wide: its projection is wider than
    the 2D box (the projection of the true box, as KITTI's car boxes are); matching the width turns it back and
    narrows it, and its 3D IoU with the truth rises (0.88 -> 0.90). The same fit of a box whose projection already
    matches stays."""
    calib = calibration()
    truth = np.array([1.0, CAMERA_HEIGHT, 25.0, 1.5, 1.7, 4.2, np.pi / 2])
    box2d = label_for(truth, calib).box2d
    fitted = truth + np.array([0.0, 0.0, 0.0, 0.0, 0.15, 0.0, np.radians(5.0)])
    matched = match_projected_width(fitted, np.array(box2d), calib.P2, False, (SIZE_RANGE["Car"][1],
                                                                               SIZE_RANGE["Car"][0]))
    assert heading_error(matched[6], truth[6]) < heading_error(fitted[6], truth[6]) - np.radians(1.0)
    assert matched[4] < fitted[4] - 0.05
    assert ops.iou_3d(truth[None], matched[None])[0, 0] > ops.iou_3d(truth[None], fitted[None])[0, 0] + 0.02
    same = match_projected_width(truth, np.array(box2d), calib.P2, False, (SIZE_RANGE["Car"][1], SIZE_RANGE["Car"][0]))
    assert np.allclose(same, truth, atol=1e-3)


def test_unseen_length_comes_from_the_projection_width() -> None:
    """A short car (3.0 m) 10 m ahead and 5 m to the right whose dark side returns nothing: the points show its rear
    only, so the length is the prior mean (3.88 m), but each metre of it widens the projection by ~20 px, and the 2D
    box takes the length more than halfway to the truth (the rest is the width's share: its error also widens the
    projection); its rear stays where the points put it."""
    calib = calibration()
    rng = np.random.default_rng(12)
    car = np.array([5.0, CAMERA_HEIGHT, 10.0, 1.5, 1.7, 3.0, np.pi / 2])
    points = visible_box_points(car, rng)
    rear = points[points[:, 2] < car[2] - car[5] / 2 + 0.05]
    (fitted,) = label_frame(FrameInputs(calib, IMAGE, np.concatenate([ground_points(rng), rear]),
                                        [label_for(car, calib)]))
    assert fitted.source == "fit"
    assert car[5] < fitted.box[5] < (car[5] + MEAN_SIZE["Car"][0]) / 2
    assert fitted.box[2] - fitted.box[5] / 2 == pytest.approx(car[2] - car[5] / 2, abs=0.1)
