"""Training, resume, inference and pseudo-labelling entry points on a tiny synthetic world; full-mode overfitting."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch.utils.data import default_collate

from kitti.frustum.store import FrustumSet
from kitti.geometric import uncovered
from kitti.io.dataset import KittiDataset
from kitti.io.labels import read_labels
from kitti.priors import CLASSES
from tests.train.fixtures import TINY, tiny_config
from train import gen_pseudo, test_net_det, train_net_det
from train.checkpoint import load_checkpoint
from train.distributed import choose_device
from train.frustum_dataset import FrustumDataset
from train.losses import compute_losses, training_metrics
from train.model import FConvNet


def test_full_mode_overfits_a_tiny_set(train_world: Path) -> None:
    cfg = tiny_config("model.pointnet=[[16, 16], [16, 16], [32], [32]]", "model.deconv=16")
    dataset = FrustumDataset(FrustumSet.load(train_world / "full" / "frustums_train.npz"), cfg.data, "full")
    batch = default_collate([dataset[i] for i in range(min(16, len(dataset)))])
    torch.manual_seed(0)
    model = FConvNet(cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses = []
    for _ in range(100):
        loss, _ = compute_losses(model(batch), batch, cfg.loss, 12, "full", 0.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    model.eval()
    with torch.no_grad():
        metrics = training_metrics(model(batch), batch, 12, "full")
    assert losses[-1] < 0.1 * losses[0]
    assert metrics["iou3d"] > 0.5


def _train(world: Path, out: Path, *extra: str) -> int:
    return train_net_det.main(["--output", str(out), "--frustums", str(world / "weak" / "frustums_train.npz"),
                               "--gpu", "-1", *TINY, "train.epochs=2", *extra])


@pytest.fixture(scope="module")
def trained(train_world: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    assert _train(train_world, out) == 0
    return out


def test_training_outputs(trained: Path) -> None:
    for name in ("config.yaml", "model_last.pth", "model_final.pth", "train_log.jsonl"):
        assert (trained / name).is_file(), name
    assert list((trained / "tb").glob("events.out.tfevents.*"))
    log = [json.loads(line) for line in (trained / "train_log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [0, 1] and all("box2d" in r and "focal" in r for r in log)
    state = load_checkpoint(trained / "model_final.pth")
    assert state["meta"]["supervision"] == "weak" and state["epoch"] == 2
    model = FConvNet(tiny_config())
    model.load_state_dict(state["model"])


def test_resume_gives_the_same_weights(train_world: Path, trained: Path, tmp_path: Path) -> None:
    assert _train(train_world, tmp_path, "train.epochs=1") == 0
    # a killed run keeps model_last.pth of epoch 1; resuming with the full budget finishes epoch 2
    assert _train(train_world, tmp_path, "--resume") == 0
    a = load_checkpoint(trained / "model_final.pth")["model"]
    b = load_checkpoint(tmp_path / "model_final.pth")["model"]
    for key in a:
        assert torch.allclose(a[key].float(), b[key].float(), atol=1e-6), key
    assert len((tmp_path / "train_log.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize("method", ["top", "nms"])
def test_test_net_det_writes_every_frame_and_metrics(train_world: Path, trained: Path, tmp_path: Path,
                                                     method: str) -> None:
    args = ["--weights", str(trained / "model_final.pth"), "--frustums", str(train_world / "weak" / "frustums_val.npz"),
            "--data", str(train_world / "data"), "--split", "val", "--output", str(tmp_path), "--gpu", "-1",
            "--method", method]
    assert test_net_det.main(args) == 0
    frames = KittiDataset(train_world / "data").frame_ids("val")
    assert sorted(int(p.stem) for p in (tmp_path / "data").glob("*.txt")) == frames
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert "strict" in metrics and "Car" in metrics["strict"]
    labels = [lab for f in frames for lab in read_labels(tmp_path / "data" / f"{f:06d}.txt")]
    assert labels and all(lab.score is not None and 0 <= lab.score <= 1 for lab in labels)
    if method == "top":  # at most one box per 2D box (boxes with a dimension < 1 cm are dropped, docs/design.md §6.3)
        assert len(labels) <= len(FrustumSet.load(train_world / "weak" / "frustums_val.npz"))


def test_gen_pseudo(train_world: Path, trained: Path, tmp_path: Path) -> None:
    args = ["--weights", str(trained / "model_final.pth"), "--frustums",
            str(train_world / "weak" / "frustums_val.npz"), "--data", str(train_world / "data"), "--split", "val",
            "--output", str(tmp_path), "--gpu", "-1"]
    assert gen_pseudo.main(args) == 0
    assert (tmp_path / "pseudo_quality.json").is_file()
    dataset = KittiDataset(train_world / "data")
    assert len(list((tmp_path / "data").glob("*.txt"))) == len(dataset.frame_ids("val"))
    # a 3D box for every labelled 2D box: skipped frustums get a geometric box with a low score
    for frame in dataset.frame_ids("val"):
        predicted = read_labels(tmp_path / "data" / f"{frame:06d}.txt")
        assert uncovered(dataset.labels_2d(frame), predicted) == []
        wanted = [lab for lab in dataset.labels_2d(frame) if lab.type in CLASSES]
        assert len(predicted) == len(wanted)


def test_input_errors_exit_2(train_world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert train_net_det.main(["--output", str(tmp_path), "--frustums", str(tmp_path / "none.npz")]) == 2
    assert "none" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  widths: 3\n")
    assert train_net_det.main(["--output", str(tmp_path), "--config", str(bad)]) == 2
    assert "model.widths" in capsys.readouterr().err
    assert _train(train_world, tmp_path, "--supervision", "full") == 2  # weak set cannot train full
    assert "error:" in capsys.readouterr().err
    assert test_net_det.main(["--weights", str(tmp_path / "x.pth"), "--frustums", "f", "--data", "d",
                              "--output", str(tmp_path)]) == 2


def test_gpu_falls_back_to_cpu(capsys: pytest.CaptureFixture[str]) -> None:
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert choose_device(0).type == "cpu"
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert choose_device(-1).type == "cpu" and capsys.readouterr().err == ""
