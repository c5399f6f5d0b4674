"""Difficulty filtering (the devkit's ``cleanData``): per-object flags for one class and difficulty level.

Flags: 0 = evaluated, 1 = ignored (neither TP nor FN / not an FP, but may absorb a match), -1 = not part of this
class's evaluation. ``names`` are lower-case class names; boxes are ``x1, y1, x2, y2`` image_2 pixels.
"""
from __future__ import annotations

import numpy as np

from kitti.eval.protocol import MAX_OCCLUSION, MAX_TRUNCATION, MIN_HEIGHT, NEIGHBOUR_CLASS


def gt_flags(names: np.ndarray, bbox: np.ndarray, occluded: np.ndarray, truncated: np.ndarray, cls: str,
             difficulty: int) -> np.ndarray:
    """Ground-truth flags: 0 for a box of ``cls`` within the limits of ``difficulty``; 1 for a box of ``cls`` outside
    them (occlusion or truncation above the maximum, or height ``<=`` the minimum height: the devkit rule) and for
    every box of the neighbour class (Van for Car, Person_sitting for Pedestrian); -1 for everything else."""
    own = names == cls.lower()
    neighbour = NEIGHBOUR_CLASS[cls]
    is_neighbour = names == neighbour.lower() if neighbour else np.zeros(names.shape, dtype=bool)
    height = bbox[:, 3] - bbox[:, 1]
    outside = ((occluded > MAX_OCCLUSION[difficulty]) | (truncated > MAX_TRUNCATION[difficulty])
               | (height <= MIN_HEIGHT[difficulty]))
    flags = np.full(names.shape, -1, dtype=np.int64)
    flags[is_neighbour | (own & outside)] = 1
    flags[own & ~outside] = 0
    return flags


def dt_flags(names: np.ndarray, bbox: np.ndarray, cls: str, difficulty: int) -> np.ndarray:
    """Detection flags: 1 for *any* detection lower than the minimum height (``<``; whatever its class), else 0 for a
    detection of ``cls`` and -1 for other classes. Truncation and occlusion of detections are never read."""
    height = np.abs(bbox[:, 3] - bbox[:, 1])
    flags = np.where(names == cls.lower(), 0, -1).astype(np.int64)
    flags[height < MIN_HEIGHT[difficulty]] = 1
    return flags


def may_be_ignored_detection(bbox: np.ndarray) -> np.ndarray:
    """Detections lower than the largest minimum height: flag 1 at some difficulty whatever their class."""
    return np.abs(bbox[:, 3] - bbox[:, 1]) < max(MIN_HEIGHT)
