"""torch Dataset over a :class:`kitti.frustum.store.FrustumSet` (the provider of docs/design.md §6.4, 2D-only in weak
mode).

Per sample: points rotated to the frustum frame (RTC, intensity dropped) and resampled to ``num_samples``;
reference centres of the four scales (the 2D box centre pixel back-projected at the slice depths of
:func:`train.grouping.slice_depths`, then RTC-rotated); slice labels on scale 2; box targets in the frustum frame;
train-time flip and depth-shift augmentation. Randomness comes from ``numpy.random.default_rng([seed, epoch,
index])``: a sample is the same whatever the worker count, order or resume point.

2D-only decisions (docs/design.md §1), ``weak`` supervision:

* A real object (``kind == real``) never has a 3D target in weak mode: ``box3d`` and ``seg`` are not read, even if
  present (``target3d = False``; its box fields are zeros, never NaN).
* Slice labels of real objects: at step 0 the slices whose camera depth lies outside the sample's ``depth_window``
  widened by the ignore band (:func:`widened_window`: ``max(data.window_margin, data.window_band * d)`` metres on
  each side, ``d`` the window's mid depth) are negatives (0) and those inside are ignored (-1): reals give no
  positives.
  When the sample has a previous-step pseudo-box (``prev_box3d`` finite, steps >= 1) the positives come from that box
  (half box positive, full box ignored, as for injected objects), but inside the widened window the other slices are
  ignored, not negatives: the pseudo-box's depth is a guess (median error 0.3-0.4 m for pedestrians and cars on the
  demo world, against a 1 m slice spacing and a pedestrian's 0.4 m half-length), and with negatives there 36-39 % of
  the slices where the object really is were trained as background, teaching each step the previous step's depth
  errors (:func:`pseudo_box_labels`). Outside the widened window they stay negatives.
  Injected objects (proxy, pasted) use their 3D box, known by construction; so do real objects with a trusted
  geometric fit (``kind == trusted``, beyond ALPI: the box of the 2D-only geometric labeller, :mod:`kitti.geometric`),
  which count as ``is_proxy`` for the losses.
* ``box_slices`` marks, for a sample with a 3D target, the slices whose decoded box the 3D terms train: the positive
  and ignored ones and their neighbours whose depth slab holds part of the box (:func:`box_slices`).
* ``window`` marks the slices inside the widened depth window: the 2D loss of a real object uses the slice of
  highest predicted foreground probability among them (:mod:`train.losses`), and inference chooses its slices
  there (``test.window``, :mod:`train.inference`).
* ``occlusion`` / ``truncation``: the annotated 2D box's label_2 fields (-1 when not annotated), which weight the
  2D loss (:func:`train.losses.box2d_weights`).
* Depth shift moves points along z and would break the agreement between a real object's points and its annotated
  2D box, so it is applied only to samples with a 3D target; flip is undone before the 2D projection.

``full`` supervision: real objects with ``has_3d`` get 3D targets and labels from their box like injected ones.

:func:`train.datasets.build_dataset` returns this class or the refinement variant (:mod:`train.refine_dataset`)
after ``data.kind``; both produce the same keys, so model, losses and inference are shared. ``origin`` is the position
(frustum frame) of the sample's local origin: zero here, the region centre for refinement samples; the batch's
``frustum_angle`` is the angle of the rotation actually applied (the refinement variant uses the region's heading).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from kitti import geometry as g
from kitti.frustum.store import KIND_REAL, FrustumSample, FrustumSet
from kitti.io.labels import SUPERVISION
from kitti.priors import CLASSES
from train.box_coding import kitti_to_frustum
from train.config import DataConfig
from train.grouping import slice_depths


def reference_centres(box2d: np.ndarray, P2: np.ndarray, frustum_angle: float,
                      depths: list[np.ndarray]) -> list[np.ndarray]:
    """Reference centres (M_s, 3) per scale, frustum frame: the 2D box centre pixel back-projected at each depth."""
    all_depths = np.concatenate(depths)
    centre = np.array([[(box2d[0] + box2d[2]) / 2, (box2d[1] + box2d[3]) / 2]], np.float64)
    rect = g.image_to_rect(np.repeat(centre, len(all_depths), axis=0), all_depths, np.asarray(P2, np.float64))
    rotated = g.rotate_to_center(rect, frustum_angle)
    return np.split(rotated, np.cumsum([len(d) for d in depths])[:-1])


def widened_window(depth_window: np.ndarray, margin: float, band: float) -> tuple[float, float]:
    """``(lo, hi)`` metres: the sample's depth window widened on each side by ``max(margin, band * d)`` metres,
    ``d`` = the window's mid depth (the ignore band grows with depth like the depth estimate's error)."""
    lo, hi = (float(v) for v in depth_window)
    pad = max(margin, band * (lo + hi) / 2)
    return lo - pad, hi + pad


def inside_box(points: np.ndarray, centre: np.ndarray, heading: float, size: np.ndarray,
               factor: float) -> np.ndarray:
    """Bool (M,): points (M, 3) inside the centre-based box scaled by ``factor`` (frustum frame, faces inclusive)."""
    d = points - centre
    c, s = np.cos(heading), np.sin(heading)
    along = c * d[:, 0] - s * d[:, 2]
    across = s * d[:, 0] + c * d[:, 2]
    return ((np.abs(along) <= factor * size[0] / 2) & (np.abs(across) <= factor * size[1] / 2)
            & (np.abs(d[:, 1]) <= factor * size[2] / 2))


def pseudo_box_labels(labels: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Slice labels (M,) of a weak real object from a previous step's pseudo-box: ``labels`` of
    :func:`slice_labels` for that box with the negatives inside the widened depth window ``window`` (bool (M,))
    turned to ignored (-1). The box's depth may be wrong by more than a slice, so only the window's outside is
    known background."""
    return np.where((labels == 0) & window, -1, labels).astype(np.int64)


def box_slices(refs: np.ndarray, labels: np.ndarray, centre: np.ndarray, heading: float, size: np.ndarray,
               stride: float) -> np.ndarray:
    """Bool (M,): the slices whose box is trained (docs/design.md §7.2): labelled positive or ignored, or whose depth
    slab holds part of the box. A slab is what the slice sees, the points with ``|z - z_ref| < stride`` (frustum frame,
    metres; :func:`train.grouping.query_depth_point` on scale 2), so it meets the box when ``|z_ref - z_c| < stride +
    half the box's depth extent``. Those neighbours see the object as the positive slice does; their foreground
    probability is nearly as high (0.20 / 0.24 / 0.20 at the slices before / at / after a pedestrian's positive,
    demo world 1) and inference keeps whichever is highest, so each of them must decode the object's box."""
    half_depth = 0.5 * (size[0] * abs(np.sin(heading)) + size[1] * abs(np.cos(heading)))
    return (labels != 0) | (np.abs(refs[:, 2] - centre[2]) < stride + half_depth)


def slice_labels(refs: np.ndarray, centre: np.ndarray, heading: float, size: np.ndarray, positive: float = 0.5,
                 ignore: float = 1.0) -> np.ndarray:
    """Labels (M,) int64 of docs/design.md §7.1: 1 inside the box scaled by ``positive``, -1 inside the box scaled by
    ``ignore``, else 0; at least one positive (the centre nearest to the box centre)."""
    labels = np.where(inside_box(refs, centre, heading, size, ignore), -1, 0)
    labels[inside_box(refs, centre, heading, size, positive)] = 1
    if not (labels == 1).any():
        labels[int(np.argmin(np.linalg.norm(refs - centre, axis=1)))] = 1
    return labels.astype(np.int64)


class FrustumDataset(Dataset):
    """Samples of a frustum set as dicts of tensors (see :meth:`__getitem__`)."""

    def __init__(self, frustums: FrustumSet, cfg: DataConfig, supervision: str = "weak", augment: bool = False,
                 seed: int = 0) -> None:
        if supervision not in SUPERVISION:
            raise ValueError(f"supervision must be one of {SUPERVISION}, got {supervision!r}")
        self.frustums = frustums
        self.cfg = cfg
        self.supervision = supervision
        self.augment = augment
        self.seed = seed
        self.epoch = 0
        self.depths = [slice_depths(s, cfg.max_depth) for s in cfg.strides]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.frustums)

    def _frame(self, sample: FrustumSample) -> tuple[float, np.ndarray, list[np.ndarray]]:
        """(frame angle, origin (3,), reference centres per scale (M_s, 3)). The frame angle (radians) plays the role
        of the frustum angle in :func:`kitti.geometry.rotate_to_center`: here the sample's own ``frustum_angle``.
        Origin and centres are in that rotated frame, before the local translation."""
        angle = float(sample.frustum_angle)
        return angle, np.zeros(3), reference_centres(sample.box2d, sample.P2, angle, self.depths)

    def _target(self, sample: FrustumSample) -> tuple[bool, np.ndarray | None]:
        """(uses 3D losses, box whose slice labels apply or None). Weak reals never expose ``box3d``."""
        is_real = sample.kind == KIND_REAL
        if sample.has_3d and (not is_real or self.supervision == "full"):
            return True, sample.box3d
        if is_real and self.supervision == "weak" and np.isfinite(sample.prev_box3d).all():
            return False, sample.prev_box3d
        return False, None

    def __getitem__(self, index: int) -> dict[str, Any]:
        """Keys: ``points (3, N)``, ``ref0..ref3 (3, M_s)`` (frustum frame, metres), ``cls_label (M2,)`` (1/0/-1),
        ``window (M2,)`` bool, ``box_slices (M2,)`` bool (the slices whose box the 3D terms train,
        :func:`box_slices`; none when ``target3d`` is False), ``centre (3,)``, ``heading ()``, ``size (3,)``
        (l, w, h) targets (zeros when ``target3d`` is False), ``target3d``, ``is_proxy`` (injected object),
        ``is_real`` bools, ``class_id``, ``one_hot (V,)``, ``box2d_target (4,)`` pixels, ``occlusion`` int,
        ``truncation`` float (label_2 2D fields),
        ``P2 (3, 4)``, ``image_size (2,)`` (H, W),
        ``frustum_angle`` radians (the frame angle of :meth:`_frame`: decode boxes with it), ``flipped`` bool,
        ``index``, ``origin (3,)`` (frustum frame, metres: points, boxes and references are relative to it)."""
        sample = self.frustums[index]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        choice = self._choice(sample, index, rng)
        angle, origin, refs = self._frame(sample)
        points = g.rotate_to_center(sample.points[choice, :3], angle) - origin
        target3d, label_box = self._target(sample)
        centre, heading, size = np.zeros(3), 0.0, np.zeros(3)
        if label_box is not None:
            centre, heading, size = kitti_to_frustum(label_box, angle)
            centre = centre - origin
        flipped = bool(self.augment and rng.random() < self.cfg.flip_prob)
        if flipped:
            heading = _flip(points, refs, centre, heading)
        if self.augment and target3d and self.cfg.depth_shift > 0:
            self._shift_depth(rng, points, refs, centre, size)
        labels, window = self._slice_labels(sample, refs, (centre, heading, size) if label_box is not None else None,
                                            pseudo=label_box is not None and not target3d)
        trained = (box_slices(refs[1], labels, centre, heading, size, self.cfg.strides[1]) if target3d
                   else np.zeros(len(labels), bool))
        if not target3d:  # a previous pseudo-box only shapes the slice labels; it is not a 3D target
            centre, heading, size = np.zeros(3), 0.0, np.zeros(3)
        out = {"points": _f32(points.T), "cls_label": torch.as_tensor(labels), "window": torch.as_tensor(window),
               "box_slices": torch.as_tensor(trained),
               "centre": _f32(centre), "heading": _f32(heading), "size": _f32(size),
               "target3d": torch.tensor(target3d), "frustum_angle": _f32(angle), "flipped": torch.tensor(flipped),
               "index": torch.tensor(index), "origin": _f32(origin), **_sample_fields(sample)}
        for s, ref in enumerate(refs):
            out[f"ref{s}"] = _f32(ref.T)
        return out

    def _choice(self, sample: FrustumSample, index: int, rng: np.random.Generator) -> np.ndarray:
        """``data.num_samples`` point indices of the sample (drawn with replacement when it has fewer)."""
        n_points = len(sample.points)
        if n_points == 0:
            raise ValueError(f"{self.frustums.path}: sample {index} has no points")
        return rng.choice(n_points, self.cfg.num_samples, replace=n_points < self.cfg.num_samples)

    def _shift_depth(self, rng: np.random.Generator, points: np.ndarray, refs: list[np.ndarray], centre: np.ndarray,
                     size: np.ndarray) -> None:
        """Shift the points and the target centre along z (in place) by ``data.depth_shift`` x the box diagonal
        (metres); the shifted centre stays within the reference span."""
        diag = float(np.hypot(size[0], size[1]))
        shift = float(np.clip(rng.normal() * self.cfg.depth_shift * diag, -0.5 * diag, 0.5 * diag))
        span = refs[1][:, 2]
        shift = float(np.clip(shift, span.min() - centre[2], span.max() - centre[2]))
        points[:, 2] += shift
        centre[2] += shift

    def _slice_labels(self, sample: FrustumSample, refs: list[np.ndarray],
                      box: tuple[np.ndarray, float, np.ndarray] | None,
                      pseudo: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Slice labels (1/0/-1) of the scale-2 references and the widened depth window (bool per slice); ``box``:
        the labelling box (centre, heading, size; frustum frame), None for a weak real object at step 0; ``pseudo``:
        the box is a previous step's pseudo-box (:func:`pseudo_box_labels`)."""
        lo, hi = widened_window(sample.depth_window, self.cfg.window_margin, self.cfg.window_band)
        depth2 = self.depths[1]
        window = (depth2 >= lo) & (depth2 <= hi)
        if box is None:  # weak real object at step 0: negatives outside the widened window, ignored inside
            return np.where(window, -1, 0).astype(np.int64), window
        centre, heading, size = box
        labels = slice_labels(refs[1], centre, heading, size, self.cfg.positive_scale, self.cfg.ignore_scale)
        return (pseudo_box_labels(labels, window) if pseudo else labels), window


def _f32(values: Any) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, np.float32))


def _flip(points: np.ndarray, refs: list[np.ndarray], centre: np.ndarray, heading: float) -> float:
    """Mirror the points, references and centre in place (x -> -x, frustum frame); returns the mirrored heading."""
    points[:, 0] *= -1
    for ref in refs:
        ref[:, 0] *= -1
    centre[0] *= -1
    return float(g.wrap_angle(np.pi - heading))


def _sample_fields(sample: FrustumSample) -> dict[str, torch.Tensor]:
    """The tensors taken from the stored sample as they are."""
    one_hot = np.zeros(len(CLASSES), np.float32)
    one_hot[sample.class_id] = 1
    return {"is_proxy": torch.tensor(sample.kind != KIND_REAL), "is_real": torch.tensor(sample.kind == KIND_REAL),
            "class_id": torch.tensor(sample.class_id), "one_hot": torch.as_tensor(one_hot),
            "box2d_target": _f32(sample.box2d_target), "P2": _f32(sample.P2), "image_size": _f32(sample.image_size),
            "occlusion": torch.tensor(int(sample.occlusion)), "truncation": _f32(sample.truncation)}
