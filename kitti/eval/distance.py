"""AP by distance bin (reporting): how well objects at 0-20, 20-40 and 40+ m are found.

For a bin, ground-truth objects of the class outside it are turned into the class's neighbour (Van for Car,
Person_sitting for Pedestrian), which the protocol ignores: a detection on them is neither TP nor FP and they are
not missed. Detections outside the bin are dropped. Distance = ``hypot(x, z)`` of the bottom-face centre (rect
frame, metres). Classes without a neighbour (Cyclist) cannot be binned this way and are not supported.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from kitti.eval.annos import Anno
from kitti.eval.evaluate import Result, evaluate
from kitti.eval.protocol import NEIGHBOUR_CLASS, canonical_class

DISTANCE_BINS: tuple[tuple[float, float], ...] = ((0.0, 20.0), (20.0, 40.0), (40.0, float("inf")))


def bin_name(bounds: tuple[float, float]) -> str:
    lo, hi = bounds
    return f"{lo:g}-{hi:g} m" if np.isfinite(hi) else f"{lo:g}+ m"


def _distance(anno: Mapping[str, np.ndarray]) -> np.ndarray:
    location = np.asarray(anno["location"], dtype=np.float64).reshape(-1, 3)
    return np.hypot(location[:, 0], location[:, 2])


def evaluate_by_distance(gt_annos: Sequence[Anno], dt_annos: Sequence[Anno], cls: str = "Car",
                         bins: Sequence[tuple[float, float]] = DISTANCE_BINS,
                         metrics: Sequence[str] = ("bev", "3d")) -> dict[str, Result]:
    """``{bin name: evaluate(...) result}`` for one class (Car or Pedestrian), ground truth and detections
    restricted to each distance bin as described in the module docstring."""
    cls = canonical_class(cls)
    neighbour = NEIGHBOUR_CLASS[cls]
    if neighbour is None:
        raise ValueError(f"{cls} has no neighbour class, so it cannot be evaluated by distance bin")
    results: dict[str, Result] = {}
    for lo, hi in bins:
        gts, dts = [], []
        for gt, dt in zip(gt_annos, dt_annos):
            names = np.array(gt["name"], dtype=object)
            inside = (_distance(gt) >= lo) & (_distance(gt) < hi)
            outside = (np.char.lower(names.astype(str)) == cls.lower()) & ~inside
            gts.append({**gt, "name": np.where(outside, neighbour, names).astype(str)})
            keep = (_distance(dt) >= lo) & (_distance(dt) < hi)
            dts.append({key: np.asarray(value)[keep] for key, value in dt.items()})
        results[bin_name((lo, hi))] = evaluate(gts, dts, classes=(cls,), metrics=metrics)
    return results
