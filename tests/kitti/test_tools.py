"""Command-line tools on the real KITTI sample, atomic writes, and the idempotent environment set-up."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from kitti import atomic, check_dataset, visualize
from kitti.io.image import read_image

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_check_dataset_on_real_sample(kitti_real_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "stats.json"
    assert check_dataset.main(["--root", str(kitti_real_root), "--json", str(out)]) == 0
    stats = json.loads(out.read_text())[str(kitti_real_root)]
    assert stats["frames"] == 14
    assert stats["class_counts"] == {"Car": 38, "Van": 1, "Truck": 1, "Pedestrian": 21, "Cyclist": 11, "Misc": 1,
                                     "DontCare": 28}
    # the figures the synthetic world is calibrated against (see README)
    assert stats["median_car_points_by_distance"]["5-10"] == 1940
    assert stats["median_car_points_by_distance"]["10-20"] == 573.5
    assert stats["boxes_with_points_fraction"] == 1.0
    assert "median_car_points_by_distance 20-30" in capsys.readouterr().out


def test_check_dataset_reports_bad_file(kitti_real_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = tmp_path / "broken"
    for kind in ("calib", "image_2", "label_2", "velodyne"):
        (root / "training" / kind).mkdir(parents=True)
        for src in (kitti_real_root / "training" / kind).glob("00000[01].*"):
            (root / "training" / kind / src.name).symlink_to(src)
    (root / "training" / "velodyne" / "000001.bin").unlink()
    (root / "training" / "velodyne" / "000001.bin").write_bytes(b"\0" * 20)
    assert check_dataset.main(["--root", str(root)]) == 2
    assert "000001.bin: size 20 bytes is not a multiple of 16" in capsys.readouterr().err


def test_visualize_writes_render(kitti_real_root: Path, tmp_path: Path) -> None:
    assert visualize.main(["--root", str(kitti_real_root), "--frames", "8", "--out", str(tmp_path)]) == 0
    render = read_image(tmp_path / "000008.png")
    assert render.shape[1] == 1242 and render.shape[0] > 375 * 2
    assert render[:375].std() > 20 and render[375:].max() > 0


def test_interrupted_atomic_write_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "label.txt"
    atomic.atomic_write_text(target, "old\n")

    def fail(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        atomic.atomic_write_text(target, "new\n")
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["label.txt"]


def test_setup_is_idempotent() -> None:
    """The test command already ran the set-up, so a second run must install nothing."""
    if not (REPO_ROOT / ".venv" / ".alpi-requirements.sha256").is_file():
        pytest.skip("not run through scripts/run_tests.sh")
    result = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "setup_env.sh"), "--tests", "--no-ops"],
                            capture_output=True, text=True, timeout=120, check=True)
    assert "requirements up to date" in result.stdout
    assert "installing" not in result.stdout
