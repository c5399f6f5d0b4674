"""Class constants and size priors of the auto-labeller (docs/design.md §5). All sizes are ``(l, w, h)`` metres.

* :data:`CLASSES` - network classes, index = ``class_id`` stored in frustum sets.
* :data:`MEAN_SIZE` / :data:`SIZE_STD` - mean-size anchors and the size-prior std of the size-prior loss.
* :data:`HEIGHT_PRIOR` - the class height (metres) used for every 2D-only depth estimate ``d = f_v * H / h_box``
  (replaces the ground-truth ``obj.h`` of the published step-0 code; docs/design.md §1).
* :data:`APP_POS` - offset (rect x, y, z metres) from the centroid of the frustum points in the depth window to the
  proxy's bottom-face centre (Cyclist y corrected, see below).
* :data:`FAKE_OBJECT_RANGE` - ``(ahead, behind)`` metres: the depth window is ``[d - behind, d + ahead]``
  (:data:`DEPTH_WINDOW_FRACTION`: the depth-relative variant, :func:`depth_window`).
* :data:`SIZE_COVARIANCE` / :func:`sample_size` - the shared size prior: one multivariate normal per class with the
  anchors as mean and :data:`SIZE_STD` as standard deviations, from which proxy sizes are drawn (replaces the
  published sub-category sampler, whose mean car was 4.35 x 1.84 x 1.57 m against the anchors' 3.88 x 1.63 x 1.53 m).
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
#: 1st and 99th percentiles (metres) of real KITTI sizes, per class and dimension ``(l, w, h)``: the range a fitted
#: size is clipped to (28,681 cars, 4,465 pedestrians and 1,615 cyclists of the label files of 7,462 KITTI training
#: frames, the 14 evaluation frames left out; ``benchmarks/label_priors.py``, see kitti/geometric/SOURCES.md)
SIZE_RANGE: dict[str, tuple[tuple[float, float], ...]] = {
    "Car": ((2.94, 4.89), (1.36, 1.88), (1.27, 1.97)),
    "Pedestrian": ((0.30, 1.32), (0.38, 0.96), (1.50, 1.97)),
    "Cyclist": ((1.19, 2.12), (0.34, 0.88), (1.44, 1.97)),
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

#: correlation of (l, w, h) per class: Car from the legacy sampler's KITTI covariance (docs/design.md §5,
#: [[0.1694, 0.0138, 0.0086], [0.0138, 0.0095, 0.0051], [0.0086, 0.0051, 0.0183]]); the published tables give only
#: standard deviations for Pedestrian and Cyclist, so their dimensions are independent
SIZE_CORRELATION: dict[str, np.ndarray] = {
    "Car": (lambda cov: cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov))))(
        np.array([[0.1694, 0.0138, 0.0086], [0.0138, 0.0095, 0.0051], [0.0086, 0.0051, 0.0183]])),
    "Pedestrian": np.eye(3),
    "Cyclist": np.eye(3),
}
#: the shared size prior: a multivariate normal per class over ``(l, w, h)`` metres with mean :data:`MEAN_SIZE` (the
#: anchors) and standard deviations :data:`SIZE_STD` (the size-prior loss), covariance ``D C D``
SIZE_COVARIANCE: dict[str, np.ndarray] = {
    c: np.outer(SIZE_STD[c], SIZE_STD[c]) * SIZE_CORRELATION[c] for c in CLASSES
}
#: proxy sizes are drawn inside this Mahalanobis radius of the prior (redrawn beyond it)
SIZE_TRUNCATION = 3.0
SIZE_MAX_DRAWS = 32
_SIZE_CHOLESKY = {c: np.linalg.cholesky(cov) for c, cov in SIZE_COVARIANCE.items()}


def sample_size(class_name: str, rng: np.random.Generator) -> np.ndarray:
    """Proxy size ``(l, w, h)`` metres (float64) from the shared prior ``N(MEAN_SIZE, SIZE_COVARIANCE)`` of the
    class, truncated at :data:`SIZE_TRUNCATION` (Mahalanobis; redrawn, the mean after :data:`SIZE_MAX_DRAWS`
    draws) and clipped at :data:`MIN_SIZE`."""
    mean, root = np.asarray(MEAN_SIZE[class_name]), _SIZE_CHOLESKY[class_name]
    for _ in range(SIZE_MAX_DRAWS):
        white = rng.standard_normal(3)
        if white @ white <= SIZE_TRUNCATION ** 2:
            return np.maximum(MIN_SIZE, mean + root @ white)
    return mean.copy()


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
