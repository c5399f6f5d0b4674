"""The geometric labeller on the 14 real KITTI frames (a validation set, like KITTI val): the label quality the
project reports must not slip. The labeller reads 2D labels only; the 3D ground truth is read here to score it.
Figures at the time of writing (docs/results.md): Car share of GT at 3D IoU >= 0.7 0.68, median 0.78, direction
right 0.89; Pedestrian and Cyclist share at 3D IoU >= 0.5 0.71 and 0.64, medians 0.56 and 0.57, Cyclist direction
0.73."""
from __future__ import annotations

from pathlib import Path

import pytest

from kitti.eval.diagnose import diagnose
from kitti.geometric.run import main
from tests.kitti_roots import make_kitti_root

FRAMES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 76, 134, 142, 217]
#: per class: (share of GT at the strict 3D IoU, median 3D IoU, direction right), floors a little below today's
FLOORS = {"Car": ("share_ge_0.7", 0.63, 0.75, 0.9), "Pedestrian": ("share_ge_0.5", 0.65, 0.52, None),
          "Cyclist": ("share_ge_0.5", 0.75, 0.55, 0.85)}


@pytest.fixture(scope="module")
def budget(kitti_real_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("real")
    root = make_kitti_root(tmp / "root", kitti_real_root, FRAMES)
    assert main(["--data", str(root), "--split", "train", "--output", str(tmp / "labels"), "--workers", "2"]) == 0
    return diagnose(root / "training" / "label_2", tmp / "labels", FRAMES)


@pytest.mark.parametrize("cls", list(FLOORS))
def test_real_frame_label_quality(budget: dict, cls: str) -> None:
    share_key, share, median, direction = FLOORS[cls]
    group = budget["classes"][cls]["all"]
    assert group["coverage"] == 1.0
    assert group["iou_3d"][share_key] >= share
    assert group["iou_3d"]["median"] >= median
    if direction is not None:
        assert group["direction_right"] >= direction
