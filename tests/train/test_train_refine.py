"""Refinement stage: the refinement Dataset's local frame (region centre, region heading) round-trips to the
pseudo-box through the inference decoding, the refine config trains and predicts through the entry points on a
refinement set built from pseudo-labels, and inference keeps every input box (no points -> the input box)."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from kitti.frustum.store import FrustumSet
from kitti.io.dataset import KittiDataset
from kitti.io.labels import read_labels, write_labels
from tests.train.fixtures import REPO
from train import test_net_det, train_net_det
from train.box_coding import frustum_to_kitti
from train.config import load_config
from train.datasets import build_dataset
from train.inference import PASS_THROUGH_CONFIDENCE, load_model, predict
from train.refine_dataset import RefineDataset

TINY_REFINE = ["data.num_samples=32", "data.group_sizes=[8, 8, 8, 8]", "model.pointnet=[[8], [8], [8], [8]]",
               "model.deconv=8", "train.batch_size=4", "train.epochs=1", "data.strides=[0.4, 0.8, 1.6, 3.2]",
               "data.max_depth=9.6"]


@pytest.fixture(scope="module")
def refine_set(train_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A refinement set of the train frames built from ground-truth boxes written as pseudo-labels (score 1)."""
    out = tmp_path_factory.mktemp("refine")
    data = KittiDataset(train_world / "data")
    for frame in data.frame_ids("train"):
        labels = [dataclasses.replace(lab, score=1.0) for lab in data.labels(frame)]
        write_labels(out / "pseudo" / f"{frame:06d}.txt", labels)
    subprocess.run([sys.executable, "-m", "kitti.prepare_data_refine", "--data", str(train_world / "data"),
                    "--pseudo-dir", str(out / "pseudo"), "--output", str(out), "--set", "train", "--copies", "1",
                    "--workers", "1"], check=True, cwd=REPO, capture_output=True)
    return out


def test_refine_frame_round_trip(refine_set: Path) -> None:
    """The sample's own target, decoded as inference does (origin added, batch ``frustum_angle``), is the pseudo-box
    in the rect frame; the local frame is the region's (its heading -pi/2, so the target's is -pi/2 + jitter)."""
    cfg = load_config(REPO / "configs" / "refine_sample.yaml")
    frustums = FrustumSet.load(refine_set / "refine_train.npz")
    dataset = build_dataset(frustums, cfg.data, "full")
    assert isinstance(dataset, RefineDataset)
    for i in range(min(5, len(dataset))):
        item = dataset[i]
        sample = frustums[i]
        assert item["target3d"] and np.isclose(float(item["frustum_angle"]), sample.region_box3d[6], atol=1e-6)
        assert np.abs(item["centre"].numpy()).max() < 2.0  # pseudo-box near the region centre
        assert abs(float(item["heading"]) + np.pi / 2) <= 0.05 * np.pi + 1e-4  # heading jitter only
        back = frustum_to_kitti(item["centre"].numpy() + item["origin"].numpy(), item["heading"].numpy(),
                                item["size"].numpy(), item["frustum_angle"].numpy())[0]
        assert np.allclose(back[:6], sample.box3d[:6], atol=1e-4)
        assert np.isclose(np.cos(back[6] - sample.box3d[6]), 1.0, atol=1e-6)
        assert (item["cls_label"] == 1).any()


def test_refine_training_and_prediction(train_world: Path, refine_set: Path, tmp_path: Path) -> None:
    config = str(REPO / "configs" / "refine_sample.yaml")
    assert train_net_det.main(["--config", config, "--output", str(tmp_path), "--frustums",
                               str(refine_set / "refine_train.npz"), "--gpu", "-1", *TINY_REFINE]) == 0
    assert test_net_det.main(["--weights", str(tmp_path / "model_final.pth"), "--frustums",
                              str(refine_set / "refine_train.npz"), "--data", str(train_world / "data"),
                              "--split", "train", "--output", str(tmp_path / "pred"), "--gpu", "-1"]) == 0
    labels = [lab for p in (tmp_path / "pred" / "data").glob("*.txt") for lab in read_labels(p)]
    assert labels and all(lab.score is not None for lab in labels)
    assert train_net_det.main(["--config", config, "--output", str(tmp_path / "w"), "--supervision", "weak",
                               "--frustums", str(refine_set / "refine_train.npz"), *TINY_REFINE]) == 2


def test_refine_keeps_input_boxes_without_points(train_world: Path, refine_set: Path, tmp_path: Path) -> None:
    """Regression: a val/pseudo box whose enlarged region holds no point used to be skipped (a lost detection);
    it is now kept with zero points and predicted as its input box, score ``score_2d * 0.5``."""
    data = KittiDataset(train_world / "data")
    frame = data.frame_ids("train")[0]
    # in the air
    lonely = dataclasses.replace(data.labels(frame)[0], type="Car", location=(0.0, -40.0, 30.0), score=0.8)
    for other in data.frame_ids("train"):
        write_labels(tmp_path / "pseudo" / f"{other:06d}.txt", [lonely] if other == frame else [])
    subprocess.run([sys.executable, "-m", "kitti.prepare_data_refine", "--data", str(train_world / "data"),
                    "--pseudo-dir", str(tmp_path / "pseudo"), "--output", str(tmp_path), "--set", "pseudo",
                    "--workers", "1"], check=True, cwd=REPO, capture_output=True)
    frustums = FrustumSet.load(tmp_path / "refine_pseudo.npz")
    assert len(frustums) == 1 and len(frustums[0].points) == 0
    config = str(REPO / "configs" / "refine_sample.yaml")
    assert train_net_det.main(["--config", config, "--output", str(tmp_path / "m"), "--frustums",
                               str(refine_set / "refine_train.npz"), "--gpu", "-1", *TINY_REFINE]) == 0
    model, cfg, _ = load_model(tmp_path / "m" / "model_final.pth", torch.device("cpu"))
    pred = predict(model, frustums, cfg, torch.device("cpu"), [0], cfg.test.method, progress=False)
    assert list(pred.sample) == [0]
    assert np.allclose(pred.box[0], lonely.box3d, atol=1e-4)
    assert np.isclose(pred.score[0], 0.8 * PASS_THROUGH_CONFIDENCE)
