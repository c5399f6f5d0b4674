"""A pipeline run whose train split mixes the tiny synthetic world with real KITTI frames: its final (fused) labels
score at least the geometric labeller's own on the real frames. Skips without ../shared/kitti_real (as in CI)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kitti.eval.quality import label_quality
from kitti.io.dataset import read_split, write_split
from train.pipeline.layout import GEOMETRIC_DIR

REPO = Path(__file__).resolve().parents[2]
REAL_FRAMES = [8, 142]  # cars truncated by the image border, parked rows, a far car; ids the 6-frame world lacks
TINY = ["data.num_samples=64", "train.epochs=1", "train.batch_size=16"]
KINDS = (("calib", "txt"), ("image_2", "png"), ("velodyne", "bin"), ("label_2", "txt"))


def mixed_root(tmp: Path, world: Path, real: Path) -> Path:
    """A KITTI root linking the world's frames and the real ones; train = world train + real frames."""
    for kind, ext in KINDS:
        (tmp / "training" / kind).mkdir(parents=True)
        for source in (world, real):
            for path in (source / "training" / kind).glob(f"*.{ext}"):
                if source == world or int(path.stem) in REAL_FRAMES:
                    os.symlink(path.resolve(), tmp / "training" / kind / path.name)
    write_split(tmp / "ImageSets" / "train.txt", read_split(world / "ImageSets" / "train.txt") + REAL_FRAMES)
    write_split(tmp / "ImageSets" / "val.txt", read_split(world / "ImageSets" / "val.txt"))
    return tmp


def test_final_labels_hold_the_labellers_quality_on_real_frames(world: Path, kitti_real_root: Path,
                                                                tmp_path: Path) -> None:
    root = mixed_root(tmp_path / "root", world, kitti_real_root)
    output = tmp_path / "out"
    argv = [sys.executable, "-m", "train.pipeline", "all", "--steps", "0", "--data", str(root), "--output",
            str(output), "--config", "configs/demo.yaml", "--refine-config", "configs/demo_refine.yaml", "--ratio",
            "30", "--gpu", "-1", "--workers", "2", *TINY]
    run = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    gt = root / "training" / "label_2"
    final = label_quality(gt, output / "label_2_pseudo", REAL_FRAMES)
    geometric = label_quality(gt, output / GEOMETRIC_DIR, REAL_FRAMES)
    for cls, q in geometric.items():
        assert final[cls]["coverage"] >= q["coverage"], cls
        for key in ("share_0.7", "share_0.5", "median_iou"):
            assert final[cls][key] >= q[key] - 1e-9, (cls, key, final[cls], q)
