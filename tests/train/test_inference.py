"""Inference helpers: slice choice inside the depth window, the 2D agreement factor of the score."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from kitti import geometry as g
from tests.train.fixtures import tiny_config
from train.checkpoint import save_checkpoint
from train.inference import agreement_2d, choose_slices, load_model
from train.model import FConvNet

P2 = np.array([[721.5, 0, 609.6, 44.9], [0, 721.5, 172.9, 0.2], [0, 0, 1, 0.003]])


def test_slices_are_chosen_inside_the_window() -> None:
    fg = torch.tensor([[0.9, 0.2, 0.6, 0.1], [0.3, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.9]])
    window = torch.tensor([[False, True, True, False], [True, True, True, True], [False, False, False, False]])
    assert choose_slices(fg, None, "top").nonzero().tolist() == [[0, 0], [1, 1], [2, 3]]
    # row 0: the best slice is outside the window; row 2 has no window slice: every slice is allowed
    assert choose_slices(fg, window, "top").nonzero().tolist() == [[0, 2], [1, 1], [2, 3]]
    assert choose_slices(fg, window, "nms").nonzero().tolist() == [[0, 2], [1, 1], [1, 2], [2, 3]]


def test_agreement_is_the_2d_iou_of_the_projected_box() -> None:
    boxes = np.array([[2.0, 1.6, 15.0, 1.5, 1.6, 3.9, 0.3], [2.0, 1.6, 15.0, 1.5, 1.6, 3.9, 0.3]])
    sizes = np.array([[375, 1242], [375, 1242]])
    hull = g.project_boxes_to_image(boxes[:1], P2, (375, 1242))[0]
    shifted = hull + np.array([0.0, 0.0, (hull[2] - hull[0]), 0.0])  # twice as wide: IoU 1/2
    a = agreement_2d(boxes, np.stack([P2, P2]), sizes, np.stack([hull, shifted]))
    assert np.allclose(a, [1.0, 0.5])


def test_a_checkpoint_from_before_the_quality_head_loads(tmp_path: Path) -> None:
    cfg = tiny_config("model.quality_head=false")
    config = cfg.to_dict()
    del config["model"]["quality_head"]
    save_checkpoint(tmp_path / "old.pth", {"model": FConvNet(cfg).state_dict(), "config": config})
    model, loaded, _ = load_model(tmp_path / "old.pth", torch.device("cpu"))
    assert model.quality_head is None and loaded.model.quality_head is False
