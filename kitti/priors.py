"""Class constants and size priors of the auto-labeller (METHOD section 5). All sizes are ``(l, w, h)`` metres.

* :data:`CLASSES` - network classes, index = ``class_id`` stored in frustum sets.
* :data:`MEAN_SIZE` / :data:`SIZE_STD` - mean-size anchors and the size-prior std of the size-prior loss.
* :data:`HEIGHT_PRIOR` - the class height (metres) used for every 2D-only depth estimate ``d = f_v * H / h_box``
  (replaces the ground-truth ``obj.h`` of the published step-0 code; METHOD 8.6).
* :data:`APP_POS` - offset (rect x, y, z metres) from the centroid of the frustum points in the depth window to the
  proxy's bottom-face centre (Cyclist y corrected, see below).
* :data:`FAKE_OBJECT_RANGE` - ``(ahead, behind)`` metres: the depth window is ``[d - behind, d + ahead]``
  (:data:`DEPTH_WINDOW_FRACTION`: the depth-relative variant, :func:`depth_window`).
* :func:`sample_size` - proxy size sampler (Car and Pedestrian pick a sub-category first). The published people
  sub-categories are written ``(L, H, W)`` and were consumed as ``(l, w, h)`` (people 1.7 m wide, 0.7 m tall); here
  every table is stored in ``(l, w, h)`` order.
"""
from __future__ import annotations

import numpy as np

CLASSES: tuple[str, ...] = ("Car", "Pedestrian", "Cyclist")
CLASS_ID: dict[str, int] = {name: i for i, name in enumerate(CLASSES)}

MEAN_SIZE: dict[str, tuple[float, float, float]] = {
    "Car": (3.8831, 1.6286, 1.5256),
    "Pedestrian": (0.8442, 0.6607, 1.7626),
    "Cyclist": (1.7628, 0.5971, 1.7370),
}
SIZE_STD: dict[str, tuple[float, float, float]] = {
    "Car": (0.43, 0.10, 0.14),
    "Pedestrian": (0.22, 0.15, 0.09),
    "Cyclist": (0.22, 0.15, 0.09),
}
#: class height prior (metres); Car uses the legacy generator's 1.53 m, people the mean-size anchors
HEIGHT_PRIOR: dict[str, float] = {"Car": 1.53, "Pedestrian": MEAN_SIZE["Pedestrian"][2],
                                  "Cyclist": MEAN_SIZE["Cyclist"][2]}
APP_POS: dict[str, tuple[float, float, float]] = {
    "Car": (-0.1, 0.6, 0.8),
    "Pedestrian": (0.0, 0.8, 0.0),
    # published (-0.29, -0.7, -0.3): -0.7 puts the bottom face 0.7 m *above* the points' centroid (rect y points
    # down), so proxies floated ~1.4 m above the road (seen in our renders of real KITTI frames). A rider's points
    # centre at about mid-height like a pedestrian's, hence the pedestrian's +0.8.
    "Cyclist": (-0.29, 0.8, -0.3),
}
FAKE_OBJECT_RANGE: dict[str, tuple[float, float]] = {
    "Car": (4.0, 2.0),
    "Pedestrian": (1.5, 1.5),
    "Cyclist": (2.0, 2.0),
}
#: ``(behind, ahead)`` fractions of the depth estimate ``d`` for the depth-relative window. ``d`` scales with the
#: class height, whose spread is ~9 % (Car 0.14 / 1.53 m, :data:`SIZE_STD`): ~2 std behind; ahead also covers the box
#: centre lying half a length behind the near face that sets the 2D box height (Car ~0.5 l / d, still ~0.1 at 20 m)
DEPTH_WINDOW_FRACTION: dict[str, tuple[float, float]] = {
    "Car": (0.2, 0.3),
    "Pedestrian": (0.15, 0.15),
    "Cyclist": (0.15, 0.2),
}
#: minimum 2D box height (pixels) of a labelled object to make a frustum
MIN_HEIGHT_PX = 25.0
#: minimum number of frustum points inside the weak depth window (2D-only replacement of "points in the GT box")
MIN_POINTS = 5
#: smallest depth estimate (metres) at which an object is used (published: reject d <= 2 m)
MIN_DEPTH = 2.0
#: smallest sampled size component (metres)
MIN_SIZE = 0.1

#: (mean (l, w, h), std (l, w, h)) per sub-category. Car values as published (already (l, w, h)); people converted
#: from the published (L, H, W) to (l, w, h).
SUBCATEGORIES: dict[str, dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]]] = {
    "Car": {
        "City car": ((3.07, 1.76, 1.51), (0.72, 0.63, 0.03)),
        "Small car": ((3.07, 1.76, 1.51), (0.11, 0.03, 0.04)),
        "Compact car": ((4.22, 1.80, 1.50), (0.08, 0.02, 0.04)),
        "Family car": ((4.19, 2.10, 1.45), (0.85, 0.87, 0.04)),
        "Executive car": ((4.79, 1.85, 1.44), (0.05, 0.02, 0.03)),
        "Luxury car": ((4.99, 1.92, 1.42), (0.07, 0.02, 0.03)),
        "Sports car": ((4.31, 1.85, 1.28), (0.22, 0.08, 0.08)),
        "MPV": ((4.63, 1.81, 1.48), (0.04, 0.02, 0.03)),
        "Small SUV": ((4.70, 1.87, 1.76), (0.35, 0.07, 0.17)),
        "Compact SUV": ((3.93, 1.71, 1.53), (0.16, 0.06, 0.04)),
        "Mid-size SUV": ((4.23, 1.80, 1.56), (0.03, 0.01, 0.04)),
        "Large SUV": ((4.54, 1.83, 1.63), (0.03, 0.02, 0.03)),
        "Pick-up": ((4.73, 1.91, 1.68), (0.02, 0.04, 0.09)),
        "Passenger Van": ((5.35, 1.86, 1.83), (0.12, 0.03, 0.04)),
        "Estate car": ((4.43, 1.84, 1.84), (0.05, 0.02, 0.03)),
    },
    "Pedestrian": {
        "Pedestrian adult": ((0.70, 0.70, 1.73), (0.20, 0.20, 0.09)),
        "Pedestrian kid": ((0.70, 0.70, 1.52), (0.20, 0.20, 0.05)),
    },
    "Cyclist": {
        "Cyclist": ((1.80, 0.64, 1.73), (0.20, 0.20, 0.09)),
    },
}


def sample_size(class_name: str, rng: np.random.Generator) -> np.ndarray:
    """Proxy size ``(l, w, h)`` metres (float64): uniform sub-category, then ``N(mean, std)`` clipped at
    :data:`MIN_SIZE`."""
    subcategories = SUBCATEGORIES[class_name]
    names = list(subcategories)
    mean, std = subcategories[names[int(rng.integers(len(names)))]]
    return np.maximum(MIN_SIZE, rng.normal(mean, std))


def depth_estimate(class_name: str, box_height_px: float, focal_v: float) -> float:
    """2D-only depth estimate (metres, rect z): ``f_v * HEIGHT_PRIOR[class] / h_box``."""
    return float(focal_v * HEIGHT_PRIOR[class_name] / max(float(box_height_px), 1e-6))


def depth_window(class_name: str, box_height_px: float, focal_v: float,
                 relative: bool = False) -> tuple[float, float]:
    """Weak depth window ``(d_lo, d_hi)`` metres (rect z) around the estimate ``d`` of :func:`depth_estimate`:
    ``[d - behind, d + ahead]`` with :data:`FAKE_OBJECT_RANGE`; with ``relative`` each side grows with depth,
    ``behind = max(behind, f_b d)``, ``ahead = max(ahead, f_a d)`` (:data:`DEPTH_WINDOW_FRACTION`), since the
    height-prior estimate's error is a fraction of ``d``."""
    d = depth_estimate(class_name, box_height_px, focal_v)
    ahead, behind = FAKE_OBJECT_RANGE[class_name]
    if relative:
        frac_behind, frac_ahead = DEPTH_WINDOW_FRACTION[class_name]
        behind, ahead = max(behind, frac_behind * d), max(ahead, frac_ahead * d)
    return d - behind, d + ahead
