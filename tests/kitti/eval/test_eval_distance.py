"""AP by distance bin: objects outside a bin are ignored (not missed, not false positives)."""
from __future__ import annotations

import numpy as np
import pytest

from kitti.eval.annos import annos_from_labels
from kitti.eval.distance import evaluate_by_distance
from kitti.io.labels import ObjectLabel


def _car(z: float, score: float | None = None, x: float = 0.0) -> ObjectLabel:
    u = 600 + 700 * x / z
    return ObjectLabel("Car", 0.0, 0, (u - 1000 / z, 170, u + 1000 / z, 170 + 2000 / z), alpha=0.0,
                       dims=(1.5, 1.6, 3.9), location=(x, 1.7, z), ry=0.0, score=score)


def test_bins_ignore_objects_outside() -> None:
    near, mid = [_car(8.0 + i, x=-6 + 3 * i) for i in range(4)], [_car(30.0, x=-4), _car(30.0, x=4)]
    gt = [annos_from_labels(near + mid)]
    perfect = [annos_from_labels([_car(c.location[2], 0.9, c.location[0]) for c in near + mid])]
    result = evaluate_by_distance(gt, perfect, bins=((0.0, 20.0), (20.0, 40.0), (40.0, np.inf)))
    # perfect detections with n ground-truth boxes give R40 = (n - 1) / 40 (the official small-set cap)
    assert result["0-20 m"]["strict"]["Car"]["3d"]["R40"][0] == pytest.approx(3 / 40 * 100)
    assert result["20-40 m"]["strict"]["Car"]["3d"]["R40"][0] == pytest.approx(1 / 40 * 100)
    assert "Car" not in result["40+ m"]["strict"]  # no ground truth in that bin

    # a detection whose ground truth lies in another bin is no false positive of this bin
    shifted = [annos_from_labels([_car(c.location[2], 0.9, c.location[0]) for c in near]
                                 + [_car(19.5, 0.95, x=-4)])]  # inside 0-20 m, matches nothing there
    with_fp = evaluate_by_distance(gt, shifted, bins=((0.0, 20.0),))
    assert with_fp["0-20 m"]["strict"]["Car"]["3d"]["R40"][0] < 3 / 40 * 100


def test_class_without_neighbour_is_refused() -> None:
    with pytest.raises(ValueError, match="Cyclist has no neighbour"):
        evaluate_by_distance([], [], cls="Cyclist")
