"""Losses of the weak (ALPI) and full (F-ConvNet) detectors (docs/design.md §7), with explicit masks.

Masks (per sample, from :class:`train.frustum_dataset.FrustumDataset`):

* ``mask3d = target3d & (is_proxy | supervision == "full")``: the 3D terms (centre, size, corner) use the
  ``box_slices`` of these samples: the positive and ignored slices and the neighbours whose depth slab holds part of
  the box (:func:`train.frustum_dataset.box_slices`). Their foreground probability is nearly as high as the
  positive's and inference keeps the highest, so a box trained at the positive slices only was off by a slice
  (1 m on the demo) whenever a neighbour won. The heading terms also use the slices of the widened depth window
  (:func:`heading_terms`). In ``weak`` mode a real object is therefore
  never in a 3D term, whatever its fields hold; the terms gather rows by index (no NaN is ever multiplied by 0).
* ``mask2d = is_real & ~mask3d`` (``weak`` mode only): the depth-invariant 2D loss. Its slice is the one of highest
  predicted foreground probability inside the widened depth window (``window``); the box there is decoded with the
  predicted heading bin and the class anchor, un-flipped, rotated back to the rect frame, projected with the
  sample's P2 (corner depth clamped at 0.1 m), its axis-aligned hull clipped to the image and compared with the
  annotated 2D box ``box2d_target``: ``SmoothL1_beta((b_hat - b) / s)``, ``s = (w, h, w, h)`` of the target, mean
  over the 4 coordinates. The normalisation comes *before* the Smooth-L1 (``beta`` relative), so the loss is
  exactly depth invariant (docs/design.md §7.3: the published order is not).
  Each row is weighted by ``w_occ[occlusion] * w_trunc[truncation level]`` (:func:`box2d_weights`, config
  ``loss.box2d_*``): by default only fully visible, untruncated objects. KITTI's boxes of occluded cars, vans and
  cyclists are the projected box too (levels 1-2, within 0.2 px: the geometric labeller reads them so, docs/design.md
  §12.1), a truncated object's box is clipped by the image; the default was chosen before that was measured and has
  not been re-measured for this term. The term is the weighted mean over rows (zero when every weight is zero).
* Quality (``model.quality_head``): at the ``box_slices`` of the ``mask3d`` samples (injected objects and trusted
  fits in weak mode; never a real object without one), binary cross entropy of the quality logit against the 3D IoU
  of the box decoded there (predicted heading bin, as at inference; detached) with the known box.
* The focal loss covers every non-ignored slice of every sample (reals contribute negatives outside the window).
* Size prior (docs/design.md §7.4): batch mean and std of the decoded sizes of the 3D positives and 2D slices, per
  class.

Total: ``focal + box_weight (centre + heading_cls_weight heading_cls + size_cls_weight size_cls + 20 heading_res +
20 size_res + 10 corner) + box2d_weight 2D + size_prior_weight size_prior + quality_weight quality``.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

import ops
from kitti.priors import CLASSES, MEAN_SIZE, SIZE_STD
from train.box_coding import box_corners, decode_slices, encode_heading, encode_size, kitti_from_frustum_frame
from train.config import LossConfig
from train.model import split_regression

MIN_PROJ_DEPTH = 0.1


def huber(error: torch.Tensor, delta: float) -> torch.Tensor:
    """Elementwise Huber: ``0.5 min(|e|, d)^2 + d (|e| - min(|e|, d))``."""
    a = error.abs()
    q = torch.clamp(a, max=delta)
    return 0.5 * q ** 2 + delta * (a - q)


def focal_loss(logits: torch.Tensor, labels: torch.Tensor, alpha: float, gamma: float) -> torch.Tensor:
    """Softmax focal loss over slices with label >= 0, summed and divided by max(1, #positives)."""
    valid = labels >= 0
    target = labels.clamp(min=0)
    logp = F.log_softmax(logits, dim=-1).gather(-1, target[..., None])[..., 0]
    weight = torch.where(target == 1, alpha, 1 - alpha) * (1 - logp.exp()) ** gamma
    loss = -(weight * logp)[valid].sum()
    return loss / (labels == 1).sum().clamp(min=1)


def project_hull(corners: torch.Tensor, P2: torch.Tensor, image_size: torch.Tensor) -> torch.Tensor:
    """Axis-aligned hull (n, 4) ``(u1, v1, u2, v2)`` pixels of rect-frame corners (n, 8, 3) projected with
    per-sample ``P2 (n, 3, 4)``, clipped to ``[0, W-1] x [0, H-1]`` (``image_size (n, 2)`` = H, W)."""
    x, y, z = corners.unbind(-1)
    z = torch.clamp(z, min=MIN_PROJ_DEPTH)
    hom = torch.einsum("nij,nkj->nki", P2[:, :, :3], torch.stack([x, y, z], -1)) + P2[:, None, :, 3]
    w = torch.clamp(hom[..., 2], min=1e-6)
    u, v = hom[..., 0] / w, hom[..., 1] / w
    hull = torch.stack([u.amin(1), v.amin(1), u.amax(1), v.amax(1)], dim=1)
    hi = torch.stack([image_size[:, 1], image_size[:, 0], image_size[:, 1], image_size[:, 0]], dim=1) - 1
    return torch.minimum(torch.clamp(hull, min=0), hi)


def box2d_loss(pred: torch.Tensor, target: torch.Tensor, beta: float,
               weight: torch.Tensor | None = None) -> torch.Tensor:
    """``SmoothL1_beta((pred - target) / (w, h, w, h))`` averaged over the 4 coordinates, then over boxes with
    ``weight (n,)`` (uniform when None; zero when every weight is zero). Pixels in, unitless out."""
    wh = torch.clamp(target[:, 2:] - target[:, :2], min=1.0)
    scale = torch.cat([wh, wh], dim=1)
    per_box = F.smooth_l1_loss(pred / scale, target / scale, beta=beta, reduction="none").mean(dim=1)
    if weight is None:
        return per_box.mean()
    return (per_box * weight).sum() / weight.sum().clamp(min=1e-6)


def box2d_weights(occlusion: torch.Tensor, truncation: torch.Tensor, cfg: LossConfig) -> torch.Tensor:
    """Per-sample 2D-loss weight ``w_occ[occlusion] * w_trunc[level(truncation)]`` (see the module docstring).
    ``occlusion`` int (n,) KITTI level 0..3 or -1 (not annotated: level 3); ``truncation`` float (n,) in [0, 1]."""
    occ_w = truncation.new_tensor(cfg.box2d_occlusion_weights)
    trunc_w = truncation.new_tensor(cfg.box2d_truncation_weights)
    level = torch.where(occlusion < 0, 3, occlusion).clamp(0, 3).long()
    edges = truncation.new_tensor(cfg.box2d_truncation_edges)
    trunc_level = torch.searchsorted(edges, truncation.contiguous(), side="left")
    return occ_w[level] * trunc_w[trunc_level]


def frustum_to_rect(corners: torch.Tensor, frustum_angle: torch.Tensor, flipped: torch.Tensor,
                    origin: torch.Tensor) -> torch.Tensor:
    """Local corners (n, 8, 3) -> rect frame: undo the flip (x -> -x), add the sample's ``origin`` (frustum frame),
    then rotate by ``-(pi/2 + angle)``."""
    sign = torch.where(flipped, -1.0, 1.0).to(corners.dtype)[:, None]
    x = corners[..., 0] * sign + origin[:, None, 0]
    y = corners[..., 1] + origin[:, None, 1]
    z = corners[..., 2] + origin[:, None, 2]
    a = -(math.pi / 2 + frustum_angle)[:, None]
    c, s = torch.cos(a), torch.sin(a)
    return torch.stack([c * x - s * z, y, s * x + c * z], dim=-1)


def _size_prior(sizes: torch.Tensor, class_id: torch.Tensor) -> torch.Tensor:
    terms = []
    for c, name in enumerate(CLASSES):
        s = sizes[class_id == c]
        if len(s) >= 2:
            mean = s.new_tensor(MEAN_SIZE[name])
            std = s.new_tensor(SIZE_STD[name])
            terms.append((F.smooth_l1_loss(s.std(dim=0), std) + F.smooth_l1_loss(s.mean(dim=0), mean)))
    return torch.stack(terms).mean() if terms else sizes.sum() * 0


def heading_terms(parts: dict[str, torch.Tensor], batch: dict[str, Any], mask3d: torch.Tensor,
                  num_bins: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Heading bin cross entropy and residual Huber loss at every slice of the ``mask3d`` samples that inference may
    pick: positive, ignored (inside the full box) or inside the widened depth window. The heading in the frustum
    frame is one per sample, so every such slice has the same target; trained at the positive slices only, the
    slice inference keeps (the top foreground probability in the window) may never have seen a heading."""
    b, m = (((batch["cls_label"] != 0) | batch["window"]) & mask3d[:, None]).nonzero(as_tuple=True)
    bin_t, res_t = encode_heading(batch["heading"][b], num_bins)
    res_p = parts["heading_res"][b, m].gather(1, bin_t[:, None])[:, 0]
    return F.cross_entropy(parts["heading_scores"][b, m], bin_t), huber(res_p - res_t, 1.0).mean()


def target3d_mask(batch: dict[str, Any], supervision: str) -> torch.Tensor:
    """``mask3d`` (module docstring): the samples whose 3D box is a training target."""
    return batch["target3d"] & (batch["is_proxy"] | (supervision == "full"))


#: the 3D box terms (zero in the graph when a batch has no 3D positive)
BOX3D_TERMS = ("centre", "heading_cls", "heading_res", "size_cls", "size_res", "corner")


def _box3d_terms(parts: dict[str, torch.Tensor], batch: dict[str, Any], mask3d: torch.Tensor, b: torch.Tensor,
                 m: torch.Tensor, num_bins: int) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    """The 3D terms at the box slices ``(b, m)`` of the ``mask3d`` samples (the heading terms at more slices:
    :func:`heading_terms`), the decoded sizes (metres) and their classes."""
    cls = batch["class_id"][b]
    c_t, h_t, s_t = batch["centre"][b], batch["heading"][b], batch["size"][b]
    bin_t, _ = encode_heading(h_t, num_bins)
    centre, heading, size = decode_slices(parts, batch["ref1"], b, m, cls, num_bins, bins=bin_t)
    terms = {"centre": huber(torch.linalg.norm(centre - c_t, dim=1), 3.0).mean()}
    terms["heading_cls"], terms["heading_res"] = heading_terms(parts, batch, mask3d, num_bins)
    terms["size_cls"] = F.cross_entropy(parts["size_scores"][b, m], cls)
    terms["size_res"] = huber(torch.linalg.norm(parts["size_res"][b, m, cls] - encode_size(s_t, cls), dim=1),
                              1.0).mean()
    pred = box_corners(centre, size, heading)
    gt = box_corners(c_t, s_t, h_t)
    gt_flip = box_corners(c_t, s_t, h_t + math.pi)
    dist = torch.minimum(torch.linalg.norm(pred - gt, dim=2).mean(1),
                         torch.linalg.norm(pred - gt_flip, dim=2).mean(1))
    terms["corner"] = huber(dist, 1.0).mean()
    return terms, size, cls


def _box2d_term(logits: torch.Tensor, parts: dict[str, torch.Tensor], batch: dict[str, Any], rows: torch.Tensor,
                cfg: LossConfig, num_bins: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The 2D loss of the ``mask2d`` samples ``rows`` at their most confident slice inside the widened window, the
    decoded sizes (metres) and their classes."""
    fg = logits[rows].detach().softmax(-1)[..., 1]
    window = batch["window"][rows]
    window = torch.where(window.any(1, keepdim=True), window, torch.ones_like(window))
    m2 = torch.where(window, fg, torch.full_like(fg, -1.0)).argmax(1)
    cls = batch["class_id"][rows]
    centre, heading, size = decode_slices(parts, batch["ref1"], rows, m2, cls, num_bins)
    corners = frustum_to_rect(box_corners(centre, size, heading), batch["frustum_angle"][rows],
                              batch["flipped"][rows], batch["origin"][rows])
    hull = project_hull(corners, batch["P2"][rows], batch["image_size"][rows])
    weight = box2d_weights(batch["occlusion"][rows], batch["truncation"][rows], cfg)
    return box2d_loss(hull, batch["box2d_target"][rows], cfg.box2d_beta, weight), size, cls


def _total(terms: dict[str, torch.Tensor], cfg: LossConfig, size_prior_weight: float) -> torch.Tensor:
    """The weighted sum of the terms (module docstring)."""
    total = (terms["focal"] + cfg.box_weight * (
        terms["centre"] + cfg.heading_cls_weight * terms["heading_cls"] + cfg.size_cls_weight * terms["size_cls"]
        + cfg.heading_res_weight * terms["heading_res"] + cfg.size_res_weight * terms["size_res"]
        + cfg.corner_weight * terms["corner"]) + cfg.box2d_weight * terms["box2d"]
        + size_prior_weight * terms["size_prior"])
    if "quality" in terms:
        total = total + cfg.quality_weight * terms["quality"]
    return total


def compute_losses(out: dict[str, torch.Tensor], batch: dict[str, Any], cfg: LossConfig, num_bins: int,
                   supervision: str, size_prior_weight: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Total loss and its named terms (scalars in the graph; detach them for logging)."""
    logits, reg = out["cls"], out["reg"]
    labels = batch["cls_label"]
    parts = split_regression(reg, num_bins)
    zero = reg.sum() * 0  # keeps every head in the graph (DDP) when a term has no rows
    terms: dict[str, torch.Tensor] = {"focal": focal_loss(logits, labels, cfg.focal_alpha, cfg.focal_gamma)}
    sizes, size_cls = [], []
    mask3d = target3d_mask(batch, supervision)
    b, m = (batch["box_slices"] & mask3d[:, None]).nonzero(as_tuple=True)
    if len(b):
        box3d, size, cls = _box3d_terms(parts, batch, mask3d, b, m, num_bins)
        terms.update(box3d)
        sizes.append(size)
        size_cls.append(cls)
    else:
        terms.update({name: zero for name in BOX3D_TERMS})
    mask2d = batch["is_real"] & ~mask3d if supervision == "weak" else torch.zeros_like(mask3d)
    rows = mask2d.nonzero(as_tuple=True)[0]
    terms["box2d"] = zero
    if len(rows):
        terms["box2d"], size, cls = _box2d_term(logits, parts, batch, rows, cfg, num_bins)
        sizes.append(size)
        size_cls.append(cls)
    terms["size_prior"] = _size_prior(torch.cat(sizes), torch.cat(size_cls)) if sizes else zero
    if "quality" in out:
        terms["quality"] = quality_loss(out, batch, mask3d, num_bins)
    return _total(terms, cfg, size_prior_weight), terms


def iou3d_frustum(centre: torch.Tensor, heading: torch.Tensor, size: torch.Tensor, centre_t: torch.Tensor,
                  heading_t: torch.Tensor, size_t: torch.Tensor) -> torch.Tensor:
    """3D IoU (n,) of pairs of centre-based frustum-frame boxes (metres, radians; no gradient), as a tensor on the
    inputs' device. IoU is invariant to the frame rotation and flip, so no conversion to the rect frame is needed."""
    as_np = lambda t: t.detach().cpu().double().numpy()  # noqa: E731
    box_p = kitti_from_frustum_frame(as_np(centre), as_np(heading), as_np(size))
    box_t = kitti_from_frustum_frame(as_np(centre_t), as_np(heading_t), as_np(size_t))
    box_p[:, 3:6] = np.maximum(box_p[:, 3:6], 1e-3)
    return centre.new_tensor(ops.iou_3d_pairs(box_p, box_t))


def quality_loss(out: dict[str, torch.Tensor], batch: dict[str, Any], mask3d: torch.Tensor,
                 num_bins: int) -> torch.Tensor:
    """BCE of ``out["quality"]`` logits against the 3D IoU of the box decoded at every box slice (``box_slices``)
    of the ``mask3d`` samples (boxes with a known target); zero (in the graph) when there is none."""
    b, m = (batch["box_slices"] & mask3d[:, None]).nonzero(as_tuple=True)
    if not len(b):
        return out["quality"].sum() * 0
    parts = split_regression(out["reg"].detach(), num_bins)
    centre, heading, size = decode_slices(parts, batch["ref1"], b, m, batch["class_id"][b], num_bins)
    iou = iou3d_frustum(centre, heading, size, batch["centre"][b], batch["heading"][b], batch["size"][b])
    return F.binary_cross_entropy_with_logits(out["quality"][b, m], iou.to(out["quality"].dtype))


@torch.no_grad()
def training_metrics(out: dict[str, torch.Tensor], batch: dict[str, Any], num_bins: int,
                     supervision: str) -> dict[str, float]:
    """Slice accuracy (non-ignored slices) and the 3D IoU of the top slice on samples with a usable 3D target
    (``mask3d``: injected objects in weak mode, never real ones). IoU is computed in the frustum frame."""
    labels = batch["cls_label"]
    pred = out["cls"].argmax(-1)
    valid = labels >= 0
    metrics = {"slice_acc": float((pred == labels)[valid].float().mean()) if valid.any() else float("nan")}
    rows = target3d_mask(batch, supervision).nonzero(as_tuple=True)[0]
    if len(rows):
        m = out["cls"][rows].softmax(-1)[..., 1].argmax(1)
        parts = split_regression(out["reg"], num_bins)
        cls = batch["class_id"][rows]
        centre, heading, size = decode_slices(parts, batch["ref1"], rows, m, cls, num_bins)
        iou = iou3d_frustum(centre, heading, size, batch["centre"][rows], batch["heading"][rows], batch["size"][rows])
        metrics["iou3d"] = float(iou.mean())
        if "quality" in out:  # mean |predicted - true| IoU of the top slice
            metrics["quality_err"] = float((out["quality"][rows, m].sigmoid() - iou).abs().mean())
    return metrics
