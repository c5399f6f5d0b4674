"""Random but realistic ground-truth / prediction annos for evaluator tests and benchmarks (not KITTI data).

Objects are placed in the rect camera frame in front of a KITTI-like camera (focal 720 px, principal point
(610, 180)); 2D boxes are the approximate projections, so far objects fall below the minimum heights. Detections are
noisy copies of ground-truth objects (scores rounded to 0.01, so ties occur; including Van / Person_sitting, some
duplicated, some with the wrong class) plus random false positives.
"""
from __future__ import annotations

import numpy as np

from kitti.eval.annos import Anno
from kitti.eval.protocol import EVAL_CLASSES

_FOCAL, _CU, _CV = 720.0, 610.0, 180.0
#: mean (h, w, l) metres per class
_SIZES: dict[str, tuple[float, float, float]] = {
    "Car": (1.52, 1.63, 3.88), "Van": (2.2, 1.9, 5.1), "Truck": (3.2, 2.5, 10.0), "Pedestrian": (1.76, 0.66, 0.84),
    "Person_sitting": (1.27, 0.54, 0.8), "Cyclist": (1.74, 0.6, 1.76), "Misc": (1.9, 1.5, 3.6),
}


def _wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


def _objects(rng: np.random.Generator, names: list[str], loc: np.ndarray, dims: np.ndarray, ry: np.ndarray) -> Anno:
    x, y, z = loc[:, 0], loc[:, 1], loc[:, 2]
    h = dims[:, 0]
    half_w = _FOCAL * (dims[:, 2] * np.abs(np.cos(ry)) + dims[:, 1] * np.abs(np.sin(ry))) / (2 * z)
    u = _CU + _FOCAL * x / z
    v_top, v_bottom = _CV + _FOCAL * (y - h) / z, _CV + _FOCAL * y / z
    bbox = np.stack([np.clip(u - half_w, 0, 1241), v_top, np.clip(u + half_w, 0, 1241), np.maximum(v_bottom, v_top)], 1)
    bbox[:, 2] = np.maximum(bbox[:, 2], bbox[:, 0])
    n = len(names)
    return {
        "name": np.array(names, dtype=str).reshape(n), "truncated": rng.choice([0.0, 0.0, 0.1, 0.2, 0.4, 0.7], n),
        "occluded": rng.choice([0, 0, 1, 1, 2, 3], n).astype(np.int64), "alpha": _wrap(ry - np.arctan2(x, z)),
        "bbox": bbox, "dimensions": dims, "location": loc, "rotation_y": ry, "score": np.zeros(n),
    }


def _concat(parts: list[Anno]) -> Anno:
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def synthetic_frame(rng: np.random.Generator, gt_per_class: float = 4.0,
                    dt_per_class: float = 10.0) -> tuple[Anno, Anno]:
    """One frame: ``(ground truth, detections)`` annos with about ``gt_per_class`` GT boxes of each of Car,
    Pedestrian and Cyclist (plus Van, Person_sitting, Truck, Misc and DontCare boxes) and about ``dt_per_class``
    detections of each class."""
    names: list[str] = []
    for cls in EVAL_CLASSES:
        names += [cls] * int(rng.poisson(gt_per_class))
    names += list(rng.choice(["Van", "Person_sitting", "Truck", "Misc"], int(rng.poisson(1.5))))
    n = len(names)
    dims = np.array([_SIZES[c] for c in names]).reshape(n, 3) * rng.uniform(0.85, 1.15, (n, 3))
    loc = np.stack([rng.uniform(-12, 12, n), rng.normal(1.65, 0.1, n), rng.uniform(4, 60, n)], 1)
    gt = _objects(rng, names, loc, dims, rng.uniform(-np.pi, np.pi, n))
    n_dc = int(rng.poisson(1.0))
    x1, y1 = rng.uniform(0, 1100, n_dc), rng.uniform(120, 250, n_dc)
    dontcare = {
        "name": np.array(["DontCare"] * n_dc, dtype=str).reshape(n_dc), "truncated": np.full(n_dc, -1.0),
        "occluded": np.full(n_dc, -1, dtype=np.int64), "alpha": np.full(n_dc, -10.0),
        "bbox": np.stack([x1, y1, x1 + rng.uniform(10, 120, n_dc), y1 + rng.uniform(10, 80, n_dc)], 1),
        "dimensions": np.full((n_dc, 3), -1.0), "location": np.full((n_dc, 3), -1000.0),
        "rotation_y": np.full(n_dc, -10.0), "score": np.zeros(n_dc),
    }
    gt = _concat([gt, dontcare])

    # detections: noisy copies of 80 % of the objects (10 % duplicated, 5 % with a confused class), then FPs
    keep = np.flatnonzero(rng.random(n) < 0.8)
    keep = np.concatenate([keep, keep[rng.random(keep.size) < 0.1]])
    dt_names = [names[i] if names[i] in _SIZES and names[i] not in ("Truck", "Misc") else "Car" for i in keep]
    dt_names = [{"Van": "Car", "Person_sitting": "Pedestrian"}.get(c, c) for c in dt_names]
    confused = rng.random(len(dt_names)) < 0.05
    dt_names = [str(rng.choice(EVAL_CLASSES)) if c else name for c, name in zip(confused, dt_names)]
    m = keep.size
    loc_d = loc[keep] + rng.normal(0, 1, (m, 3)) * np.array([0.04, 0.03, 0.08]) * (1 + loc[keep, 2:3] / 30)
    loc_d[:, 2] = np.maximum(loc_d[:, 2], 2.0)
    dims_d = dims[keep] * rng.uniform(0.95, 1.05, (m, 3))
    ry_d = gt["rotation_y"][keep] + rng.normal(0, 0.08, m) + np.pi * (rng.random(m) < 0.1)
    n_fp = max(0, int(rng.poisson(3 * dt_per_class)) - m)
    fp_names = [str(c) for c in rng.choice(EVAL_CLASSES, n_fp)]
    dims_fp = np.array([_SIZES[c] for c in fp_names]).reshape(n_fp, 3) * rng.uniform(0.85, 1.15, (n_fp, 3))
    loc_fp = np.stack([rng.uniform(-12, 12, n_fp), rng.normal(1.65, 0.1, n_fp), rng.uniform(4, 60, n_fp)], 1)
    dt = _objects(rng, dt_names + fp_names, np.concatenate([loc_d, loc_fp]), np.concatenate([dims_d, dims_fp]),
                  _wrap(np.concatenate([ry_d, rng.uniform(-np.pi, np.pi, n_fp)])))
    dt["score"] = np.round(np.concatenate([rng.uniform(0.3, 1.0, m), rng.uniform(0.0, 0.7, n_fp)]), 2)
    return gt, dt


def synthetic_annos(n_frames: int, seed: int = 0, gt_per_class: float = 4.0,
                    dt_per_class: float = 10.0) -> tuple[list[Anno], list[Anno]]:
    """``n_frames`` frames of :func:`synthetic_frame` (reproducible from ``seed``): ``(gt_annos, dt_annos)``."""
    rng = np.random.default_rng(seed)
    frames = [synthetic_frame(rng, gt_per_class, dt_per_class) for _ in range(n_frames)]
    return [g for g, _ in frames], [d for _, d in frames]
