"""Dense metric depth maps (``depth_2/%06d.npz``): key ``depth``, float32 ``(H, W)``, metres along the camera-2 axis.

Optional keys: ``intrinsics`` (3x3), ``extrinsics`` (3x4), ``sky`` (bool/float ``(H, W)``), ``conf`` (``(H, W)``).
Invalid pixels (no surface, e.g. sky) hold 0. Loaded with ``allow_pickle=False``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from kitti.atomic import atomic_save_npz, read_npz
from kitti.errors import KittiFormatError


def read_depth(path: str | Path, expected_shape: tuple[int, int] | None = None) -> dict[str, np.ndarray]:
    """Load a depth ``.npz``; ``depth`` is checked to be a 2D array of numbers, finite and non-negative (and of
    ``expected_shape``); an optional ``sky`` or ``conf`` map must have the shape of ``depth``."""
    path = Path(path)
    arrays = read_npz(path, "depth file")
    if "depth" not in arrays:
        raise KittiFormatError(path, f"missing array 'depth' (found {sorted(arrays)})")
    depth = arrays["depth"]
    if not (np.issubdtype(depth.dtype, np.floating) or np.issubdtype(depth.dtype, np.integer)):
        raise KittiFormatError(path, f"'depth' must hold numbers (metres), got dtype {depth.dtype}")
    if depth.ndim != 2:
        raise KittiFormatError(path, f"'depth' must be (H, W), got shape {depth.shape}")
    if expected_shape is not None and depth.shape != tuple(expected_shape):
        raise KittiFormatError(path, f"'depth' has shape {depth.shape}, expected the image size "
                                     f"{tuple(expected_shape)}")
    if not np.isfinite(depth).all() or (depth < 0).any():
        raise KittiFormatError(path, "'depth' must be finite and >= 0 (0 marks pixels without depth)")
    for name in ("sky", "conf"):
        if name in arrays and arrays[name].shape != depth.shape:
            raise KittiFormatError(path, f"'{name}' has shape {arrays[name].shape}, expected the depth's {depth.shape}")
    arrays["depth"] = depth.astype(np.float32, copy=False)
    return arrays


def write_depth(path: str | Path, depth: np.ndarray, **extra: np.ndarray) -> None:
    """Write a depth map (float32 metres, 0 = no depth) and optional extra arrays atomically."""
    depth = np.asarray(depth, dtype=np.float32)
    if depth.ndim != 2:
        raise ValueError(f"write_depth: expected (H, W) depth, got shape {depth.shape}")
    atomic_save_npz(path, True, depth=depth, **extra)
