"""Average precision from the 41-point monotone precision curve, in percent."""
from __future__ import annotations

import numpy as np

from kitti.eval.protocol import N_SAMPLE_PTS


def ap_r11(curve: np.ndarray) -> float:
    """AP at 11 recall points: mean of entries 0, 4, ..., 40 (the recall-0 point included), times 100."""
    total = 0.0
    for i in range(0, N_SAMPLE_PTS, 4):
        total += float(curve[i])
    return total / 11 * 100


def ap_r40(curve: np.ndarray) -> float:
    """AP at 40 recall points: mean of entries 1..40 (the recall-0 point excluded), times 100."""
    total = 0.0
    for i in range(1, N_SAMPLE_PTS):
        total += float(curve[i])
    return total / 40 * 100
