"""How well the box score ranks box quality: Spearman correlation between score and true 3D IoU (evaluation only).

    python benchmarks/score_rank_bench.py --data DATA --pred STEP/_last_val/data [--split val] [--classes Car]
    python benchmarks/score_rank_bench.py --data DATA --weights STEP/model_final.pth \\
        --frustums STEP/frustums_val.npz [--split val] [--classes Car]

``--pred``: KITTI prediction files (16 columns, last = score) of any model; each box is matched to the ground-truth
object of the same class with the same 2D box (2D IoU >= 0.99: inference writes the input 2D box). ``--weights``:
runs the model on the frustum set's samples of ``--split`` (method ``top``, no augmentation) and also prints the
Spearman correlation of each factor of the ``quality`` score (:mod:`train.inference`): ``fg``, ``quality``,
``agreement`` and their products (``--set test.window=false`` etc. override the checkpoint's inference
settings); the box of sample ``i`` is compared with line ``label_line[i]`` of its label_2
file. Both print, per class, the number of boxes, Spearman(score, IoU), the share of boxes with IoU >= 0.7 and the
median signed depth error (predicted minus true rect z of the box centre, metres: > 0 = too far).

Ground-truth 3D boxes are read here, for reporting only; nothing is selected with them.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

import ops
from kitti import geometry as g
from kitti.io.dataset import KittiDataset
from kitti.io.labels import read_labels
from kitti.priors import CLASSES


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``x`` (ties get their average rank)."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(1, len(x) + 1)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return (sums / counts)[inverse]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two equal-length samples (NaN for fewer than 3 values or a constant one)."""
    if len(a) < 3:
        return float("nan")
    ra, rb = rankdata(np.asarray(a, np.float64)), rankdata(np.asarray(b, np.float64))
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def report(name: str, iou: np.ndarray, dz: np.ndarray, scores: dict[str, np.ndarray]) -> None:
    cells = "  ".join(f"rho({k})={spearman(v, iou):+.3f}" for k, v in scores.items())
    print(f"{name:<10} n={len(iou):4d}  IoU>=0.7: {np.mean(iou >= 0.7):.3f}  median dz={np.median(dz):+.2f} m  "
          f"{cells}")


def from_predictions(dataset: KittiDataset, pred_dir: Path, frames: list[int], classes: list[str]) -> None:
    rows: dict[str, list[tuple[float, float, float]]] = {c: [] for c in classes}
    for frame in frames:
        path = pred_dir / f"{frame:06d}.txt"
        preds = read_labels(path) if path.is_file() else []
        gts = dataset.labels(frame)
        for p in preds:
            same = [t for t in gts if t.type == p.type]
            if p.type not in rows or not same:
                continue
            iou2d = g.box2d_iou(np.array(p.box2d), np.array([t.box2d for t in same]))[0]
            best = int(np.argmax(iou2d))
            if iou2d[best] < 0.99:
                continue
            t = same[best]
            iou = float(ops.iou_3d_pairs(p.box3d[None].astype(np.float64), t.box3d[None].astype(np.float64))[0])
            rows[p.type].append((float(p.score), iou, float(p.location[2] - t.location[2])))
    for c in classes:
        if rows[c]:
            score, iou, dz = (np.array(v) for v in zip(*rows[c]))
            report(c, iou, dz, {"score": score})


def from_model(dataset: KittiDataset, weights: Path, frustums_path: Path, frames: list[int],
               classes: list[str], overrides: list[str]) -> None:
    from kitti.frustum.store import FrustumSet
    from train.config import apply_override, config_from_dict
    from train.inference import load_model, predict
    model, cfg, _ = load_model(weights, torch.device("cpu"))
    raw = cfg.to_dict()
    for item in overrides:
        apply_override(raw, item)
    cfg = config_from_dict(raw, "--set")
    frustums = FrustumSet.load(frustums_path)
    a = frustums.arrays
    indices = np.flatnonzero(np.isin(a["frame_id"], frames))
    pred = predict(model, frustums, cfg, torch.device("cpu"), indices, "top")
    gt_box = np.zeros((len(pred.sample), 7))
    for k, s in enumerate(pred.sample):
        gt_box[k] = dataset.labels(int(a["frame_id"][s]))[int(a["label_line"][s]) - 1].box3d
    iou = ops.iou_3d_pairs(pred.box.astype(np.float64), gt_box)
    dz = pred.box[:, 2] - gt_box[:, 2]
    print(f"model {weights}: test.score={cfg.test.score} test.window={cfg.test.window}")
    for c in classes:
        sel = a["class_id"][pred.sample] == CLASSES.index(c)
        if not sel.any():
            continue
        scores = {"score": pred.score[sel], "fg": pred.fg[sel], "agreement": pred.agreement[sel],
                  "fg*agreement": (pred.fg * pred.agreement)[sel]}
        if np.isfinite(pred.quality).all():
            scores.update({"quality": pred.quality[sel], "fg*quality": (pred.fg * pred.quality)[sel],
                           "fg*quality*agreement": (pred.fg * pred.quality * pred.agreement)[sel]})
        report(c, iou[sel], dz[sel], scores)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="KITTI root (training/label_2, ImageSets/)")
    parser.add_argument("--split", default="val")
    parser.add_argument("--classes", nargs="+", default=list(CLASSES), choices=CLASSES)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--pred", type=Path, help="directory of KITTI prediction files")
    source.add_argument("--weights", type=Path, help="checkpoint to run on --frustums")
    parser.add_argument("--frustums", type=Path, help="frustum set of the split (with --weights)")
    parser.add_argument("--set", dest="overrides", nargs="*", default=[], metavar="KEY=VALUE",
                        help="inference config overrides with --weights, e.g. test.window=false")
    args = parser.parse_args()
    dataset = KittiDataset(args.data)
    frames = dataset.frame_ids(args.split)
    if args.pred is not None:
        from_predictions(dataset, args.pred, frames, args.classes)
    else:
        if args.frustums is None:
            parser.error("--weights needs --frustums")
        from_model(dataset, args.weights, args.frustums, frames, args.classes, args.overrides)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
