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


def image_header_size(path: str | Path) -> tuple[int, int]:
    """``(height, width)`` from a PNG file's header (no decoding; cheap enough for every label and calibration
    check); other files are decoded (:func:`image_size`)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(24)
    except FileNotFoundError:
        raise KittiFormatError(path, "image file not found") from None
    except OSError as exc:
        raise KittiFormatError(path, f"cannot be read ({exc.strerror or exc}; expected a PNG image)") from None
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return int.from_bytes(head[20:24], "big"), int.from_bytes(head[16:20], "big")
    return image_size(path)


def write_image(path: str | Path, image: np.ndarray) -> None:
    """Encode ``image`` (BGR or grey uint8) by the file's extension and write it atomically."""
    path = Path(path)
    ok, encoded = cv2.imencode(path.suffix or ".png", image)
    if not ok:
        raise ValueError(f"write_image: OpenCV could not encode an image of shape {image.shape} as {path.suffix}")
    atomic_write_bytes(path, encoded.tobytes())
