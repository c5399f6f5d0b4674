"""Frustum Dataset: 2D-only slice targets of real objects (step 0 window rule, previous pseudo-box at steps >= 1),
targets of injected objects, deterministic per-sample randomness."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from kitti.frustum.store import KIND_REAL, FrustumSet
from tests.train.fixtures import tiny_config
from train.frustum_dataset import FrustumDataset, box_slices, widened_window
from train.grouping import slice_depths


def _weak(world: Path) -> FrustumSet:
    return FrustumSet.load(world / "weak" / "frustums_train.npz")


def test_step0_real_objects_have_no_positive_slices(train_world: Path) -> None:
    frustums = _weak(train_world)
    cfg = tiny_config()
    dataset = FrustumDataset(frustums, cfg.data, "weak", augment=True)
    depths = slice_depths(cfg.data.strides[1], cfg.data.max_depth)
    for i in np.flatnonzero(frustums.arrays["kind"] == KIND_REAL):
        item = dataset[int(i)]
        lo, hi = frustums.arrays["depth_window"][i]
        pad = max(cfg.data.window_margin, cfg.data.window_band * (lo + hi) / 2)  # the ignore band grows with depth
        inside = (depths >= lo - pad) & (depths <= hi + pad)
        assert not item["target3d"] and not item["is_proxy"]
        assert torch.equal(item["window"], torch.as_tensor(inside))
        assert torch.equal(item["cls_label"], torch.as_tensor(np.where(inside, -1, 0)))
    proxy = dataset[int(np.flatnonzero(frustums.arrays["kind"] != KIND_REAL)[0])]
    assert proxy["target3d"] and proxy["is_proxy"] and (proxy["cls_label"] == 1).any()


def test_box_slices_are_those_whose_slab_meets_the_box() -> None:
    """A slice's slab holds the points within one stride of its depth: a pedestrian (0.8 x 0.6 m, side-on) at a
    slice's depth is seen by the slices within ``stride + 0.3`` m (1 m stride: that slice and both neighbours), a car
    (4 x 1.6 m, along the axis) by those within ``stride + 2`` m; a positive always is one."""
    refs = np.column_stack([np.zeros(40), np.zeros(40), np.arange(40) + 0.5])
    labels = np.zeros(40, np.int64)
    seen = box_slices(refs, labels, np.array([0.0, 0.0, 20.5]), 0.0, np.array([0.8, 0.6, 1.7]), 1.0)
    assert np.flatnonzero(seen).tolist() == [19, 20, 21]
    seen = box_slices(refs, labels, np.array([0.0, 0.0, 20.9]), np.pi / 2, np.array([4.0, 1.6, 1.5]), 1.0)
    assert np.flatnonzero(seen).tolist() == [18, 19, 20, 21, 22, 23]
    labels[5] = 1
    assert box_slices(refs, labels, np.array([0.0, 0.0, 20.9]), 0.0, np.array([0.8, 0.6, 1.7]), 1.0)[5]


def test_weak_real_objects_have_no_box_slices(train_world: Path) -> None:
    frustums = _weak(train_world)
    dataset = FrustumDataset(frustums, tiny_config().data, "weak")
    for i in range(len(frustums)):
        item = dataset[i]
        assert bool(item["box_slices"].any()) == bool(item["target3d"]), i


def test_previous_pseudo_box_gives_slice_labels_not_3d_targets(train_world: Path) -> None:
    full = FrustumSet.load(train_world / "full" / "frustums_train.npz")
    arrays = {k: v.copy() for k, v in _weak(train_world).arrays.items()}
    real = np.flatnonzero(arrays["kind"] == KIND_REAL)
    i = int(real[0])
    match = np.flatnonzero((full.arrays["frame_id"] == arrays["frame_id"][i])
                           & (full.arrays["label_line"] == arrays["label_line"][i]))[0]
    arrays["prev_box3d"][i] = full.arrays["box3d"][match]
    item = FrustumDataset(FrustumSet(arrays, "step1"), tiny_config().data, "weak")[i]
    assert (item["cls_label"] == 1).any() and not item["target3d"]
    assert torch.all(item["centre"] == 0)  # no 3D target is exposed for a real object


def test_pseudo_box_never_makes_the_window_background(train_world: Path) -> None:
    """A previous pseudo-box 3 m too far: its slices are positive, the slices where the object really is (inside
    the widened window) are ignored, not negatives; only the window's outside is background."""
    full = FrustumSet.load(train_world / "full" / "frustums_train.npz")
    arrays = {k: v.copy() for k, v in _weak(train_world).arrays.items()}
    cfg = tiny_config().data
    checked = 0
    for i in np.flatnonzero(arrays["kind"] == KIND_REAL)[:20]:
        i = int(i)
        matches = np.flatnonzero((full.arrays["frame_id"] == arrays["frame_id"][i])
                                 & (full.arrays["label_line"] == arrays["label_line"][i]))
        if not matches.size:
            continue  # the full set drops a frustum with no point in the object's 3D box
        truth = full.arrays["box3d"][matches[0]].astype(np.float64)
        shifted = truth.copy()
        shifted[[0, 2]] *= 1 + 3.0 / np.hypot(truth[0], truth[2])  # 3 m further along the viewing ray
        arrays["prev_box3d"][i] = shifted
        dataset = FrustumDataset(FrustumSet(arrays, "step1"), cfg, "weak")
        item = dataset[i]
        labels, window = item["cls_label"].numpy(), item["window"].numpy()
        arrays["prev_box3d"][i] = truth
        true_positive = FrustumDataset(FrustumSet(arrays, "step1"), cfg, "weak")[i]["cls_label"].numpy() == 1
        if not (window & true_positive).any() or (true_positive & (labels == 1)).any():
            continue  # the truth lies outside the window, or the two boxes share a slice
        checked += 1
        assert (labels == 1).any() and not item["target3d"]
        assert (labels[true_positive & window] == -1).all()
        assert not ((labels == 0) & window).any()
    assert checked >= 3


def test_per_sample_randomness_is_deterministic(train_world: Path) -> None:
    dataset = FrustumDataset(_weak(train_world), tiny_config().data, "weak", augment=True, seed=4)
    a, b = dataset[3], dataset[3]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert a["points"].shape == (3, 64)
    dataset.set_epoch(1)
    assert not torch.equal(dataset[3]["points"], a["points"])


def test_ignore_band_is_proportional_to_depth() -> None:
    assert widened_window(np.array([8.0, 12.0]), 1.0, 0.1) == (7.0, 13.0)      # 1 m floor close in
    assert widened_window(np.array([36.0, 44.0]), 1.0, 0.1) == (32.0, 48.0)    # 0.1 x 40 m far away
    assert widened_window(np.array([36.0, 44.0]), 1.0, 0.0) == (35.0, 45.0)    # window_band 0: fixed margin


def test_label_2_occlusion_and_truncation_reach_the_batch(train_world: Path) -> None:
    frustums = _weak(train_world)
    dataset = FrustumDataset(frustums, tiny_config().data, "weak")
    a = frustums.arrays
    real = a["kind"] == KIND_REAL
    assert (a["occlusion"][real] >= 0).all() and (a["occlusion"][~real] == -1).all()
    i = int(np.flatnonzero(real)[0])
    item = dataset[i]
    assert int(item["occlusion"]) == a["occlusion"][i] and float(item["truncation"]) == a["truncation"][i]
