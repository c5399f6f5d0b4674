"""The constants of the KITTI object-detection protocol (devkit ``evaluate_object.cpp``).

Difficulty levels are cumulative: index 0 = Easy, 1 = Moderate, 2 = Hard. Heights are 2D box heights
``y2 - y1`` in image_2 pixels; truncation is the KITTI fraction in [0, 1]; occlusion the KITTI level 0..3.
"""
from __future__ import annotations

from kitti.priors import CLASSES

DIFFICULTIES: tuple[str, ...] = ("easy", "moderate", "hard")
#: a ground-truth box is ignored when ``height <= MIN_HEIGHT`` (devkit rule), a detection when ``height < MIN_HEIGHT``
MIN_HEIGHT: tuple[float, ...] = (40.0, 25.0, 25.0)
MAX_OCCLUSION: tuple[int, ...] = (0, 1, 2)
MAX_TRUNCATION: tuple[float, ...] = (0.15, 0.30, 0.50)

#: the classes with official overlap thresholds, in the order of the threshold tables below (the auto-labeller's)
EVAL_CLASSES: tuple[str, ...] = CLASSES
#: ground-truth class that is neither TP nor FN for the evaluated class (and absorbs its detections)
NEIGHBOUR_CLASS: dict[str, str | None] = {"Car": "Van", "Pedestrian": "Person_sitting", "Cyclist": None}
DONTCARE = "DontCare"

#: metric keys of the result dicts; AOS is computed on the 2D matches and so shares the 2D thresholds
METRICS: tuple[str, ...] = ("2d", "bev", "3d")
#: minimum overlap (strictly greater than) per threshold set, metric and class (second.pytorch / OpenPCDet tables)
MIN_OVERLAP: dict[str, dict[str, dict[str, float]]] = {
    "strict": {
        "2d": {"Car": 0.7, "Pedestrian": 0.5, "Cyclist": 0.5},
        "bev": {"Car": 0.7, "Pedestrian": 0.5, "Cyclist": 0.5},
        "3d": {"Car": 0.7, "Pedestrian": 0.5, "Cyclist": 0.5},
    },
    "loose": {
        "2d": {"Car": 0.7, "Pedestrian": 0.5, "Cyclist": 0.5},
        "bev": {"Car": 0.5, "Pedestrian": 0.25, "Cyclist": 0.25},
        "3d": {"Car": 0.5, "Pedestrian": 0.25, "Cyclist": 0.25},
    },
}

#: points of the precision curve (recall 0, 1/40, ..., 1)
N_SAMPLE_PTS = 41
#: alpha value KITTI writes when the observation angle is unknown (then AOS is not computed)
ALPHA_UNKNOWN = -10.0


def canonical_class(name: str) -> str:
    """Map a class name (any case) to its canonical spelling in :data:`EVAL_CLASSES`; ValueError if unsupported."""
    for cls in EVAL_CLASSES:
        if cls.lower() == name.lower():
            return cls
    raise ValueError(f"cannot evaluate class {name!r}: supported classes are {', '.join(EVAL_CLASSES)}")
