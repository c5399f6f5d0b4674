"""Depth Anything 3 route: preprocessing and metric scale (docs/design.md §10.2 numbers), safetensors model directories,
and the generate_da3_depth CLI on two real KITTI frames with the smallest model at random weights."""
from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

pytest.importorskip("depth_anything_3", reason="depth_anything_3 not installed (scripts/setup_env.sh installs it "
                                               "from requirements-da3.txt)")

from kitti.depth import da3_model as m
from kitti.depth import generate as gen
from kitti.io.calib import read_calib

FRAMES = ("000000", "000008")  # 1224x370 and 1242x375: two image sizes, so two batches


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """da3-small with random weights saved as a local model directory (config.json + model.safetensors)."""
    torch.manual_seed(0)
    return m.save_model_dir(m.build_network("da3-small"), "da3-small", tmp_path_factory.mktemp("da3_small"))


@pytest.fixture()
def kitti_root(kitti_real_root: Path, tmp_path: Path) -> Path:
    """A KITTI root with symlinks to two real frames' image and calibration (nothing copied)."""
    for kind, ext in (("image_2", "png"), ("calib", "txt")):
        (tmp_path / "training" / kind).mkdir(parents=True)
        for frame in FRAMES:
            (tmp_path / "training" / kind / f"{frame}.{ext}").symlink_to(
                kitti_real_root / "training" / kind / f"{frame}.{ext}")
    return tmp_path


def kitti_k(kitti_real_root: Path) -> np.ndarray:
    return read_calib(kitti_real_root / "training" / "calib" / "000008.txt").P2[:, :3]


@pytest.mark.parametrize("res, method, hw, fx, fy, ratio", [
    (504, "upper_bound_resize", (154, 504), 292.8, 296.3, 0.982),
    (1246, "upper_bound_resize", (378, 1246), 723.9, 727.3, 2.419),
    (378, "lower_bound_resize", (378, 1246), 723.9, 727.3, 2.419),
    (504, "lower_bound_resize", (504, 1666), 967.9, 969.7, 3.229),
])
def test_preprocess_and_metric_scale_match_method_21_3(kitti_real_root: Path, res: int, method: str,
                                                       hw: tuple[int, int], fx: float, fy: float,
                                                       ratio: float) -> None:
    image = np.zeros((375, 1242, 3), np.uint8)
    image[:] = (10, 120, 250)  # BGR
    x, K1 = m.preprocess(image, kitti_k(kitti_real_root), res, method)
    assert x.shape == (3, *hw) and x.dtype == np.float32 and hw[0] % 14 == 0 and hw[1] % 14 == 0
    assert K1[0, 0] == pytest.approx(fx, abs=0.05) and K1[1, 1] == pytest.approx(fy, abs=0.05)
    assert m.metric_scale(K1) == pytest.approx(ratio, abs=5e-4)
    # RGB order and ImageNet normalisation of a constant image (resizing keeps a constant)
    expected = (np.array([250, 120, 10]) / 255.0 - m.IMAGENET_MEAN) / m.IMAGENET_STD
    np.testing.assert_allclose(x.mean(axis=(1, 2)), expected, atol=1e-5)


def test_model_dir_round_trip_and_errors(model_dir: Path, tmp_path: Path) -> None:
    assert json.loads((model_dir / "config.json").read_text()) == {"model_name": "da3-small"}
    loaded = m.load_model(model_dir)
    assert loaded.name == "da3-small" and loaded.kind == "relative"
    torch.manual_seed(0)
    reference = m.build_network("da3-small").state_dict()
    for key, value in loaded.net.state_dict().items():  # tied aux weights included
        assert torch.equal(value, reference[key]), key
    with pytest.raises(m.ModelError, match="neither"):
        m.load_model("no-such-model")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text('{"model_name": "da3-base"}')
    (bad / "model.safetensors").symlink_to(model_dir / "model.safetensors")
    with pytest.raises(m.ModelError, match="do not fit"):
        m.load_model(bad)
    (bad / "model.safetensors").unlink()
    with pytest.raises(m.ModelError, match="not found"):
        m.load_model(bad)


class _ConstantMetricNet(torch.nn.Module):
    """Stands in for the metric network: raw depth 1 everywhere, no sky."""

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        shape = (x.shape[0], x.shape[1], x.shape[-2], x.shape[-1])
        return {"depth": torch.ones(shape), "sky": torch.zeros(shape)}


def test_metric_model_output_is_scaled_by_the_rescaled_focal(kitti_real_root: Path) -> None:
    model = m.Da3Model("da3metric-large", "stub", _ConstantMetricNet())
    assert model.kind == "focal_metric"
    [pred] = m.Da3Predictor(model, "cpu").predict([np.zeros((375, 1242, 3), np.uint8)], [kitti_k(kitti_real_root)])
    assert pred.depth.shape == (375, 1242) and pred.depth.dtype == np.float32 and pred.sky.shape == (375, 1242)
    assert pred.scale == pytest.approx(0.982, abs=5e-4)
    np.testing.assert_allclose(pred.depth, pred.scale, rtol=1e-6)


def _outputs(root: Path) -> Path:
    return root / "training" / gen.OUTPUT_DIR


def test_cli_on_two_real_frames_shards_and_resumes(model_dir: Path, kitti_root: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture) -> None:
    args = ["--data_path", str(kitti_root), "--split", "training", "--model", str(model_dir), "--device", "cpu",
            "--process-res", "252"]  # 84x252 network input: a faster test (504 is covered above)
    # torchrun sharding: rank r of 2 handles every second frame of the sorted list
    for rank in ("1", "0"):
        monkeypatch.setenv("RANK", rank)
        monkeypatch.setenv("WORLD_SIZE", "2")
        assert gen.main(args) == 0
        done = sorted(p.name for p in _outputs(kitti_root).glob("*.npz"))
        assert done == (["000008.npz"] if rank == "1" else ["000000.npz", "000008.npz"])
    monkeypatch.delenv("RANK")
    monkeypatch.delenv("WORLD_SIZE")
    out = _outputs(kitti_root)
    for frame in FRAMES:
        image = cv2.imread(str(kitti_root / "training" / "image_2" / f"{frame}.png"))
        height, width = image.shape[:2]
        with np.load(out / f"{frame}.npz", allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        assert {"depth", "intrinsics", "extrinsics", "conf"} <= set(arrays)  # any-view model: conf, no sky
        depth = arrays["depth"]
        assert depth.shape == (height, width) and depth.dtype == np.float32
        assert np.isfinite(depth).all() and (depth > 0).all()
        assert arrays["conf"].shape == (height, width) and arrays["conf"].dtype == np.float32
        calib = read_calib(kitti_root / "training" / "calib" / f"{frame}.txt")
        np.testing.assert_array_equal(arrays["intrinsics"], calib.P2[:, :3])
        np.testing.assert_array_equal(arrays["extrinsics"], np.eye(3, 4))
        assert float(arrays["metric_scale"]) == 1.0  # relative model: no focal scaling
        vis = cv2.imread(str(out / f"{frame}_vis.jpg"))
        assert vis.shape == (2 * height, width, 3)
    manifest = json.loads((out / gen.MANIFEST).read_text())
    assert manifest["model_name"] == "da3-small" and manifest["process_res"] == 252
    # resume: nothing rewritten
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    capsys.readouterr()
    assert gen.main(args) == 0
    assert "0 frames written, 2 already done" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != gen.MANIFEST} == \
        {k: v for k, v in stamps.items() if k != gen.MANIFEST}
    # other settings into the same directory are refused; --force regenerates the selected frame
    assert gen.main(args + ["--precision", "bf16"]) == 2  # refused before the model is loaded
    assert "--force" in capsys.readouterr().err
    assert gen.pending([0, 8], out, vis=True, force=False) == []
    assert gen.pending([0, 8], out, vis=True, force=True) == [0, 8]
    (out / "000000_vis.jpg").unlink()
    assert gen.pending([0, 8], out, vis=True, force=False) == [0]
    assert gen.pending([0, 8], out, vis=False, force=False) == []


def test_cli_bad_input_exits_2(model_dir: Path, kitti_root: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture) -> None:
    base = ["--split", "training", "--model", str(model_dir), "--device", "cpu"]
    assert gen.main(["--data_path", str(tmp_path / "nowhere")] + base) == 2
    assert "error:" in capsys.readouterr().err
    assert gen.main(["--data_path", str(kitti_root), "--frames", "0,5"] + base) == 2
    assert "000005.png" in capsys.readouterr().err
    os.remove(kitti_root / "training" / "calib" / "000008.txt")
    assert gen.main(["--data_path", str(kitti_root), "--split", "training", "--model", str(tmp_path)]) == 2
    assert "000008.txt" in capsys.readouterr().err
    (kitti_root / "training" / "calib" / "000008.txt").symlink_to(kitti_root / "training" / "calib" / "000000.txt")
    assert gen.main(["--data_path", str(kitti_root), "--split", "training", "--model", str(tmp_path)]) == 2
    assert "config.json" in capsys.readouterr().err


def test_pipeline_generates_missing_da3_depth(model_dir: Path, kitti_root: Path) -> None:
    """A stage with --depth-dir DA3_depth_results first generates the depth maps its frames miss."""
    from train.pipeline.stages import RunOptions, ensure_depth

    (kitti_root / "ImageSets").mkdir()
    (kitti_root / "ImageSets" / "train.txt").write_text(f"{FRAMES[0]}\n")
    (kitti_root / "ImageSets" / "val.txt").write_text(f"{FRAMES[1]}\n")
    opts = RunOptions(data=kitti_root, output=kitti_root / "out", config=Path("configs/demo.yaml"),
                      refine_config=Path("configs/demo_refine.yaml"), points="depth",
                      depth_dir="DA3_depth_results", da3_model=str(model_dir))
    ensure_depth(opts, kitti_root / "out" / "stage")
    outputs = kitti_root / "training" / "DA3_depth_results"
    assert sorted(p.name for p in outputs.glob("*.npz")) == [f"{f}.npz" for f in FRAMES]
    assert "DA3_depth_results" in (kitti_root / "out" / "stage" / "logs" / "depth.log").read_text()
