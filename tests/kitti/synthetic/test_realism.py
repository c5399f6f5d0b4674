"""The realism report (kitti.synthetic.realism): its distances and tolerances, the per-object measurements on a
hand-made scan, and the whole report on a tiny world (against itself, and against the real frames when present)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kitti.errors import InputError
from kitti.synthetic import realism, realism_stats
from kitti.synthetic.kitti_stats import heading_statistics, label_statistics, load_headings, load_reference
from tests.worlds import synthetic_world


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_world(tmp_path_factory.mktemp("realism_world"), frames=3, seed=16, workers=2)


def test_ks_statistic_and_tolerance() -> None:
    a = np.arange(10.0)
    assert realism_stats.ks_statistic(a, a) == 0.0
    assert realism_stats.ks_statistic(a, a + 100) == 1.0
    assert realism_stats.ks_statistic(a, a + 5) == pytest.approx(0.5)
    assert realism_stats.ks_tolerance(10, 10) == pytest.approx(1.36 * np.sqrt(0.2))


def test_rows_say_off_ok_and_few() -> None:
    rng = np.random.default_rng(0)
    same = realism_stats.compare_distributions("x", rng.normal(0, 1, 200), rng.normal(0, 1, 200))
    shifted = realism_stats.compare_distributions("x", rng.normal(0, 1, 200), rng.normal(1, 1, 200))
    few = realism_stats.compare_distributions("x", np.ones(3), np.ones(300) * 9)
    assert (same["verdict"], shifted["verdict"], few["verdict"]) == ("ok", "off", "few")
    share = realism_stats.compare_shares("s", np.arange(100) < 70, np.arange(100) < 20)
    assert share["distance"] == pytest.approx(0.5) and share["verdict"] == "off"
    ratio = realism_stats.compare_medians("r", np.full(10, 100.0), np.full(10, 150.0))
    assert ratio["distance"] == pytest.approx(1.5) and ratio["verdict"] == "off"


def test_object_measurements_on_a_hand_made_scan() -> None:
    # a box 4 x 2 x 1.5 m (l along rect x, ry = 0), bottom at rect y = 1.0 (rect y points down), 10 m ahead
    box = np.array([0.0, 1.0, 10.0, 1.5, 2.0, 4.0, 0.0])
    grid = np.stack(np.meshgrid(np.linspace(-1.9, 1.9, 10), np.linspace(0.3, 1.4, 10), indexing="ij"), -1)
    body = np.column_stack([grid[..., 0].ravel(), 1.0 - grid[..., 1].ravel(), np.full(100, 9.0)])
    clutter = np.array([[2.3, 0.0, 10.0], [2.3, 0.2, 10.0]])  # 0.3 m beyond the front face, above the ground
    ground = np.column_stack([np.linspace(-3, 3, 20), np.full(20, 1.05), np.full(20, 12.0)])  # 5 cm below bottom
    m = realism.object_measurements(np.vstack([body, clutter, ground]), box)
    assert m["points"] == 100
    assert m["clutter"] == pytest.approx(2 / 102)
    assert m["ground_residual"] == pytest.approx(-0.05)
    assert m["band_low"] + m["band_mid"] + m["band_top"] == pytest.approx(1.0)
    assert m["extent_l"] == pytest.approx(3.8 / 4.0) and m["extent_w"] == pytest.approx(0.0)


def test_label_statistics_from_text() -> None:
    text = ("Car 0.50 0 0 0 100 50 200 1.5 1.6 3.9 1.0 1.6 5.0 0\n"
            "Car 0.00 2 0 0 100 50 150 1.5 1.6 3.9 1.0 1.6 25.0 0\nDontCare -1 -1 -10 0 0 1 1 -1 -1 -1 -1 -1 -1 -10\n")
    stats = label_statistics([text])
    assert stats["frames"] == 1
    near, mid = stats["classes"]["Car"]["0-10 m"], stats["classes"]["Car"]["20-30 m"]
    assert near["n"] == 1 and near["truncated > 0.1"] == 1.0 and mid["occluded >= 2"] == 1.0
    small = stats["small boxes"]["Car"]  # untruncated only: the truncated car at 5 m is left out
    assert small["occlusion 2"] == {"n": 1, "area p1": 50.0 * 50.0} and small["occlusion 0"]["n"] == 0
    assert stats["DontCare"]["per frame"] == 1.0 and stats["DontCare"]["height p25/p50/p75"] == [1.0, 1.0, 1.0]
    assert load_reference()["Car"]["0-10 m"]["n"] > 1000  # the committed KITTI statistics


def test_heading_statistics_of_hand_made_frames() -> None:
    """Frame 1: two well-seen cars agree on a direction 8 deg off the camera axes, a far car deviates 20 deg from it;
    frame 2 has one car (no direction); frame 3 two well-seen cars 22.5 deg apart (resultant 0.71 < 0.9)."""
    r = np.radians
    frames = [[(r(-90 + 8), 8.0, 0), (r(90 + 8), 15.0, 1), (r(28), 40.0, 2)],
              [(r(45), 10.0, 0)],
              [(r(0), 10.0, 0), (r(22.5), 12.0, 0)]]
    stats = heading_statistics(frames)
    assert stats["frames"] == 1
    assert stats["frame direction percentiles"] == [pytest.approx(8.0)] * 101
    assert stats["deviation beyond 5 deg"] == pytest.approx(1 / 3, abs=1e-4)
    assert stats["deviation tail percentiles"] == [pytest.approx(20.0)] * 101
    # offsets from the axes (mod 90): 8, 8, 28, 45, 0, 22.5 deg
    assert stats["axis shares"] == {"0.6": pytest.approx(1 / 6, abs=1e-4), "2": pytest.approx(1 / 6, abs=1e-4),
                                    "5": pytest.approx(1 / 6, abs=1e-4), "10": pytest.approx(0.5)}
    kitti = load_headings()  # the committed KITTI statistics
    assert kitti["frames"] > 1000 and 0.1 < kitti["axis shares"]["10"] < 0.95


def test_report_of_a_world_against_itself(tiny_world: Path, tmp_path: Path) -> None:
    report = realism.realism_report(tiny_world, tiny_world, tmp_path / "work", workers=1, draws=10)
    rows = [row for rows in report["tables"].values() for row in rows] + report["budget"]
    for row in rows:
        perfect = 1.0 if row.get("kind") == "ratio" else 0.0
        assert row["distance"] in (None, perfect), row
        assert row["verdict"] in ("ok", "few"), row
    assert all(v == 0.0 for v in report["targets"].values() if v is not None)
    assert "| Car | median_iou_3d |" in realism.summary_table(report)


def test_command_against_the_real_frames(tiny_world: Path, kitti_real_root: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    assert realism.main(["--world", str(tiny_world), "--real", str(kitti_real_root), "--json", str(out),
                         "--work", str(tmp_path / "work"), "--workers", "2", "--draws", "10"]) == 0
    report = json.loads(out.read_text())
    assert report["frames"] == {"syn": 3, "real": 14}
    assert report["objects"]["real"]["Car"] == 38
    assert set(report["targets"]) == {"Car median_iou_3d", "Car share_ge_0.7", "Pedestrian share_ge_0.5"}
    text = capsys.readouterr().out
    assert "LiDAR points per object" in text and "error budget" in text
    assert sum(report["verdicts"].values()) == len([r for rows in report["tables"].values() for r in rows]) + len(
        report["budget"])
    assert text.splitlines()[-1].startswith(f"verdicts: {report['verdicts']['ok']} ok, {report['verdicts']['known']} "
                                            "known, ")
    assert not any((kitti_real_root / "ImageSets").glob("*")), "the real root is never written"


def test_bad_root_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert realism.main(["--world", str(tmp_path), "--real", str(tmp_path), "--no-labeller"]) == 2
    assert "not a KITTI root" in capsys.readouterr().err
    with pytest.raises(InputError, match="no calibration files"):
        (tmp_path / "training" / "calib").mkdir(parents=True)
        realism.measure_root(tmp_path)


def test_budget_tolerance_is_the_target_or_the_sampling_noise() -> None:
    """The issue's three target rows keep their targets; another row takes the bootstrap noise or, for a share, the
    two-proportion bound when either is larger than its stated tolerance."""
    from kitti.synthetic.realism_budget import BUDGET_TOLERANCE, _tolerance

    rf = {"share_ge_0.7": 1.0, "median_iou_3d": 0.8, "n_matched": 6}
    sf = {"share_ge_0.7": 0.85, "median_iou_3d": 0.8, "n_matched": 90}
    noise = {("Car", "all", "share_ge_0.7"): 0.3, ("Car", "10-20 m", "median_iou_3d"): 0.09}
    assert _tolerance("Car", "all", "share_ge_0.7", rf, sf, noise) == BUDGET_TOLERANCE["share_ge_0.7"]
    assert _tolerance("Car", "10-20 m", "median_iou_3d", rf, sf, noise) == pytest.approx(0.09)
    assert _tolerance("Car", "10-20 m", "median_iou_3d", rf, sf, {}) == BUDGET_TOLERANCE["median_iou_3d"]
    pooled = realism_stats.share_tolerance(1.0, 6, 0.85, 90)
    assert _tolerance("Car", "10-20 m", "share_ge_0.7", rf, sf, {}) == pytest.approx(pooled) and pooled > 0.08
