"""Monocular depth error model (``--depth-error mono``) applied to a clean camera-2 depth map (metres, 0 = none).

In order:

1. flying pixels: within ``EDGE_PX`` pixels of a depth discontinuity (neighbouring depths differing by > 10 %)
   the depth is replaced by the local mean over a ``(2 EDGE_PX + 1)^2`` window of valid pixels, which mixes
   foreground and background as monocular networks do at object edges;
2. a global scale error per frame, ``scale ~ N(1, SCALE_SIGMA)`` (clipped to [0.85, 1.15]);
3. distance-dependent noise ``sigma(d) = SIGMA_A * d + SIGMA_B * d^2`` metres, spatially correlated: ``sigma(d) *
   (0.8 n_smooth + 0.6 n_white)`` with ``n_smooth`` a bicubically upsampled coarse (12 x 40) N(0, 1) field.

The result keeps 0 where the clean depth is 0 and is at least 0.1 m elsewhere. ``depth_noisy ~ scale * depth``
on average; the parameters are returned for storage next to the map.
"""
from __future__ import annotations

import cv2
import numpy as np

SCALE_SIGMA = 0.05
SIGMA_A = 0.01
SIGMA_B = 0.001
EDGE_PX = 2


def apply_mono_error(depth: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Noisy float32 copy of ``depth (H, W)`` and the parameters used (0-d float64 arrays ``mono_*``)."""
    depth = np.asarray(depth, dtype=np.float32)
    valid = depth > 0
    k = 2 * EDGE_PX + 1
    kernel = np.ones((3, 3), np.uint8)
    big = np.where(valid, depth, 0).astype(np.float32)
    local_max = cv2.dilate(big, kernel)
    local_min = cv2.erode(np.where(valid, depth, np.float32(1e6)), kernel)
    edges = valid & (local_max > 1.1 * local_min)
    edges = cv2.dilate(edges.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool) & valid
    total = cv2.blur(big, (k, k))
    weight = cv2.blur(valid.astype(np.float32), (k, k))
    smeared = np.where(edges, total / np.maximum(weight, 1e-6), depth)
    scale = float(np.clip(rng.normal(1.0, SCALE_SIGMA), 0.85, 1.15))
    h, w = depth.shape
    smooth = cv2.resize(rng.normal(size=(12, 40)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    white = rng.normal(size=(h, w)).astype(np.float32)
    sigma = SIGMA_A * smeared + SIGMA_B * smeared ** 2
    noisy = scale * smeared + sigma * (0.8 * smooth + 0.6 * white)
    noisy = np.where(valid, np.maximum(noisy, 0.1), 0.0).astype(np.float32)
    params = {"mono_scale": scale, "mono_sigma_a": SIGMA_A, "mono_sigma_b": SIGMA_B, "mono_edge_px": float(EDGE_PX)}
    return noisy, {name: np.asarray(value, dtype=np.float64) for name, value in params.items()}
