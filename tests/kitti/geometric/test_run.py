"""The geometric labeller's command line on real KITTI frames: one label file per frame, resume, input errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kitti.geometric.run import MANIFEST, main
from kitti.io.labels import PREDICTION_DECIMALS, read_labels, read_labels_2d
from kitti.priors import CLASSES
from tests.kitti_roots import make_kitti_root

FRAMES = [0, 8]


def test_cli_labels_every_box_and_resumes(kitti_real_root: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    root = make_kitti_root(tmp_path / "root", kitti_real_root, FRAMES)
    out = tmp_path / "out"
    assert main(["--data", str(root), "--split", "train", "--output", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr().out  # the real frames carry 3D labels: the run scores itself against them
    assert "against the 3D ground truth" in printed and "Car: " in printed and "(ceiling " in printed
    for frame in FRAMES:
        labels = read_labels(out / f"{frame:06d}.txt")
        wanted = [lab for lab in read_labels_2d(root / "training" / "label_2" / f"{frame:06d}.txt")
                  if lab.type in CLASSES]
        assert [lab.box2d for lab in labels] == [lab.box2d for lab in wanted]  # one line per 2D box, in order
        assert all(0.0 <= lab.score <= 1.0 and min(lab.dims) > 0 for lab in labels)
        location = (out / f"{frame:06d}.txt").read_text().split("\n")[0].split()[11:14]
        assert all(len(value.split(".")[1]) == PREDICTION_DECIMALS for value in location)  # not KITTI's 2
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["status"] == "done" and manifest["labelled_now"] == len(FRAMES)
    stamp = (out / "000000.txt").stat().st_mtime_ns
    assert main(["--data", str(root), "--split", "train", "--output", str(out), "--workers", "1"]) == 0
    assert json.loads((out / MANIFEST).read_text())["labelled_now"] == 0  # resumed: nothing to do
    assert (out / "000000.txt").stat().st_mtime_ns == stamp


def test_cli_input_error_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data", str(tmp_path), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "training" in err and "Traceback" not in err


def test_sigkill_then_rerun_gives_the_same_labels(kitti_real_root: Path, tmp_path: Path) -> None:
    """SIGKILL the command once it has written a label file; the rerun accepts its own files (the manifest listed
    them before they were written) and finishes to the labels of an uninterrupted run."""
    import os
    import signal
    import subprocess
    import sys
    import time
    frames = [0, 1, 2, 3, 8]
    root = make_kitti_root(tmp_path / "root", kitti_real_root, frames)
    argv = ["--data", str(root), "--split", "train", "--workers", "1", "--output"]
    assert main([*argv, str(tmp_path / "reference")]) == 0
    out = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "-m", "kitti.geometric_labeller", *argv, str(out)],
                               cwd=Path(__file__).resolve().parents[3], start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not list(out.glob("*.txt")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL  # killed mid-run, not finished
    assert json.loads((out / MANIFEST).read_text())["status"] == "running"
    assert main([*argv, str(out)]) == 0
    labels = lambda d: {p.name: p.read_bytes() for p in d.glob("*.txt")}  # noqa: E731
    assert labels(out) == labels(tmp_path / "reference") and len(labels(out)) == len(frames)
