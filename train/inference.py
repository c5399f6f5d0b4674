"""Inference on a frustum set (docs/design.md §9): slice probabilities -> boxes -> KITTI label files, then evaluation.

* ``top``: one box per frustum (= per 2D box), at the slice of highest foreground probability.
* ``nms``: every slice with ``p_fg > p_bg`` (or the top slice if none), then greedy 3D NMS per frame and class
  (:func:`ops.nms_3d`, suppress when 3D IoU > ``test.nms_thresh``, 0.1).

Slices: with ``test.window`` (frustum sets) only the slices inside the sample's depth window widened by the ignore
band (the ``window`` of :class:`train.frustum_dataset.FrustumDataset`, the region whose slices were not trained as
negatives) are candidates; a sample without any such slice uses all of them.

Score (``test.score``), always times the 2D-box confidence ``score_2d`` (1 for annotated boxes; the input pseudo-box
score for refinement sets, so the score ranks by input score and refinement confidence together):

* ``fg``: ``p_fg``, the foreground probability of the kept slice (ALPI);
* ``quality`` (default): ``p_fg * q * a`` with ``q = sigmoid(quality logit)``, the 3D IoU the quality head predicts
  for the kept slice's own box (trained on injected objects, whose boxes are known), and ``a`` the 2D agreement:
  the IoU of the box's projected, image-clipped hull with the sample's 2D box ``box2d``. Each factor is in
  ``[0, 1]``; a box scores high only when it is foreground, looks well fitted and reprojects onto its 2D box.
  Without a quality head (``model.quality_head: false``) the score is ``p_fg * a``.
 Boxes with a dimension below 0.01 m are dropped; a refinement set keeps the
input box of a sample without points or without a valid box (:func:`predict`), so the refinement never lowers
recall. Boxes are decoded with the batch's ``frustum_angle`` (the dataset's frame angle). Label lines: class,
truncation -1, occlusion -1, alpha from the rect position, the frustum's 2D box, (h, w, l), bottom-centre
(x, y, z), ry, score (4 decimals). Every frame of the split gets a file (empty when it has no box). With ``fill``
(the pseudo-labels of :mod:`train.gen_pseudo`) every labelled 2D box whose frustum was skipped gets the geometric
labeller's box with a low score (:func:`kitti.geometric.fill_labels`; points from the frustum set's point source).
Sharding: under torchrun, rank r handles frames ``frames[r::world]`` and writes their files; rank 0 evaluates after a
barrier.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

import ops
from kitti import geometry as g
from kitti.errors import CheckpointError
from kitti.eval import evaluate_dirs, format_table, write_json
from kitti.frustum.store import FrustumSet, read_manifest
from kitti.geometric import fill_labels, uncovered
from kitti.geometric.run import frame_points
from kitti.io.dataset import KittiDataset
from kitti.io.image import image_size
from kitti.io.labels import PREDICTION_DECIMALS, ObjectLabel, write_labels
from kitti.priors import CLASSES
from train.box_coding import decode_slices, frustum_to_kitti
from train.checkpoint import load_checkpoint
from train.config import Config, config_from_dict
from train.datasets import build_dataset
from train.distributed import Context, barrier
from train.model import FConvNet, split_regression

MIN_DIM = 0.01
#: refinement confidence given to an input box the refinement could not process (no points, degenerate box):
#: 0.5, the foreground decision threshold ("undecided")
PASS_THROUGH_CONFIDENCE = 0.5


@dataclass
class Predictions:
    """Boxes predicted on a frustum set: ``sample (K,)`` index into the set, ``box (K, 7)`` KITTI bottom-centre
    ``(x, y_bottom, z, h, w, l, ry)`` rect frame, ``score (K,)``, and the score's factors (K,): ``fg`` foreground
    probability, ``quality`` predicted 3D IoU (NaN without a quality head), ``agreement`` 2D IoU of the projected
    box with ``box2d`` (all NaN for the pass-through boxes of a refinement set)."""

    sample: np.ndarray
    box: np.ndarray
    score: np.ndarray
    fg: np.ndarray
    quality: np.ndarray
    agreement: np.ndarray

    def select(self, keep: np.ndarray) -> "Predictions":
        """The rows ``keep`` (bool mask or indices)."""
        return Predictions(*(getattr(self, f.name)[keep] for f in fields(self)))

    @staticmethod
    def concat(parts: Sequence["Predictions"]) -> "Predictions":
        return Predictions(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Predictions)))


def load_model(weights: str | Path, device: torch.device) -> tuple[FConvNet, Config, dict]:
    """Model in eval mode, its config and the checkpoint's ``meta``."""
    state = load_checkpoint(weights)
    raw = state["config"]
    model = raw.get("model", {})
    if isinstance(model, dict) and "quality_head" not in model:  # written before the quality head existed
        raw = {**raw, "model": {**raw.get("model", {}), "quality_head": False}}
    cfg = config_from_dict(raw, str(weights))
    model = FConvNet(cfg)
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, TypeError) as exc:
        raise CheckpointError(weights, f"its weights do not fit the network of its own config "
                                       f"({str(exc).splitlines()[0]} ...)") from None
    return model.to(device).eval(), cfg, state.get("meta", {})


def _batch_to(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


@torch.no_grad()
def predict(model: FConvNet, frustums: FrustumSet, cfg: Config, device: torch.device, indices: Sequence[int],
            method: str, progress: bool = True) -> Predictions:
    """Boxes for the samples ``indices`` of ``frustums`` (no augmentation; resampling seeded by the index).

    Refinement sets (``data.kind == "refine"``) never lose an input box: a sample without points or whose decoded
    boxes are all dropped keeps its input pseudo-box ``box3d`` with score ``score_2d * PASS_THROUGH_CONFIDENCE``."""
    indices = np.asarray(indices, np.int64)
    counts = np.diff(frustums.arrays["point_offsets"])[indices]
    pred = _predict_model(model, frustums, cfg, device, indices[counts > 0], method, progress)
    if cfg.data.kind != "refine":
        return pred
    missing = np.setdiff1d(indices, pred.sample)
    a = frustums.arrays
    nan = np.full(len(missing), np.nan)
    return Predictions.concat([pred, Predictions(missing, a["box3d"][missing].astype(np.float64),
                                                 a["score_2d"][missing] * PASS_THROUGH_CONFIDENCE, nan, nan, nan)])


def choose_slices(fg: torch.Tensor, window: torch.Tensor | None, method: str) -> torch.Tensor:
    """Bool (B, M) of the slices that give boxes: ``top`` the highest foreground probability ``fg (B, M)``, ``nms``
    every slice with ``fg > 0.5`` (the top one if none), both among the slices of ``window (B, M)`` when given
    (a sample without any window slice uses all of them)."""
    allowed = torch.ones_like(fg, dtype=torch.bool) if window is None else window | ~window.any(1, keepdim=True)
    top = torch.where(allowed, fg, torch.full_like(fg, -1.0)).argmax(1)
    if method == "top":
        keep = torch.zeros_like(fg, dtype=torch.bool)
        keep[torch.arange(len(fg)), top] = True
    else:
        keep = (fg > 0.5) & allowed
        keep[torch.arange(len(fg)), top] |= ~keep.any(1)
    return keep


def agreement_2d(boxes: np.ndarray, P2: np.ndarray, image_size: np.ndarray, box2d: np.ndarray) -> np.ndarray:
    """2D IoU (K,) of each KITTI box's (K, 7) projected hull (clipped to its image, ``image_size (K, 2)`` = H, W;
    ``P2 (K, 3, 4)``) with its 2D box ``box2d (K, 4)`` pixels."""
    out = np.zeros(len(boxes))
    for i, (box, p, size, b2d) in enumerate(zip(boxes, P2, image_size, box2d)):
        hull = g.project_boxes_to_image(box[None], p.astype(np.float64), (int(size[0]), int(size[1])))
        out[i] = g.box2d_iou(hull, b2d)[0, 0]
    return out


def _predict_model(model: FConvNet, frustums: FrustumSet, cfg: Config, device: torch.device, indices: np.ndarray,
                   method: str, progress: bool) -> Predictions:
    """Model boxes of samples that have points (decoded with the batch's frame angle ``frustum_angle``)."""
    dataset = build_dataset(frustums, cfg.data, "weak", augment=False, seed=cfg.train.seed)
    loader = DataLoader(Subset(dataset, list(indices)), batch_size=cfg.test.batch_size, shuffle=False,
                        num_workers=cfg.train.workers)
    restrict = cfg.test.window and cfg.data.kind == "frustum"
    parts_out: list[Predictions] = []
    for batch in tqdm(loader, desc="inference", unit="batch", disable=not progress):
        batch = _batch_to(batch, device)
        out = model(batch)
        fg = out["cls"].softmax(-1)[..., 1]                                # (B, M)
        b, m = choose_slices(fg, batch["window"] if restrict else None, method).nonzero(as_tuple=True)
        parts = split_regression(out["reg"], model.num_bins)
        centre, heading, size = decode_slices(parts, batch["ref1"], b, m, batch["class_id"][b], model.num_bins)
        index = batch["index"][b].cpu().numpy()
        centre = centre + batch["origin"][b]
        box = frustum_to_kitti(centre.cpu().numpy(), heading.cpu().numpy(), size.cpu().numpy(),
                               batch["frustum_angle"][b].cpu().numpy())
        p_fg = fg[b, m].cpu().numpy().astype(np.float64)
        quality = (out["quality"][b, m].sigmoid().cpu().numpy().astype(np.float64) if "quality" in out
                   else np.full(len(index), np.nan))
        a = frustums.arrays
        agreement = agreement_2d(box, a["P2"][index], a["image_size"][index], a["box2d"][index])
        factor = p_fg * np.nan_to_num(quality, nan=1.0) * agreement if cfg.test.score == "quality" else p_fg
        parts_out.append(Predictions(index, box, factor * a["score_2d"][index], p_fg, quality, agreement))
    if not parts_out:
        empty = np.zeros(0)
        return Predictions(np.zeros(0, np.int64), np.zeros((0, 7)), empty, empty, empty, empty)
    pred = Predictions.concat(parts_out)
    return pred.select((pred.box[:, 3:6] >= MIN_DIM).all(axis=1))


def frame_labels(pred: Predictions, frustums: FrustumSet, rows: np.ndarray, method: str,
                 nms_thresh: float) -> list[ObjectLabel]:
    """KITTI labels of the prediction rows of one frame (NMS per class in ``nms`` mode), by descending score."""
    a = frustums.arrays
    keep: list[int] = []
    for c in range(len(CLASSES)):
        sel = rows[a["class_id"][pred.sample[rows]] == c]
        if len(sel) and method == "nms":
            sel = sel[ops.nms_3d(pred.box[sel], pred.score[sel], nms_thresh)]
        keep.extend(int(i) for i in sel)
    keep.sort(key=lambda i: -pred.score[i])
    labels = []
    for i in keep:
        x, y, z, h, w, l, ry = (float(v) for v in pred.box[i])
        s = int(pred.sample[i])
        labels.append(ObjectLabel(type=CLASSES[int(a["class_id"][s])], truncation=-1.0, occlusion=-1,
                                  box2d=tuple(float(v) for v in a["box2d"][s]), alpha=float(g.alpha_from_ry(ry, x, z)),
                                  dims=(h, w, l), location=(x, y, z), ry=ry, score=float(pred.score[i])))
    return labels


def fill_frame(dataset: KittiDataset, frame: int, predicted: list[ObjectLabel], points: str,
               depth_dir: str) -> list[ObjectLabel]:
    """Geometric boxes (low score) for the 2D labels of ``frame`` that ``predicted`` leaves without a box (2D labels
    only)."""
    labels = dataset.labels_2d(frame)
    if not uncovered(labels, predicted):
        return []  # nothing to fill: the scene points are not loaded
    calib = dataset.calib(frame)
    size = image_size(dataset.path("image_2", frame))
    return fill_labels(calib, size, frame_points(dataset, frame, calib, size, points, depth_dir), labels, predicted)


def run(ctx: Context, weights: str | Path, frustums_path: str | Path, data: str | Path, split: str,
        output: str | Path, method: str | None, report_name: str, fill: bool = False) -> dict | None:
    """Predict every frame of ``split`` (this rank's shard), write ``output/data/%06d.txt`` (with ``fill``: plus a
    geometric box for every uncovered 2D label); rank 0 then evaluates against ``<data>/training/label_2`` and writes
    ``output/<report_name>`` (evaluator JSON). Returns the result on rank 0, else None."""
    output = Path(output)
    model, cfg, _ = load_model(weights, ctx.device)
    method = method or cfg.test.method
    frustums = FrustumSet.load(frustums_path)
    dataset = KittiDataset(data)
    frames = dataset.frame_ids(split)
    mine = frames[ctx.rank::ctx.world_size]
    frame_of = frustums.arrays["frame_id"]
    indices = np.flatnonzero(np.isin(frame_of, mine))
    pred = predict(model, frustums, cfg, ctx.device, indices, method, progress=ctx.is_main)
    rows_by_frame: dict[int, list[int]] = {}
    for row, s in enumerate(pred.sample):
        rows_by_frame.setdefault(int(frame_of[s]), []).append(row)
    source = read_manifest(frustums_path) or {}
    points, depth_dir = source.get("point_source", "lidar"), source.get("inputs", {}).get("depth_dir", "depth_2")
    filled = 0
    for frame in tqdm(mine, desc="labels", unit="frame", disable=not ctx.is_main):
        rows = np.array(rows_by_frame.get(frame, []), np.int64)
        labels = frame_labels(pred, frustums, rows, method, cfg.test.nms_thresh) if len(rows) else []
        if fill:
            extra = fill_frame(dataset, frame, labels, points, depth_dir)
            labels, filled = labels + extra, filled + len(extra)
        write_labels(output / "data" / f"{frame:06d}.txt", labels, decimals=PREDICTION_DECIMALS)
    if fill:
        print(f"rank {ctx.rank}: {filled} geometric boxes for 2D boxes without a prediction")
    barrier(ctx)
    if not ctx.is_main:
        return None
    result = evaluate_dirs(Path(data) / "training" / "label_2", output / "data", [f"{f:06d}" for f in frames])
    write_json(output / report_name, result)
    print(format_table(result))
    return result
