"""The heading code keeps a direction over 2 pi (issue 24, item 3), and the box holds at every slice inference may
pick.

A world of one strongly asymmetric object per frustum: a car-sized box whose front half is tall and whose back half
is low (0.3 of the height), at a uniformly random heading, with full supervision. The dataset's targets, flipped or
not, point at the tall half; a detector fitted to a batch of them decodes headings that, rotated back to the rect
frame, point the labelled way. A heading coded modulo pi, a sign error between ``ry`` and the frustum frame, or a
flip that mirrors the points without mirroring the target fails them (a mod-pi ``encode_heading`` leaves 0.44 right).

Held-out objects: seen side-on (headings 0 and pi), a tiny detector trained on 64 of them with flip and depth-shift
augmentation points 1.00 of 48 others the right way after 252 steps with ``loss.heading_cls_weight=5``, 0.62 with
the default 1 (after 200 steps: 0.85 and 0.58): the direction is learned late, from the heading bins alone, and their
weight sets how late (docs/results.md, "Direction from the learned heading").
"""
from __future__ import annotations

import itertools
from typing import Iterable, Iterator

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, default_collate

from kitti import geometry as g
from kitti.frustum.store import FORMAT_VERSION, KIND_REAL, NAN7, FrustumSet
from tests.train.fixtures import tiny_config
from train.box_coding import decode_slices, frustum_to_kitti
from train.config import LossConfig
from train.frustum_dataset import FrustumDataset
from train.inference import choose_slices
from train.losses import compute_losses
from train.model import FConvNet, split_regression

P2 = np.array([[721.5, 0.0, 609.6, 44.9], [0.0, 721.5, 172.9, 0.2], [0.0, 0.0, 1.0, 0.003]])
IMAGE_SIZE = (375, 1242)
#: (h, w, l) metres
SIZE = (1.6, 1.7, 4.2)
#: height of the back half, as a share of the box height
BACK_HEIGHT = 0.3


def asymmetric_points(box3d: np.ndarray, rng: np.random.Generator, n: int = 300) -> np.ndarray:
    """Points (n, 3) rect on the surface of a box whose front half (``+l/2`` end, along ``(cos ry, 0, -sin ry)``)
    is full height and whose back half is ``BACK_HEIGHT`` of it."""
    x, yb, z, h, w, l, ry = box3d
    a = rng.uniform(-0.5, 0.5, n)                    # along the length, front at +0.5
    top = np.where(a > 0, 1.0, BACK_HEIGHT)
    b = rng.uniform(0.0, 1.0, n) * top               # up, 0 = bottom face
    c = rng.uniform(-0.5, 0.5, n)                    # across
    face = rng.integers(0, 3, n)                     # snap each point to a side, an end or the top of its half
    c = np.where(face == 0, np.sign(c) * 0.5, c)
    a = np.where(face == 1, np.where(a > 0, 0.5, -0.5), a)
    b = np.where(face == 2, top, b)
    e_l = np.array([np.cos(ry), 0.0, -np.sin(ry)])
    e_w = np.array([np.sin(ry), 0.0, np.cos(ry)])
    e_y = np.array([0.0, 1.0, 0.0])
    return np.array([x, yb, z]) + (a * l)[:, None] * e_l - (b * h)[:, None] * e_y + (c * w)[:, None] * e_w


def asymmetric_world(count: int, seed: int, ground: int = 40, headings: tuple[float, ...] = ()) -> FrustumSet:
    """``count`` frustum samples (real cars with 3D boxes), each the object's points plus a patch of ground."""
    rng = np.random.default_rng(seed)
    h, w, l = SIZE
    rows: dict[str, list] = {k: [] for k in ("box2d", "frustum_angle", "box3d", "depth_window")}
    clouds = []
    for _ in range(count):
        ry = rng.choice(headings) if headings else rng.uniform(-np.pi, np.pi)
        box3d = np.array([rng.uniform(-4, 4), 1.7, rng.uniform(10, 25), h, w, l, ry])
        floor = np.column_stack([box3d[0] + rng.uniform(-4, 4, ground), np.full(ground, 1.7),
                                 box3d[2] + rng.uniform(-5, 5, ground)])
        points = np.concatenate([asymmetric_points(box3d, rng), floor])
        box2d = g.project_boxes_to_image(box3d[None], P2, IMAGE_SIZE)[0]
        uv, _ = g.project_rect_to_image(points, P2)
        points = points[(uv[:, 0] >= box2d[0]) & (uv[:, 0] <= box2d[2]) & (uv[:, 1] >= box2d[1])
                        & (uv[:, 1] <= box2d[3])]
        clouds.append(np.column_stack([points, np.ones(len(points))]).astype(np.float32))
        rows["box2d"].append(box2d)
        rows["frustum_angle"].append(g.frustum_angle(box2d[None], P2)[0])
        rows["box3d"].append(box3d)
        rows["depth_window"].append([box3d[2] - 3, box3d[2] + 3])
    sizes = np.array([len(c) for c in clouds])
    arrays = {
        "format_version": np.int64(FORMAT_VERSION),
        "points": np.concatenate(clouds), "point_offsets": np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        "seg": np.concatenate([g.points_in_boxes_mask(c[:, :3], b[None], 0.01)[:, 0] for c, b in
                               zip(clouds, rows["box3d"])]).astype(np.int8),
        "frame_id": np.arange(count, dtype=np.int64), "label_line": np.ones(count, np.int32),
        "class_id": np.zeros(count, np.int8), "kind": np.full(count, KIND_REAL, np.int8),
        "box2d": np.array(rows["box2d"], np.float32), "box2d_target": np.array(rows["box2d"], np.float32),
        "frustum_angle": np.array(rows["frustum_angle"], np.float32), "has_3d": np.ones(count, bool),
        "box3d": np.array(rows["box3d"], np.float32), "depth_window": np.array(rows["depth_window"], np.float32),
        "prev_box3d": np.tile(NAN7, (count, 1)), "score_2d": np.ones(count, np.float32),
        "P2": np.tile(P2.astype(np.float32), (count, 1, 1)), "image_size": np.tile(np.int32(IMAGE_SIZE), (count, 1)),
        "occlusion": np.zeros(count, np.int8), "truncation": np.zeros(count, np.float32),
    }
    return FrustumSet(arrays, "asymmetric")


def test_the_shape_gives_the_direction() -> None:
    """Sanity check of the world: the tall points are at the front end of the labelled heading."""
    world = asymmetric_world(8, seed=0)
    for i in range(len(world)):
        s = world[i]
        x, yb, z, h, _, _, ry = s.box3d
        obj = s.points[s.seg == 1]
        along = (obj[:, 0] - x) * np.cos(ry) - (obj[:, 2] - z) * np.sin(ry)
        tall = yb - obj[:, 1] > 0.5 * h
        assert tall.sum() > 20 and (along[tall] > -1e-3).all()


def fit(model: FConvNet, batches: Iterable[dict], loss_cfg: LossConfig) -> None:
    """Adam (lr 5e-3) steps of full supervision over ``batches`` on one thread (a tiny model: threads only add
    overhead); leaves ``model`` in eval mode."""
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for batch in batches:
            loss, _ = compute_losses(model(batch), batch, loss_cfg, model.num_bins, "full", 0.0)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    model.eval()


@pytest.fixture(scope="module")
def fitted() -> tuple[FConvNet, dict, FrustumSet]:
    """A tiny detector fitted with full supervision to a fixed batch of 16 asymmetric objects at headings over
    2 pi: ``(model in eval mode, batch, world)``."""
    cfg = tiny_config("model.pointnet=[[16, 16], [16, 16], [32], [32]]", "model.deconv=16", "data.num_samples=128",
                      "data.group_sizes=[16, 16, 16, 16]")
    world = asymmetric_world(16, seed=1)
    dataset = FrustumDataset(world, cfg.data, "full")
    batch = default_collate([dataset[i] for i in range(len(dataset))])
    torch.manual_seed(0)
    model = FConvNet(cfg)
    fit(model, itertools.repeat(batch, 160), cfg.loss)
    return model, batch, world


def heading_errors(fitted: tuple[FConvNet, dict, FrustumSet], slices: torch.Tensor) -> np.ndarray:
    """Absolute heading errors (radians, over 2 pi, rect frame) of the boxes decoded at ``slices`` (bool (B, M))."""
    model, batch, world = fitted
    with torch.no_grad():
        parts = split_regression(model(batch)["reg"], model.num_bins)
    b, m = slices.nonzero(as_tuple=True)
    centre, heading, size = decode_slices(parts, batch["ref1"], b, m, batch["class_id"][b], model.num_bins)
    ry = frustum_to_kitti(centre.numpy(), heading.numpy(), size.numpy(), batch["frustum_angle"][b].numpy())[:, 6]
    return np.abs(g.wrap_angle(ry - world.arrays["box3d"][b.numpy(), 6].astype(np.float64)))


def test_full_supervision_fits_a_direction_over_two_pi(fitted: tuple[FConvNet, dict, FrustumSet]) -> None:
    """The heading decoded at the positive slices, rotated back to the rect frame, points the labelled way. A heading
    coded mod pi, or a sign error between the frustum frame and ``ry``, leaves about half of them reversed."""
    error = heading_errors(fitted, fitted[1]["cls_label"] == 1)
    right = float(np.mean(error < np.pi / 2))
    assert right >= 0.9, f"direction right at {right:.2f} of the positive slices"
    assert np.median(error) < np.radians(15)


def test_direction_holds_at_every_slice_inference_may_pick(fitted: tuple[FConvNet, dict, FrustumSet]) -> None:
    """Inference keeps the top foreground slice of the widened depth window, not necessarily a positive one: the
    heading is trained there too (:func:`train.losses.heading_terms`). Trained at the positive slices only, the
    window's other slices point the right way for 0.72-0.78 of them."""
    batch = fitted[1]
    error = heading_errors(fitted, batch["window"] | (batch["cls_label"] != 0))
    right = float(np.mean(error < np.pi / 2))
    assert right >= 0.9, f"direction right at {right:.2f} of the window's slices"


def test_box_holds_at_every_slice_that_sees_the_object(fitted: tuple[FConvNet, dict, FrustumSet]) -> None:
    """Inference keeps the top foreground slice, and the slices beside the positive one see the object too (their
    depth slab holds part of it) with a foreground probability nearly as high: the box is trained at each of them
    (``box_slices``, :func:`train.frustum_dataset.box_slices`). Trained at the positive slices only, the centre
    decoded at the other slices that see the object was off by a median 2.1 m (ignored) and 2.8 m (negative) here,
    a slice or more; now by 0.07 m, as at the positive slices."""
    model, batch, _ = fitted
    with torch.no_grad():
        parts = split_regression(model(batch)["reg"], model.num_bins)
    labels, seeing = batch["cls_label"], batch["box_slices"]
    assert ((labels == 1) <= seeing).all() and (seeing & (labels == 0)).sum() >= 16
    b, m = (seeing & (labels != 1)).nonzero(as_tuple=True)
    centre, _, _ = decode_slices(parts, batch["ref1"], b, m, batch["class_id"][b], model.num_bins)
    error = torch.linalg.norm(centre - batch["centre"][b], dim=1).numpy()
    assert np.median(error) < 0.3 and np.mean(error < 0.5) >= 0.9, f"centre error median {np.median(error):.2f} m"


def test_augmented_targets_keep_the_front_at_the_tall_end() -> None:
    """The dataset's targets (frustum frame, flipped or not) point the heading at the object's tall half."""
    cfg = tiny_config("data.num_samples=256")
    dataset = FrustumDataset(asymmetric_world(12, seed=3, ground=0), cfg.data, "full", augment=True, seed=0)
    seen = set()
    for epoch in range(4):
        dataset.set_epoch(epoch)
        for i in range(len(dataset)):
            item = dataset[i]
            points, centre, heading = item["points"].numpy().T, item["centre"].numpy(), float(item["heading"])
            h = float(item["size"][2])
            along = (points[:, 0] - centre[0]) * np.cos(heading) - (points[:, 2] - centre[2]) * np.sin(heading)
            tall = centre[1] + h / 2 - points[:, 1] > 0.5 * h
            assert tall.sum() > 10 and (along[tall] > -1e-3).all(), (epoch, i, bool(item["flipped"]))
            seen.add(bool(item["flipped"]))
    assert seen == {False, True}


def test_direction_is_learned_for_held_out_objects() -> None:
    """Side-on asymmetric objects (the direction shows as which side of the ray the tall half lies), full supervision
    with augmentation: after 252 steps a tiny detector with heading-bin weight 5 points held-out objects the right
    way at the slice inference keeps (module docstring: 1.00; the default weight 1 leaves 0.62)."""
    cfg = tiny_config("model.pointnet=[[16, 16], [16, 16], [32], [32]]", "model.deconv=16", "data.num_samples=128",
                      "data.group_sizes=[16, 16, 16, 16]", "loss.heading_cls_weight=5")
    side_on = (0.0, np.pi)
    dataset = FrustumDataset(asymmetric_world(64, seed=1, headings=side_on), cfg.data, "full", augment=True, seed=0)
    torch.manual_seed(0)
    model = FConvNet(cfg)

    def shuffled_epochs() -> Iterator[dict]:
        for epoch in range(63):  # 4 batches of 16 per epoch: 252 steps
            dataset.set_epoch(epoch)
            yield from DataLoader(dataset, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(epoch))

    fit(model, shuffled_epochs(), cfg.loss)
    held_out = asymmetric_world(48, seed=2, headings=side_on)
    batch = default_collate([FrustumDataset(held_out, cfg.data, "full")[i] for i in range(len(held_out))])
    with torch.no_grad():
        fg = model(batch)["cls"].softmax(-1)[..., 1]
    error = heading_errors((model, batch, held_out), choose_slices(fg, batch["window"], "top"))
    right = float(np.mean(error < np.pi / 2))
    assert right >= 0.9, f"direction right for {right:.2f} of the held-out objects"
