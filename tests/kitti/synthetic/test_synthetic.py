"""Tests of the synthetic KITTI world (kitti/synthetic): determinism, readback, label / LiDAR / depth consistency,
resume and the monocular depth error model. A few frames only."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from kitti import geometry
from kitti.errors import OutputDirError
from kitti.io.dataset import LAYOUT, KittiDataset
from kitti.synthetic import shapes
from kitti.synthetic.annotate import (
    ANNOTATION_NOISE,
    CAR_FILL,
    MIN_VISIBLE_PIXELS,
    OCCLUSION_LEVELS,
    annotate,
    annotated_object,
    box3d_rect,
)
from kitti.synthetic.calibration import IMAGE_HEIGHT, IMAGE_WIDTH, kitti_calibration
from kitti.synthetic.camera import render_camera
from kitti.synthetic.generate import MANIFEST, generate_dataset, generate_frame
from kitti.synthetic.kitti_stats import (
    behind_shares,
    inside_share,
    load_headings,
    load_small_boxes,
    load_vehicles_per_frame,
)
from kitti.synthetic.lidar import simulate_scan
from kitti.synthetic.primitives import BOX, PrimitiveBuilder
from kitti.synthetic.street import (
    FULL_TRAFFIC_VEHICLES,
    SENSOR_HEIGHT,
    Scene,
    SceneObject,
    Street,
    _Footprints,
    _SceneSampler,
    draw_deviation,
    draw_road_yaw,
    draw_traffic,
    sample_scene,
)

SEED = 11
FRAMES = 2


@pytest.fixture(scope="module")
def dataset_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic")
    generate_dataset(root, FRAMES, SEED, val_fraction=0.5, workers=1, progress=False)
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_any_worker_count(dataset_root: Path, tmp_path: Path) -> None:
    generate_dataset(tmp_path, FRAMES, SEED, val_fraction=0.5, workers=2, progress=False)
    assert _files(tmp_path) == _files(dataset_root)


def test_files_read_back(dataset_root: Path) -> None:
    ds = KittiDataset(dataset_root)
    assert ds.check_split("trainval", kinds=tuple(LAYOUT)) == list(range(FRAMES))
    assert sorted(ds.frame_ids("train") + ds.frame_ids("val")) == list(range(FRAMES))
    manifest = json.loads((dataset_root / MANIFEST).read_text())
    assert manifest["seed"] == SEED and manifest["frames"] == FRAMES
    for frame in range(FRAMES):
        assert ds.image(frame).shape == (IMAGE_HEIGHT, IMAGE_WIDTH, 3)
        points = ds.velodyne(frame)
        assert 60_000 < len(points) < 140_000 and 0 <= points[:, 3].min() and points[:, 3].max() <= 1
        assert ds.depth(frame, (IMAGE_HEIGHT, IMAGE_WIDTH))["sky"].any()
        assert np.allclose(ds.calib(frame).P2, kitti_calibration().P2)
        labels = ds.labels(frame)
        assert labels and {lab.type for lab in labels} <= {"Car", "Van", "Pedestrian", "Cyclist", "DontCare"}


def test_labels_agree_with_geometry_and_lidar(dataset_root: Path) -> None:
    ds = KittiDataset(dataset_root)
    ious = []
    for frame in range(FRAMES):
        calib, labels = ds.calib(frame), [lab for lab in ds.labels(frame) if lab.type != "DontCare"]
        rect = geometry.velo_to_rect(ds.velodyne(frame), calib)
        boxes = np.array([lab.box3d for lab in labels])
        inside = geometry.points_in_boxes_mask(rect, boxes, margin=0.05).sum(axis=0)
        assert (inside > 0).all(), "every labelled object has LiDAR points in its box"
        # the middle of a car / van is empty: only surfaces are scanned (the core keeps clear of the bonnet at
        # 0.56 h by more than the annotation noise of the labelled box)
        for lab in labels:
            if lab.type in ("Car", "Van"):
                x, y, z, h, w, l, ry = lab.box3d
                core = np.array([x, y - 0.2 * h, z, 0.25 * h, w / 2, l / 2, ry])
                assert geometry.points_in_boxes_mask(rect, core).sum() == 0
            assert abs(lab.alpha - geometry.alpha_from_ry(lab.ry, lab.location[0], lab.location[2])) < 0.02
        proj = geometry.project_boxes_to_image(boxes, calib.P2, image_size=(IMAGE_HEIGHT, IMAGE_WIDTH))
        for lab, box in zip(labels, proj):
            if lab.occlusion == 0 and lab.truncation == 0:
                ious.append(geometry.box2d_iou(box, np.array(lab.box2d))[0, 0])
    assert ious and np.mean(np.array(ious) > 0.7) >= 0.8


def test_2d_boxes_follow_the_kitti_protocol(dataset_root: Path) -> None:
    """Car, Van and Cyclist 2D boxes are the clipped projection of their (annotated) 3D box, occluded or not; a
    pedestrian's rows are its projection's, its columns its silhouette's (within the projection). Tolerance: the
    label file's 3D fields have two decimals (a few pixels for a box a metre away)."""
    ds = KittiDataset(dataset_root)
    checked = {"occluded": 0, "Pedestrian": 0}
    for frame in range(FRAMES):
        calib = ds.calib(frame)
        for lab in ds.labels(frame):
            if lab.type == "DontCare":
                continue
            proj = geometry.project_boxes_to_image(np.array([lab.box3d]), calib.P2,
                                                   image_size=(IMAGE_HEIGHT, IMAGE_WIDTH))[0]
            box2d = np.array(lab.box2d)
            if lab.type == "Pedestrian":
                checked["Pedestrian"] += 1
                assert np.allclose(box2d[[1, 3]], proj[[1, 3]], atol=3.0)
                assert proj[0] - 2 <= box2d[0] < box2d[2] <= proj[2] + 2
            else:
                checked["occluded"] += lab.occlusion >= 1
                assert np.allclose(box2d, proj, atol=3.0), (lab, proj)
    assert checked["occluded"] and checked["Pedestrian"]


def test_annotation_noise_has_its_stated_size() -> None:
    rng = np.random.default_rng(0)
    truth = SceneObject("Car", 30.0, 0.0, -SENSOR_HEIGHT, 0.2, 4.0, 1.6, 1.5)
    boxes = [annotated_object(truth, rng) for _ in range(4000)]
    heading = np.degrees([b.yaw - truth.yaw for b in boxes])
    ray = np.array([b.x - truth.x for b in boxes])  # the ray is the x axis here
    lateral = np.array([b.y - truth.y for b in boxes])
    assert np.std(heading) == pytest.approx(ANNOTATION_NOISE["heading_deg"], rel=0.1)
    a, b = ANNOTATION_NOISE["ray_m"]
    assert np.std(ray) == pytest.approx(a + b * 30.0, rel=0.1)
    assert np.std(lateral) == pytest.approx(ANNOTATION_NOISE["lateral_m"], rel=0.1)
    widths = np.array([b.w / truth.w for b in boxes]) - 1.0
    assert widths.min() >= 0.0, "an annotated box is never smaller than the object"
    assert np.sqrt(np.mean(widths ** 2)) == pytest.approx(ANNOTATION_NOISE["size"], rel=0.1)
    assert abs(np.mean(heading)) < 0.1 and abs(np.mean(ray)) < 0.01


def test_scan_hits_only_surfaces() -> None:
    scene = sample_scene(np.random.default_rng(3))
    scan = simulate_scan(scene, np.random.default_rng(4))
    prims = scene.prims
    boxes = np.flatnonzero((prims.kind == BOX) & (prims.instance >= 0))
    pts = scan.points[:, :3].astype(np.float64)
    on_objects = scan.instance >= 0
    for p in boxes:
        local = (pts[on_objects] - prims.center[p]) @ prims.rot[p]
        depth_inside = np.min(prims.half[p] - np.abs(local), axis=1)
        assert (depth_inside > 0.12).sum() == 0, "no LiDAR point deep inside a solid part"
    near = (np.hypot(pts[:, 0], pts[:, 1]) < 12) & (pts[:, 2] < -1.4) & ~on_objects
    assert abs(np.median(pts[near, 2]) + SENSOR_HEIGHT) < 0.05


def test_fully_hidden_object_is_occluded_or_unlabelled() -> None:
    builder = PrimitiveBuilder()
    front = SceneObject("Van", 9.0, 0.0, -SENSOR_HEIGHT, 0.0, 5.5, 2.0, 2.4)
    back = SceneObject("Car", 20.0, 0.0, -SENSOR_HEIGHT, 0.0, 3.6, 1.5, 1.35)
    shapes.add_van(builder, shapes.object_pose(front.x, front.y, front.z, front.yaw), 0, 5.5, 2.0, 2.4, (0.5,) * 3)
    shapes.add_car(builder, shapes.object_pose(back.x, back.y, back.z, back.yaw), 1, 3.6, 1.5, 1.35, (0.5,) * 3)
    street = Street(yaw=0.0, q_ego=-1.75, lane_edges=np.array([-3.5, 0.0, 3.5]), road=(-5.7, 5.7),
                    sidewalk=(3.0, 3.0))
    scene = Scene(builder.build(), np.array([0.0, 0.0, 1.0, SENSOR_HEIGHT]), [front, back], street)
    calib = kitti_calibration()
    render = render_camera(scene, calib, np.random.default_rng(0))
    scan = simulate_scan(scene, np.random.default_rng(0))
    labels = annotate(scene, calib, render.instance, np.bincount(scan.instance[scan.instance >= 0], minlength=2))
    assert labels[0].type == "Van" and labels[0].occlusion == 0
    assert all(lab.type != "Car" or lab.occlusion >= 2 for lab in labels)


def test_dark_paint_loses_its_side_at_grazing_incidence() -> None:
    """Two cars 35 m ahead, 6 m to either side, along the road: their inner sides face the LiDAR at 10 degrees
    (incidence cosine 0.17). Under the detection floor (4e-5 x 35.5^2 = 0.050) the black car's side (reflectance 0.10
    x 0.17) returns nothing while its rear, seen head-on (0.10 x 0.99), does; the white car's side (0.88 x 0.17)
    returns. The rear's outer edges lie behind its middle (corners rounded in plan view)."""
    black, white = (0.10, 0.10, 0.11), (0.88, 0.88, 0.88)
    cars = [SceneObject("Car", 35.0, 6.0, -SENSOR_HEIGHT, 0.0, 4.2, 1.7, 1.5),
            SceneObject("Car", 35.0, -6.0, -SENSOR_HEIGHT, 0.0, 4.2, 1.7, 1.5)]
    builder = PrimitiveBuilder()
    for inst, (car, color) in enumerate(zip(cars, (black, white))):
        shapes.add_car(builder, shapes.object_pose(car.x, car.y, car.z, car.yaw), inst, car.l, car.w, car.h, color)
    street = Street(yaw=0.0, q_ego=-1.75, lane_edges=np.array([-3.5, 0.0, 3.5]), road=(-9.0, 9.0),
                    sidewalk=(3.0, 3.0))
    scan = simulate_scan(Scene(builder.build(), np.array([0.0, 0.0, 1.0, SENSOR_HEIGHT]), cars, street),
                         np.random.default_rng(0))
    side, rear, rear_edge = [], [], []
    for inst, car in enumerate(cars):
        local = scan.points[scan.instance == inst, :3].astype(np.float64) - [car.x, car.y, car.z]
        flat = np.abs(local[:, 0]) < car.l / 2 - shapes.CAR_CORNER_RADIUS
        side.append(int((flat & (np.abs(local[:, 1]) > car.w / 2 - 0.015)).sum()))
        at_rear = local[:, 0] < -car.l / 2 + 0.6
        rear.append(int((at_rear & (np.abs(local[:, 1]) < car.w / 2 - shapes.CAR_CORNER_RADIUS)).sum()))
        rear_edge.append(local[at_rear & (np.abs(local[:, 1]) > car.w / 2 - 0.06), 0] + car.l / 2)
    assert side[0] == 0 and rear[0] > 0, "the black car: no side, a rear"
    assert side[1] > 0 and rear[1] > 0, "the white car: both faces"
    assert rear_edge[1].size and rear_edge[1].min() > 0.2, "rounded corners: the rear's edge lies behind its plane"


def test_far_car_mostly_hidden_is_dont_care() -> None:
    """A car 45 m away, all but its roof hidden behind a car 12 m away, shows fewer than MIN_VISIBLE_PIXELS pixels:
    DontCare, as KITTI's annotators leave it. The same car 8 m to the side, in full view, stays labelled."""
    cars = [SceneObject("Car", 12.0, 0.0, -SENSOR_HEIGHT, 0.0, 4.0, 1.7, 1.5),
            SceneObject("Car", 45.0, 1.5, -SENSOR_HEIGHT, 0.0, 4.0, 1.7, 1.5),
            SceneObject("Car", 45.0, 8.0, -SENSOR_HEIGHT, 0.0, 4.0, 1.7, 1.5)]
    builder = PrimitiveBuilder()
    for inst, car in enumerate(cars):
        shapes.add_car(builder, shapes.object_pose(car.x, car.y, car.z, car.yaw), inst, car.l, car.w, car.h,
                       (0.5,) * 3)
    street = Street(yaw=0.0, q_ego=-1.75, lane_edges=np.array([-3.5, 0.0, 3.5]), road=(-5.7, 5.7),
                    sidewalk=(3.0, 3.0))
    scene = Scene(builder.build(), np.array([0.0, 0.0, 1.0, SENSOR_HEIGHT]), cars, street)
    calib = kitti_calibration()
    render = render_camera(scene, calib, np.random.default_rng(0))
    scan = simulate_scan(scene, np.random.default_rng(0))
    points = np.bincount(scan.instance[scan.instance >= 0], minlength=3)
    pixels = np.bincount(render.instance[render.instance >= 0], minlength=3)
    assert pixels[1] < MIN_VISIBLE_PIXELS["Car"] <= pixels[2] and points[1] > 0, "the case is as described"
    labels = annotate(scene, calib, render.instance, points)
    boxes = {round(lab.box2d[0]): lab for lab in labels}
    hull = geometry.project_boxes_to_image(np.stack([box3d_rect(c, calib) for c in cars]), calib.P2)
    assert [lab.type for lab in labels] == ["Car", "Car", "DontCare"]
    assert boxes[round(hull[2, 0])].occlusion == 0, "the far car in view keeps its label"
    assert labels[2].box2d[0] == pytest.approx(hull[1, 0], abs=1.0), "the hidden far car is the DontCare box"


def test_visible_pixel_floor_follows_the_kitti_label_statistics() -> None:
    """MIN_VISIBLE_PIXELS (annotate.py) from the committed KITTI statistics: per occlusion level, the largest visible
    share x the silhouette fill x the 1st percentile of the untruncated cars' box area; the floor is their median."""
    tails = load_small_boxes()["Car"]
    largest_share = (1.0, *OCCLUSION_LEVELS[:2])
    floors = [share * CAR_FILL * tails[f"occlusion {level}"]["area p1"] for level, share in enumerate(largest_share)]
    areas = [tails[f"occlusion {level}"]["area p1"] for level in range(3)]
    assert areas == sorted(areas), "the smallest labelled box grows with the occlusion level"
    assert abs(MIN_VISIBLE_PIXELS["Car"] - float(np.median(floors))) <= 10.0


def test_depth_map_agrees_with_lidar(dataset_root: Path) -> None:
    ds = KittiDataset(dataset_root)
    calib = ds.calib(0)
    depth = ds.depth(0)["depth"]
    rect = geometry.velo_to_rect(ds.velodyne(0), calib)
    uv, w = geometry.project_rect_to_image(rect, calib.P2)
    u, v = np.round(uv[:, 0]).astype(int), np.round(uv[:, 1]).astype(int)
    ok = (w > 1) & (u >= 0) & (u < IMAGE_WIDTH) & (v >= 0) & (v < IMAGE_HEIGHT)
    kernel = np.ones((7, 7), np.uint8)
    smooth = cv2.dilate(depth, kernel) < 1.03 * cv2.erode(np.where(depth > 0, depth, 1e6).astype(np.float32), kernel)
    ok[ok] &= smooth[v[ok], u[ok]]
    err = np.abs(depth[v[ok], u[ok]] - w[ok])
    assert ok.sum() > 4000
    assert np.median(err) < 0.05 and np.mean(err < 0.1 + 0.02 * w[ok]) > 0.95


def test_resume_skips_complete_frames(dataset_root: Path) -> None:
    before = _files(dataset_root)
    kept = dataset_root / "training" / "velodyne" / "000000.bin"
    mtime = kept.stat().st_mtime_ns
    (dataset_root / "training" / "label_2" / "000001.txt").unlink()
    generate_dataset(dataset_root, FRAMES, SEED, val_fraction=0.5, workers=1, progress=False)
    assert kept.stat().st_mtime_ns == mtime, "a complete frame is not regenerated"
    assert _files(dataset_root) == before
    with pytest.raises(OutputDirError, match="refusing to mix"):
        generate_dataset(dataset_root, FRAMES, SEED + 1, workers=1, progress=False)


def test_mono_depth_error_model() -> None:
    clean = generate_frame(SEED, 0, "none").depth
    noisy = generate_frame(SEED, 0, "mono").depth
    valid = clean["depth"] > 0
    assert np.array_equal(noisy["depth"] > 0, valid)
    assert not np.allclose(noisy["depth"][valid], clean["depth"][valid])
    ratio = noisy["depth"][valid] / clean["depth"][valid]
    assert abs(np.median(ratio) - float(noisy["mono_scale"])) < 0.02
    near = valid & (clean["depth"] < 10)
    far = valid & (clean["depth"] > 30)
    spread = lambda m: np.std(noisy["depth"][m] / float(noisy["mono_scale"]) - clean["depth"][m])  # noqa: E731
    assert spread(far) > 3 * spread(near), "noise grows with distance"


def test_road_direction_and_vehicle_headings_follow_kitti() -> None:
    """Seeded scenes: the road direction and the vehicles' deviations from it are drawn from the committed KITTI
    heading statistics (some roads and vehicles well off the axes, most near them); the vehicles stand on the road,
    with no two footprints overlapping."""
    stats = load_headings()
    rng = np.random.default_rng(0)
    yaws = np.degrees([draw_road_yaw(rng) for _ in range(4000)])
    assert np.mean(np.abs(yaws) > 10) == pytest.approx(np.mean(np.abs(stats["frame direction percentiles"]) > 10),
                                                       abs=0.03)
    deviations = np.degrees([draw_deviation(rng) for _ in range(4000)])
    assert np.mean(np.abs(deviations) > 5) == pytest.approx(stats["deviation beyond 5 deg"], abs=0.02)
    off_axis = []
    for seed in range(12):
        scene = sample_scene(np.random.default_rng(seed))
        vehicles = [o for o in scene.objects if o.cls in ("Car", "Van")]
        s, q = scene.street.to_street(np.array([o.x for o in vehicles]), np.array([o.y for o in vehicles]))
        assert np.all((q >= scene.street.road[0]) & (q <= scene.street.road[1])), "vehicles stand on the road"
        for i, a in enumerate(vehicles):
            for b in vehicles[i + 1:]:
                footprints = _Footprints([(a.x, a.y, a.yaw, a.l / 2, a.w / 2)])
                assert footprints.free((b.x, b.y, b.yaw, b.l / 2, b.w / 2)), "no two vehicles overlap"
        street_axis = np.degrees(np.angle(np.exp(4j * (np.array([o.yaw for o in vehicles]) - scene.street.yaw))) / 4)
        off_axis.extend(np.abs(street_axis) > 5)
    assert 0.02 < np.mean(off_axis) < 0.3, "some vehicles deviate from their row or lane, most do not"


def test_traffic_follows_kitti_vehicles_per_frame() -> None:
    """A frame's traffic is a vehicle count drawn from KITTI's vehicles per frame over the world's count at traffic
    1: empty roads as often as in KITTI, the mean count KITTI's; scenes of heavier traffic hold more vehicles."""
    stats = load_vehicles_per_frame()
    rng = np.random.default_rng(0)
    counts = np.array([draw_traffic(rng) for _ in range(4000)]) * FULL_TRAFFIC_VEHICLES
    assert counts.mean() == pytest.approx(stats["mean"], rel=0.05)
    assert np.mean(counts < 0.5) == pytest.approx(np.mean(np.array(stats["percentiles"]) < 0.5), abs=0.03)
    light, heavy = [], []
    for seed in range(40):
        sampler = _SceneSampler(np.random.default_rng(seed))
        sampler.sample_street()
        sampler.parked_cars()
        sampler.moving_cars()
        (light if sampler.traffic < 0.5 else heavy).append(len(sampler.objects))
    assert light and heavy and np.mean(light) < np.mean(heavy)


def test_cars_behind_a_nearer_object() -> None:
    """The share of a 2D box inside another, and per distance bin the share of cars behind a nearer object."""
    assert inside_share(np.array([0.0, 0.0, 10.0, 10.0]), np.array([5.0, 0.0, 20.0, 20.0])) == pytest.approx(0.5)
    assert inside_share(np.array([0.0, 0.0, 10.0, 10.0]), np.array([10.0, 0.0, 20.0, 20.0])) == 0.0
    shares = behind_shares([(5.0, False), (15.0, True), (15.0, False), (45.0, True)])
    assert shares["0-10 m"] == {"n": 1, "share": 0.0} and shares["10-20 m"]["share"] == 0.5
    assert shares["20-30 m"] == {"n": 0, "share": None} and shares["40+ m"]["share"] == 1.0
