"""Losses: the 2D loss is depth invariant; in weak mode real objects get exactly zero gradient from every 3D term
and their 3D fields (NaN or scrambled) cannot change the loss; ignored slices do not enter the focal loss."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from kitti import geometry as g
from kitti.frustum.store import KIND_REAL, FrustumSet
from tests.train.fixtures import tiny_config
from train.frustum_dataset import FrustumDataset
from train.losses import box2d_loss, box2d_weights, compute_losses, focal_loss
from train.model import FConvNet

P2 = np.array([[721.5, 0, 609.6, 44.9], [0, 721.5, 172.9, 0.2], [0, 0, 1, 0.003]])
TERMS_3D = ("centre", "heading_cls", "heading_res", "size_cls", "size_res", "corner", "quality")


def test_2d_loss_is_depth_invariant() -> None:
    rel = torch.tensor([[0.10, -0.05, 0.20, 0.03]], dtype=torch.float64)
    losses = []
    for depth in (10.0, 40.0):
        box = np.array([[2.0, 1.6, depth, 1.5, 1.6, 3.9, 0.3]])
        target = torch.as_tensor(g.project_boxes_to_image(box, P2))
        wh = target[:, 2:] - target[:, :2]
        pred = target + rel * torch.cat([wh, wh], dim=1)
        losses.append(float(box2d_loss(pred, target, beta=0.05)))
    assert losses[0] > 0 and losses[0] == pytest.approx(losses[1], rel=1e-12)


def test_focal_loss_ignores_ignored_slices() -> None:
    logits = torch.randn(2, 5, 2)
    labels = torch.tensor([[1, 0, -1, 0, 0], [0, 0, 0, -1, -1]])
    changed = logits.clone()
    changed[0, 2] = torch.tensor([50.0, -50.0])
    changed[1, 3:] = 7.0
    assert focal_loss(logits, labels, 0.25, 2.0) == focal_loss(changed, labels, 0.25, 2.0)


def _batch(frustums: FrustumSet, supervision: str = "weak") -> dict:
    cfg = tiny_config()
    dataset = FrustumDataset(frustums, cfg.data, supervision, augment=True, seed=1)
    return default_collate([dataset[i] for i in range(len(dataset))])


def _outputs(batch: dict) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    model = FConvNet(tiny_config()).eval()
    with torch.no_grad():
        out = model(batch)
    return {k: v.clone().requires_grad_(True) for k, v in out.items()}


def test_weak_real_objects_get_no_3d_gradient(train_world: Path) -> None:
    frustums = FrustumSet.load(train_world / "weak" / "frustums_train.npz")
    batch = _batch(frustums)
    real = batch["is_real"]
    assert real.any() and (~real).any()
    out = _outputs(batch)
    total, terms = compute_losses(out, batch, tiny_config().loss, 12, "weak", 0.5)
    assert torch.isfinite(total)
    proxy_grad = 0.0
    for name in TERMS_3D:
        grad_reg, grad_cls, grad_q = torch.autograd.grad(terms[name], [out["reg"], out["cls"], out["quality"]],
                                                         retain_graph=True, allow_unused=True,
                                                         materialize_grads=True)
        assert torch.all(grad_reg[real] == 0) and torch.all(grad_cls[real] == 0), name
        assert torch.all(grad_q[real] == 0), name
        proxy_grad += float(grad_reg[~real].abs().sum())
    assert proxy_grad > 0
    # the quality head learns from injected objects only, and its target is detached from the box regression
    grad_q, grad_reg = torch.autograd.grad(terms["quality"], [out["quality"], out["reg"]], retain_graph=True,
                                           allow_unused=True, materialize_grads=True)
    assert grad_q[~real].abs().sum() > 0 and torch.all(grad_reg == 0)
    # the 2D loss does reach real objects (all of them when every occlusion / truncation level is weighted)
    batch["occlusion"][:] = 0
    batch["truncation"][:] = 0.0
    _, terms = compute_losses(out, batch, tiny_config().loss, 12, "weak", 0.5)
    grad_2d = torch.autograd.grad(terms["box2d"], out["reg"], retain_graph=True)[0]
    assert grad_2d[real].abs().sum() > 0 and torch.all(grad_2d[~real] == 0)


def test_2d_loss_skips_occluded_and_truncated_objects_by_default(train_world: Path) -> None:
    batch = _batch(FrustumSet.load(train_world / "weak" / "frustums_train.npz"))
    # objects inside the image: at the border the predicted hull is clipped, which may leave no gradient
    real = (batch["is_real"] & (batch["truncation"] == 0)).nonzero(as_tuple=True)[0]
    assert len(real) >= 3
    batch["occlusion"][real] = 0
    batch["truncation"][real] = 0.0
    batch["occlusion"][real[0]] = 2          # largely occluded
    batch["truncation"][real[1]] = 0.3       # truncated
    out = _outputs(batch)
    _, terms = compute_losses(out, batch, tiny_config().loss, 12, "weak", 0.5)
    grad = torch.autograd.grad(terms["box2d"], out["reg"])[0].abs().sum(dim=(1, 2))
    assert grad[real[0]] == 0 and grad[real[1]] == 0 and (grad[real[2:]] > 0).all()
    # weights per level: everything weighted -> the occluded and truncated objects are back in
    cfg = tiny_config("loss.box2d_occlusion_weights=[1, 0.5, 0.5, 0.5]",
                      "loss.box2d_truncation_weights=[1, 0.5, 0.5]")
    _, terms = compute_losses(out, batch, cfg.loss, 12, "weak", 0.5)
    grad = torch.autograd.grad(terms["box2d"], out["reg"])[0].abs().sum(dim=(1, 2))
    assert (grad[real] > 0).all()


def test_box2d_weights_per_level() -> None:
    cfg = tiny_config("loss.box2d_occlusion_weights=[1, 0.5, 0.25, 0.1]",
                      "loss.box2d_truncation_edges=[0.0, 0.5]", "loss.box2d_truncation_weights=[1, 0.4, 0.2]").loss
    occ = torch.tensor([0, 1, 2, 3, -1, 0, 0, 0])
    trunc = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.0, 0.2, 0.5, 0.9])
    assert torch.allclose(box2d_weights(occ, trunc, cfg), torch.tensor([1, 0.5, 0.25, 0.1, 0.1, 0.4, 0.4, 0.2]))
    pred = torch.tensor([[0.0, 0, 10, 10], [0, 0, 20, 10]])
    target = torch.tensor([[0.0, 0, 10, 10], [0, 0, 10, 10]])
    assert float(box2d_loss(pred, target, 0.05, torch.tensor([1.0, 0.0]))) == 0
    assert float(box2d_loss(pred, target, 0.05, torch.tensor([0.0, 0.0]))) == 0
    assert float(box2d_loss(pred, target, 0.05, torch.tensor([0.0, 1.0]))) > 0


def test_scrambled_real_3d_fields_leave_the_weak_loss_unchanged(train_world: Path) -> None:
    frustums = FrustumSet.load(train_world / "weak" / "frustums_train.npz")
    real = frustums.arrays["kind"] == KIND_REAL
    assert np.isnan(frustums.arrays["box3d"][real]).all()  # weak sets hold no 3D for reals
    arrays = {k: v.copy() for k, v in frustums.arrays.items()}
    rng = np.random.default_rng(0)
    arrays["box3d"][real] = rng.uniform(1, 10, (real.sum(), 7))
    arrays["has_3d"][real] = True
    owner = np.repeat(np.arange(len(frustums)), np.diff(arrays["point_offsets"]))
    arrays["seg"][real[owner]] = rng.integers(0, 2, real[owner].sum())
    scrambled = FrustumSet(arrays, "scrambled")
    batch_a, batch_b = _batch(frustums), _batch(scrambled)
    for key in batch_a:
        assert torch.equal(batch_a[key], batch_b[key]), key
    loss_a = compute_losses(_outputs(batch_a), batch_a, tiny_config().loss, 12, "weak", 0.5)[0]
    loss_b = compute_losses(_outputs(batch_b), batch_b, tiny_config().loss, 12, "weak", 0.5)[0]
    assert torch.isfinite(loss_a) and loss_a == loss_b


def test_full_mode_uses_real_objects(train_world: Path) -> None:
    batch = _batch(FrustumSet.load(train_world / "full" / "frustums_train.npz"), "full")
    assert batch["target3d"][batch["is_real"]].all()
    out = _outputs(batch)
    _, terms = compute_losses(out, batch, tiny_config().loss, 12, "full", 0.0)
    grad = torch.autograd.grad(terms["corner"], out["reg"])[0]
    assert grad[batch["is_real"]].abs().sum() > 0
    assert float(terms["box2d"].detach()) == 0


@pytest.mark.parametrize("flip", [0.0, 1.0])
def test_2d_projection_undoes_flip_and_rotation(train_world: Path, flip: float) -> None:
    """The box the 2D loss projects (frustum frame, possibly flipped) lands on the rect-frame box and its image hull."""
    from train.box_coding import box_corners
    from train.losses import frustum_to_rect, project_hull
    frustums = FrustumSet.load(train_world / "full" / "frustums_train.npz")
    cfg = tiny_config(f"data.flip_prob={flip}", "data.depth_shift=0.0")
    dataset = FrustumDataset(frustums, cfg.data, "full", augment=True)
    batch = default_collate([dataset[i] for i in range(len(dataset))])
    assert bool(batch["flipped"].all()) == (flip == 1.0)
    corners = box_corners(batch["centre"].double(), batch["size"].double(), batch["heading"].double())
    rect = frustum_to_rect(corners, batch["frustum_angle"].double(), batch["flipped"], batch["origin"].double())
    boxes = frustums.arrays["box3d"]
    expected_corners = g.box3d_corners(boxes)  # a mirrored box has the same corners in another order
    dist = np.linalg.norm(rect.numpy()[:, :, None] - expected_corners[:, None], axis=3).min(axis=2)
    assert dist.max() < 1e-4
    hull = project_hull(rect, batch["P2"].double(), batch["image_size"].double()).numpy()
    expected = np.stack([g.project_boxes_to_image(b[None], p.astype(np.float64), tuple(s))[0]
                         for b, p, s in zip(boxes, frustums.arrays["P2"], frustums.arrays["image_size"])])
    assert np.allclose(hull, expected, atol=1e-2)
