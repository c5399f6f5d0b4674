"""Access to a KITTI-layout data set on disk: ``<root>/training/{calib,image_2,label_2,velodyne,depth_2}`` and
split files ``<root>/ImageSets/<split>.txt`` (one frame id per line).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from kitti.atomic import atomic_write_text
from kitti.errors import KittiFormatError
from kitti.io.calib import Calibration, check_image_fit, read_calib
from kitti.io.depthmap import read_depth
from kitti.io.image import image_header_size, read_image
from kitti.io.labels import Label2D, ObjectLabel, check_boxes_in_image, read_labels, read_labels_2d
from kitti.io.pointcloud import read_velodyne
from kitti.outputs import frame_id

#: sub-directory -> file name pattern
LAYOUT: dict[str, str] = {
    "calib": "{:06d}.txt",
    "image_2": "{:06d}.png",
    "label_2": "{:06d}.txt",
    "velodyne": "{:06d}.bin",
    "depth_2": "{:06d}.npz",
}


def read_split(path: str | Path) -> list[int]:
    """Frame ids of a split file (one non-negative integer per line, blank lines allowed, duplicates rejected)."""
    path = Path(path)
    if path.is_dir():
        raise KittiFormatError(path, "is a directory, expected a split file (one frame id per line)")
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        raise KittiFormatError(path, "split file not found") from None
    except UnicodeDecodeError:
        raise KittiFormatError(path, "not a text file (expected one frame id per line)") from None
    ids: list[int] = []
    seen: dict[int, int] = {}
    for lineno, raw in enumerate(lines, start=1):
        token = raw.strip()
        if not token:
            continue
        if not (token.isascii() and token.isdigit()):  # str.isdigit() also accepts '²' and other digits
            raise KittiFormatError(path, f"expected a frame id (digits), got {token!r}", lineno)
        frame = int(token)
        if frame in seen:
            raise KittiFormatError(path, f"frame {frame:06d} listed twice (first on line {seen[frame]})", lineno)
        seen[frame] = lineno
        ids.append(frame)
    return ids


def write_split(path: str | Path, ids: Iterable[int]) -> None:
    """Write a split file atomically (``%06d`` per line)."""
    atomic_write_text(path, "".join(f"{i:06d}\n" for i in ids))


class KittiDataset:
    """A KITTI-layout directory. ``root`` holds ``training/`` (or ``subset``) and ``ImageSets/``."""

    def __init__(self, root: str | Path, subset: str = "training") -> None:
        self.root = Path(root)
        self.dir = self.root / subset
        if not self.dir.is_dir():
            raise KittiFormatError(self.dir, f"not a directory (expected a KITTI '{subset}' folder under {self.root})")

    def path(self, kind: str, frame: int) -> Path:
        """Path of ``kind`` (a :data:`LAYOUT` key) for ``frame``."""
        return self.dir / kind / LAYOUT[kind].format(frame)

    def has(self, kind: str) -> bool:
        return (self.dir / kind).is_dir()

    def frame_ids(self, split: str | None = None) -> list[int]:
        """Ids of ``ImageSets/<split>.txt``, or every frame with a calibration file when ``split`` is None."""
        if split is None:
            return sorted(f for f in (frame_id(p.stem) for p in (self.dir / "calib").glob("*.txt")) if f is not None)
        return read_split(self.split_path(split))

    def split_path(self, split: str) -> Path:
        return self.root / "ImageSets" / f"{split}.txt"

    def check_split(self, split: str, kinds: Iterable[str] = ("calib", "image_2", "label_2", "velodyne")) -> list[int]:
        """Read a split and check that every listed frame has each file of ``kinds``; errors name the split line."""
        path = self.split_path(split)
        ids = self.frame_ids(split)
        lines = {}
        for lineno, raw in enumerate(path.read_text().splitlines(), start=1):
            if raw.strip():
                lines[int(raw.strip())] = lineno
        for frame in ids:
            missing = [kind for kind in kinds if not self.path(kind, frame).is_file()]
            if missing:
                raise KittiFormatError(
                    path, f"frame {frame:06d} has no {', '.join(missing)} file "
                          f"(expected {', '.join(str(self.path(k, frame)) for k in missing)})", lines[frame])
        return ids

    def calib(self, frame: int) -> Calibration:
        """The frame's calibration, checked on its own (:func:`kitti.io.calib.read_calib`) and against the frame's
        image, when there is one (:func:`kitti.io.calib.check_image_fit`)."""
        calib = read_calib(self.path("calib", frame))
        image = self.path("image_2", frame)
        if image.is_file():
            check_image_fit(calib, image_header_size(image), image)
        return calib

    def image(self, frame: int) -> np.ndarray:
        return read_image(self.path("image_2", frame))

    def velodyne(self, frame: int) -> np.ndarray:
        return read_velodyne(self.path("velodyne", frame))

    def labels_2d(self, frame: int) -> list[Label2D]:
        """2D-only labels: what the training path may read; every box checked against the frame's image."""
        return self._in_image(frame, read_labels_2d(self.path("label_2", frame)))

    def labels(self, frame: int) -> list[ObjectLabel]:
        """Full labels including 3D fields: evaluation, synthetic checks and ``full`` mode only."""
        return self._in_image(frame, read_labels(self.path("label_2", frame)))

    def _in_image(self, frame: int, labels: list) -> list:
        """``labels``, after checking that their boxes overlap the frame's image (when there is one)."""
        image = self.path("image_2", frame)
        if labels and image.is_file():
            check_boxes_in_image(labels, image_header_size(image), image)
        return labels

    def depth(self, frame: int, expected_shape: tuple[int, int] | None = None) -> dict[str, np.ndarray]:
        return read_depth(self.path("depth_2", frame), expected_shape)
