"""Velodyne scans (``velodyne/%06d.bin``): float32 ``(N, 4)`` rows ``x, y, z, intensity``, velodyne frame, metres."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from kitti.atomic import atomic_write_bytes
from kitti.errors import KittiFormatError


def read_velodyne(path: str | Path) -> np.ndarray:
    """Read a scan as float32 ``(N, 4)``; a size that is not a multiple of 16 bytes or a non-finite value is an
    error."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise KittiFormatError(path, "velodyne file not found") from None
    if not raw:
        raise KittiFormatError(path, "empty velodyne file (0 points; expected float32 x, y, z, intensity rows)")
    if len(raw) % 16:
        raise KittiFormatError(
            path, f"size {len(raw)} bytes is not a multiple of 16 (expected float32 x, y, z, intensity rows)")
    points = np.frombuffer(raw, dtype="<f4").reshape(-1, 4).astype(np.float32)
    bad = ~np.isfinite(points).all(axis=1)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise KittiFormatError(path, f"{int(bad.sum())} points with non-finite values (first at point {first})")
    return points


def write_velodyne(path: str | Path, points: np.ndarray) -> None:
    """Write an ``(N, 4)`` scan atomically as little-endian float32."""
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 4:
        raise ValueError(f"write_velodyne: expected (N, 4) points, got shape {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError("write_velodyne: points contain non-finite values")
    atomic_write_bytes(path, np.ascontiguousarray(points, dtype="<f4").tobytes())
