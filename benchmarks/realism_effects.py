"""The measured effects of the realism report's known differences on the labels
(``kitti/synthetic/known_differences.yaml``).

    python benchmarks/realism_effects.py --world W --real R --work DIR

``DIR`` is the ``--work`` directory of ``python -m kitti.synthetic.realism`` on the same roots (its ``real/`` and
``world/`` label sets are read, nothing is labelled here). Each object of Car, Pedestrian and Cyclist of both roots
gets its realism measurements (:func:`kitti.synthetic.realism.frame_measurements`) and the 3D IoU and errors of the
label paired with it (:func:`kitti.eval.pairing.pair_by_2d_iou`, as in the error budget). An effect is the
labeller's figure on the world before and after weighting the world's objects so that one statistic equals the real
frames' (or the KITTI label files'), on the same labels: what the figure would be if the world had the real
statistic and fitted each kind of object as it does now. Evaluation only: reads the roots' full labels.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

import numpy as np

from kitti.eval.annos import load_dirs
from kitti.eval.budget import DISTANCE_BINS, ClassPairs
from kitti.eval.distance import bin_name
from kitti.io.dataset import KittiDataset
from kitti.synthetic.kitti_stats import load_reference
from kitti.synthetic.realism import CLASSES, frame_measurements

Table = dict[str, np.ndarray]
BINS = [(bin_name(b), b) for b in DISTANCE_BINS]


def object_table(root: Path, work: Path) -> Table:
    """Per object of :data:`CLASSES` (class by class, frames in order, label order): realism measurements,
    ``frame``, ``iou`` (NaN without a paired label) and the pair's errors (:func:`kitti.eval.box_errors.pair_errors`),
    paired as in the error budget (:class:`kitti.eval.budget.ClassPairs`)."""
    dataset = KittiDataset(root)
    frames = dataset.frame_ids(None)
    _, gt, pred = load_dirs(work / "view" / "training" / "label_2", work / "labels", frames)
    measured = [(frame, obj) for frame in frames for obj in frame_measurements(dataset, frame)[0]]
    rows: list[dict[str, float | str]] = []
    for cls in CLASSES:
        pairs = ClassPairs(cls, gt, pred)
        paired = {"iou": pairs.iou_3d(), **pairs.errors()}
        mine = [(frame, obj) for frame, obj in measured if obj["cls"] == cls]
        for j, (frame, obj) in enumerate(mine):
            rows.append({**obj, "frame": frame, **{key: float(v[j]) for key, v in paired.items()}})
    keys = dict.fromkeys(key for row in rows for key in row)
    return {key: np.array([row.get(key, np.nan) for row in rows]) for key in keys}


def share(t: Table, mask: np.ndarray, threshold: float, weights: np.ndarray | None = None) -> float:
    """Weighted share of the paired objects in ``mask`` at 3D IoU >= ``threshold``."""
    w = np.ones(len(t["iou"])) if weights is None else weights
    m = mask & np.isfinite(t["iou"])
    return float(np.sum(w[m] * (t["iou"][m] >= threshold)) / np.sum(w[m]))


def reweight(t: Table, groups: list[tuple[np.ndarray, list[np.ndarray], list[float]]]) -> np.ndarray:
    """Weights making, within each ``(mask, categories, target shares)``, the share of each category (boolean masks
    within ``mask``) equal its target."""
    w = np.ones(len(t["iou"]))
    for mask, categories, targets in groups:
        for category, target in zip(categories, targets):
            m = mask & category
            if m.any():
                w[m] = target / (m.sum() / mask.sum())
    return w


def in_bin(t: Table, bounds: tuple[float, float]) -> np.ndarray:
    return (t["distance"] >= bounds[0]) & (t["distance"] < bounds[1])


def _median(t: Table, mask: np.ndarray, key: str) -> float:
    return float(np.nanmedian(t[key][mask]))


def effects(real: Table, world: Table) -> list[str]:
    """One line per known difference: the labeller's figure on the world before -> after weighting."""
    reference = load_reference()
    car, rcar = world["cls"] == "Car", real["cls"] == "Car"
    ped, rped = world["cls"] == "Pedestrian", real["cls"] == "Pedestrian"
    cyc, rcyc = world["cls"] == "Cyclist", real["cls"] == "Cyclist"
    lines = []

    def occlusion(target: Callable[[str, tuple[float, float]], tuple[float, float]]) -> np.ndarray:
        groups = []
        for name, bounds in BINS[:2]:
            occ, (ge1, ge2) = world["occlusion"], target(name, bounds)
            groups.append((car & in_bin(world, bounds), [occ == 0, occ == 1, occ >= 2], [1 - ge1, ge1 - ge2, ge2]))
        return reweight(world, groups)

    def real_occlusion(name: str, bounds: tuple[float, float]) -> tuple[float, float]:
        occ = real["occlusion"][rcar & in_bin(real, bounds)]
        return float(np.mean(occ >= 1)), float(np.mean(occ >= 2))

    def kitti_occlusion(name: str, bounds: tuple[float, float]) -> tuple[float, float]:
        return reference["Car"][name]["occluded >= 1"], reference["Car"][name]["occluded >= 2"]

    base = share(world, car, 0.7)
    to_real, to_kitti = occlusion(real_occlusion), occlusion(kitti_occlusion)
    lines.append(f"near-car-occlusion: Car share >= 0.7 {base:.3f} -> {share(world, car, 0.7, to_real):.3f} (real "
                 f"levels at 0-20 m), {share(world, car, 0.7, to_kitti):.3f} (KITTI's)")
    far = rcar & in_bin(real, (30.0, 40.0)) & (real["truncation"] > 0.1)
    lines.append(f"truncated-car-30-40m: real cars {int(far.sum())}, IoU {np.round(real['iou'][far], 2).tolist()}; "
                 f"real Car share >= 0.7 {share(real, rcar, 0.7):.3f} -> {share(real, rcar & ~far, 0.7):.3f} without "
                 "them")
    ped_bins = [in_bin(world, bounds) for _, bounds in BINS]
    to_real = reweight(world, [(ped, ped_bins, [float(np.mean(in_bin(real, b)[rped])) for _, b in BINS])])
    to_kitti = reweight(world, [(ped, ped_bins, [reference["Pedestrian"][n]["share of the class in bin"]
                                                 for n, _ in BINS])])
    lines.append(f"pedestrian-distance-mix: Pedestrian share >= 0.5 {share(world, ped, 0.5):.3f} -> "
                 f"{share(world, ped, 0.5, to_real):.3f} (real mix), {share(world, ped, 0.5, to_kitti):.3f} (KITTI's)")
    mid, rmid = ped & in_bin(world, (20.0, 30.0)), rped & in_bin(real, (20.0, 30.0))
    enough = mid & (world["points"] >= real["points"][rmid].min())
    w = np.ones(len(world["iou"]))
    w[mid & ~enough], w[enough] = 0.0, mid.sum() / max(int(enough.sum()), 1)
    lines.append(f"pedestrian-points-20-30m: at 20-30 m share >= 0.5 {share(world, mid, 0.5):.3f} -> "
                 f"{share(world, enough, 0.5):.3f} ({int(enough.sum())} of {int(mid.sum())} with >= the real minimum "
                 f"of points); all distances {share(world, ped, 0.5):.3f} -> {share(world, ped, 0.5, w):.3f}")
    for name, cls, rcls, key, cut, threshold in (("car-point-span", car, rcar, "extent_l", 0.9, 0.7),
                                                 ("car-top-third", car, rcar, "band_top", 0.181, 0.7),
                                                 ("pedestrian-point-span", ped, rped, "extent_w", 0.85, 0.5)):
        has, rhas = cls & np.isfinite(world[key]), rcls & np.isfinite(real[key])
        below, target = world[key] < cut, float(np.mean(real[key][rhas] < cut))
        w = reweight(world, [(has, [below, ~below], [target, 1 - target])])
        lines.append(f"{name}: share of {key} < {cut} real {target:.2f}, world {np.mean(below[has]):.2f}; share >= "
                     f"{threshold} {share(world, cls, threshold):.3f} -> {share(world, cls, threshold, w):.3f}")
    lines.append(f"car-point-span: length ratio real {_median(real, rcar, 'l_ratio'):.3f}, world "
                 f"{_median(world, car, 'l_ratio'):.3f}; width ratio {_median(real, rcar, 'w_ratio'):.3f} / "
                 f"{_median(world, car, 'w_ratio'):.3f}")
    lines.append(f"cyclist-shape: median 3D IoU real {_median(real, rcyc, 'iou'):.3f}, world "
                 f"{_median(world, cyc, 'iou'):.3f}; share >= 0.7 {share(real, rcyc, 0.7):.3f} / "
                 f"{share(world, cyc, 0.7):.3f}")
    for side, t, mask in (("world", world, ped), ("real", real, rped)):
        off = np.abs(t["heading_mod_pi_deg"]) >= 30.0
        lines.append(f"pedestrian-heading: {side} share >= 0.5 with heading error < 30 deg "
                     f"{share(t, mask & ~off, 0.5):.3f}, >= 30 deg {share(t, mask & off, 0.5):.3f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", required=True, type=Path)
    parser.add_argument("--real", required=True, type=Path)
    parser.add_argument("--work", required=True, type=Path, help="the realism report's --work directory")
    args = parser.parse_args()
    for line in effects(object_table(args.real, args.work / "real"), object_table(args.world, args.work / "world")):
        print(line)


if __name__ == "__main__":
    main()
