"""Camera images (``image_2/%06d.png``): BGR uint8 ``(H, W, 3)`` as OpenCV reads them."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from kitti.atomic import atomic_write_bytes
from kitti.errors import KittiFormatError


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image as BGR uint8 ``(H, W, 3)``; a missing or undecodable file is a :class:`KittiFormatError`."""
    path = Path(path)
    try:
        raw = np.frombuffer(path.read_bytes(), dtype=np.uint8)
    except FileNotFoundError:
        raise KittiFormatError(path, "image file not found") from None
    image = cv2.imdecode(raw, cv2.IMREAD_COLOR) if raw.size else None
    if image is None:
        raise KittiFormatError(path, "image does not decode (expected a PNG/JPEG image)")
    return image


def image_size(path: str | Path) -> tuple[int, int]:
    """``(height, width)`` of an image (decodes it, which also validates it)."""
    height, width = read_image(path).shape[:2]
    return height, width


def write_image(path: str | Path, image: np.ndarray) -> None:
    """Encode ``image`` (BGR or grey uint8) by the file's extension and write it atomically."""
    path = Path(path)
    ok, encoded = cv2.imencode(path.suffix or ".png", image)
    if not ok:
        raise ValueError(f"write_image: OpenCV could not encode an image of shape {image.shape} as {path.suffix}")
    atomic_write_bytes(path, encoded.tobytes())
