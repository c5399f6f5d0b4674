"""Helpers that build small KITTI roots from the real frames in ../shared/kitti_real (symlinked, never copied into
the repository)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from kitti.io.dataset import write_split


def make_kitti_root(tmp: Path, real_root: Path, frames: list[int],
                    label_text: Callable[[str], str] | None = None) -> Path:
    """A KITTI root in ``tmp`` with symlinks to the real calib/image/velodyne files, label files copied (through
    ``label_text`` when given) and ``ImageSets/{train,val}.txt`` = ``frames``."""
    for kind, ext in (("calib", "txt"), ("image_2", "png"), ("velodyne", "bin"), ("label_2", "txt")):
        (tmp / "training" / kind).mkdir(parents=True, exist_ok=True)
        for frame in frames:
            src = real_root / "training" / kind / f"{frame:06d}.{ext}"
            dst = tmp / "training" / kind / f"{frame:06d}.{ext}"
            if kind == "label_2":
                text = src.read_text()
                dst.write_text(label_text(text) if label_text else text)
            else:
                os.symlink(src, dst)
    write_split(tmp / "ImageSets" / "train.txt", frames)
    write_split(tmp / "ImageSets" / "val.txt", frames)
    return tmp


def make_pseudo_dir(tmp: Path, real_root: Path, frames: list[int]) -> Path:
    """Pseudo-labels = the real labels with a score 0.9 (stand-ins for a detector's output)."""
    tmp.mkdir(parents=True, exist_ok=True)
    for frame in frames:
        lines = (real_root / "training" / "label_2" / f"{frame:06d}.txt").read_text().splitlines()
        (tmp / f"{frame:06d}.txt").write_text("".join(f"{line} 0.9\n" for line in lines if line.strip()))
    return tmp
