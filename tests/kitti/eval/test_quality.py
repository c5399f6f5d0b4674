"""Label quality in brief: perfect labels reach the ceiling, 2D-only label files have nothing to score against."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kitti.eval.quality import format_quality, has_3d_ground_truth, label_quality
from kitti.io.labels import ObjectLabel, write_labels


def _car(slot: int, z: float, ry: float = -1.5) -> ObjectLabel:
    return ObjectLabel("Car", 0.0, 0, (100.0 + 60 * slot, 150.0, 150.0 + 60 * slot, 200.0), alpha=0.0,
                       dims=(1.5, 1.6, 3.9), location=(-4.0 + 3 * slot, 1.7, z), ry=ry)


def test_perfect_labels_reach_the_ceiling_and_a_flip_counts(tmp_path: Path) -> None:
    gt = [_car(0, 12.0), _car(1, 20.0), _car(2, 30.0), _car(3, 15.0)]
    write_labels(tmp_path / "gt" / "000000.txt", gt)
    write_labels(tmp_path / "pred" / "000000.txt", [replace(o, score=0.9) for o in gt[:3]]
                 + [replace(gt[3], ry=gt[3].ry + 3.14159, score=0.9)])
    car = label_quality(tmp_path / "gt", tmp_path / "pred", [0])["Car"]
    assert car["ap"] == pytest.approx(car["ceiling"]) and car["n_gt"] == 4
    assert car["coverage"] == 1.0 and car["share_0.7"] == 1.0 and car["median_iou"] == pytest.approx(1.0)
    assert car["direction"] == pytest.approx(0.75)
    assert "share of GT at >= 0.7 1.00" in format_quality({"Car": car})


def test_half_labelled_set_counts_the_misses(tmp_path: Path) -> None:
    gt = [_car(0, 12.0), _car(1, 20.0)]
    write_labels(tmp_path / "gt" / "000000.txt", gt)
    write_labels(tmp_path / "pred" / "000000.txt", [replace(gt[0], score=0.9)])
    car = label_quality(tmp_path / "gt", tmp_path / "pred", [0])["Car"]
    assert car["coverage"] == 0.5 and car["share_0.7"] == 0.5 and car["median_iou"] == pytest.approx(1.0)


def test_two_d_only_labels_have_no_3d_ground_truth(tmp_path: Path) -> None:
    (tmp_path / "000000.txt").write_text("Car 0.00 0 -10 100.0 150.0 150.0 200.0 -1 -1 -1 -1000 -1000 -1000 -10\n")
    assert not has_3d_ground_truth(tmp_path, [0])
    write_labels(tmp_path / "000001.txt", [_car(0, 12.0)])
    assert has_3d_ground_truth(tmp_path, [0, 1])
