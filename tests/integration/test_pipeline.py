"""The pipeline end to end on a tiny synthetic world (the CI smoke test): every stage directory, manifest, label
and metrics file; a rerun skips every stage; the run lock; a stage killed during training resumes to the same
result. Uses the CPU-sized demo configs with one epoch per stage."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from kitti.geometric import uncovered
from kitti.io.dataset import KittiDataset, read_split
from kitti.io.labels import read_labels
from train.pipeline.layout import GEOMETRIC_DIR, refine_dir, step_dir
from train.pipeline.lock import RunLock

REPO = Path(__file__).resolve().parents[2]
RATIO = 30
STEPS = 2
TINY = ["data.num_samples=64", "train.epochs=1", "train.batch_size=16"]


def _pipeline(*args: str, output: Path, data: Path, extra: tuple[str, ...] = (), **kwargs: object) -> subprocess.Popen:
    argv = [sys.executable, "-m", "train.pipeline", *args, "--data", str(data), "--output", str(output),
            "--config", "configs/demo.yaml", "--refine-config", "configs/demo_refine.yaml", "--ratio", str(RATIO),
            "--gpu", "-1", "--workers", "2", *TINY, *extra]
    return subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, **kwargs)  # type: ignore[call-overload]


def _finish(process: subprocess.Popen, timeout: float = 600) -> str:
    out, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, out[-4000:]
    return out


@pytest.fixture(scope="module")
def full_run(world: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    output = tmp_path_factory.mktemp("pipeline_out")
    return output, _finish(_pipeline("all", "--steps", str(STEPS), output=output, data=world))


def _check_labels(directory: Path, frames: list[int]) -> None:
    assert sorted(int(p.stem) for p in directory.glob("*.txt")) == sorted(frames)
    for path in directory.glob("*.txt"):
        for label in read_labels(path):  # parses every line: nothing truncated
            assert label.score is not None and label.type in ("Car", "Pedestrian", "Cyclist")


def _assert_complete_files(stage: Path) -> None:
    """Every visible file a killed stage left behind is complete (temporary files are hidden dot-files)."""
    for path in stage.rglob("*.pth"):
        if not path.name.startswith("."):
            torch.load(path, weights_only=True, map_location="cpu")
    for path in stage.rglob("*.npz"):
        if not path.name.startswith("."):
            with np.load(path, allow_pickle=False) as data:
                [data[name] for name in data.files]
    for path in stage.rglob("data/*.txt"):
        read_labels(path)


def test_every_stage_output(full_run: tuple[Path, str], world: Path) -> None:
    output, log = full_run
    train, val = (read_split(KittiDataset(world).split_path(s)) for s in ("train", "val"))
    stages = [step_dir(output, s, RATIO) for s in range(STEPS + 1)] + [refine_dir(output)]
    assert [s.name for s in stages] == ["carpedcyc_step_00", "carpedcyc_step_01_ratio_030",
                                        "carpedcyc_step_02_ratio_030", "carpedcyc_train_refine"]
    for stage in stages:
        manifest = json.loads((stage / "manifest.json").read_text())
        assert manifest["status"] == "done", stage
        assert manifest["parameters"]["supervision"] == "weak" and manifest["parameters"]["points"] == "lidar"
        assert set(manifest["timings_s"]) == {"data", "train", "val + pseudo-labels"} | (
            {"final labels"} if stage.name.endswith("refine") else set())
        assert len(manifest["inputs"]["label_2"]) == 64
        state = torch.load(stage / "model_final.pth", weights_only=True, map_location="cpu")
        assert state
        _check_labels(stage / "_last_val" / "data", val)
        _check_labels(stage / "_last_train" / "data", train)
        metrics = json.loads((stage / "_last_val" / "metrics.json").read_text())
        assert "Car" in metrics["strict"] and set(metrics["strict"]["Car"]) >= {"bev", "3d"}
    _check_labels(output / "label_2_pseudo", train)
    dataset = KittiDataset(world)
    for frame in train:  # a 3D box for every labelled 2D box in the final pseudo-labels
        assert uncovered(dataset.labels_2d(frame), read_labels(output / "label_2_pseudo" / f"{frame:06d}.txt")) == []
    geometric = output / GEOMETRIC_DIR
    assert json.loads((geometric / "manifest.json").read_text())["status"] == "done"
    _check_labels(geometric, train)
    summary = (output / "summary.md").read_text()
    assert "| step 0 |" in summary and "| refinement |" in summary
    assert summary.index("## The product") < summary.index("## Val AP R40")  # the final labels lead
    assert "| Car | final labels (geometric " in summary and "**What limits the labels:** Car: " in summary
    assert (output / "ap_by_stage.png").stat().st_size > 10_000
    written = json.loads((output / "summary.json").read_text())
    assert written["stages"][-1]["name"] == "refinement"
    assert written["label_quality"]["label_sets"][0]["dir"] == str(output / "label_2_pseudo")
    assert written["label_quality"]["label_sets"][0]["budget"]["classes"]["Car"]["n_gt"] > 0
    assert list((output / "summary_renders").glob("*.png"))


def test_review_page_built_and_linked(full_run: tuple[Path, str], world: Path) -> None:
    output, _ = full_run
    frames = read_split(world / "ImageSets" / "train.txt")
    manifest = json.loads((output / "review" / "manifest.json").read_text())
    assert sorted(manifest["frames"]) == sorted(f"{frame:06d}" for frame in frames)
    assert all((output / "review" / "frames" / f"{frame:06d}.js").is_file() for frame in frames)
    assert "[Label review page](review/index.html)" in (output / "summary.md").read_text()


def test_rerun_skips_every_stage(full_run: tuple[Path, str], world: Path) -> None:
    output, _ = full_run
    before = {p: p.stat().st_mtime_ns for p in output.rglob("manifest.json")}
    started = time.monotonic()
    log = _finish(_pipeline("all", "--steps", str(STEPS), output=output, data=world))
    assert log.count("finished with the same inputs: skipped") == STEPS + 3, log
    assert {p: p.stat().st_mtime_ns for p in output.rglob("manifest.json")} == before
    assert time.monotonic() - started < 60


def test_lock_stops_a_second_run(full_run: tuple[Path, str], world: Path) -> None:
    output, _ = full_run
    with RunLock(output):
        process = _pipeline("step", "--step", "0", output=output, data=world)
        out, _ = process.communicate(timeout=120)
    assert process.returncode == 2 and "is in use by another run" in out


def test_deleted_final_label_is_restored_on_rerun(full_run: tuple[Path, str], world: Path) -> None:
    """label_2_pseudo/ is covered by its own hashes (published.json): a deleted or edited label file is published
    again from the finished refinement stage on rerun, byte for byte."""
    output, _ = full_run
    final = output / "label_2_pseudo"
    before = {p.name: p.read_bytes() for p in final.iterdir()}
    first, second = sorted(final.glob("*.txt"))[:2]
    first.unlink()
    second.write_text("")
    log = _finish(_pipeline("refine", "--steps", str(STEPS), output=output, data=world))
    assert "publishing it again" in log, log
    assert {p.name: p.read_bytes() for p in final.iterdir()} == before


def test_missing_input_is_named(world: Path, tmp_path: Path) -> None:
    process = _pipeline("step", "--step", "1", output=tmp_path, data=world)
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 2 and "missing input: step 0 pseudo-labels" in out


def test_killed_stage_resumes_to_the_same_result(world: Path, tmp_path: Path) -> None:
    """SIGKILL the whole stage (process group) once training has written a checkpoint; the rerun finishes, and its
    predictions equal those of an uninterrupted run (training resumes deterministically from model_last.pth). Two
    epochs: the kill falls after the first one's checkpoint, the rerun trains the second."""
    extra = ("train.epochs=2",)
    reference = tmp_path / "reference"
    _finish(_pipeline("step", "--step", "0", output=reference, data=world, extra=extra))

    killed = tmp_path / "killed"
    process = _pipeline("step", "--step", "0", output=killed, data=world, extra=extra)
    checkpoint = step_dir(killed, 0, RATIO) / "model_last.pth"
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert process.poll() is None, "the stage ended before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    stage = step_dir(killed, 0, RATIO)
    assert json.loads((stage / "manifest.json").read_text())["status"] == "running"
    _assert_complete_files(stage)

    _finish(_pipeline("step", "--step", "0", output=killed, data=world, extra=extra))
    assert "--resume" in (stage / "logs" / "train.log").read_text()
    ref_stage = step_dir(reference, 0, RATIO)
    for name in sorted(p.name for p in (ref_stage / "_last_val" / "data").glob("*.txt")):
        ours = read_labels(stage / "_last_val" / "data" / name)
        theirs = read_labels(ref_stage / "_last_val" / "data" / name)
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert a.box3d == pytest.approx(b.box3d, abs=2e-3) and a.score == pytest.approx(b.score, abs=2e-3)
