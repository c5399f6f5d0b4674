"""benchmarks/realism_effects.py: the weighting that measures a known difference's effect, on a hand-made table."""
from __future__ import annotations

import numpy as np
import pytest

from benchmarks.realism_effects import reweight, share


def test_weighting_moves_the_share_to_the_target_mix() -> None:
    # 10 objects: 2 occluded ones fitted badly (IoU 0.4), 8 unoccluded ones well (0.8); one more without a label
    table = {"iou": np.array([0.4, 0.4] + [0.8] * 8 + [np.nan]), "occlusion": np.array([1, 1] + [0] * 8 + [1])}
    everything = np.ones(11, dtype=bool)
    assert share(table, everything, 0.7) == pytest.approx(0.8)  # the unlabelled object is not counted
    occluded = table["occlusion"] >= 1
    half = reweight(table, [(everything, [occluded, ~occluded], [0.5, 0.5])])
    # the categories are counted over every object (3 occluded of 11), the share over the labelled ones
    occluded_weight, clear_weight = 0.5 / (3 / 11), 0.5 / (8 / 11)
    expected = 8 * clear_weight / (8 * clear_weight + 2 * occluded_weight)
    assert share(table, everything, 0.7, half) == pytest.approx(expected)
    same = reweight(table, [(everything, [occluded, ~occluded], [3 / 11, 8 / 11])])
    assert np.allclose(same, 1.0)
