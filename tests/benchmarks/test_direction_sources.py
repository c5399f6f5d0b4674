"""benchmarks/direction_sources.py: direction shares per source and the flip rules, on hand-made labels whose
figures are known."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks.direction_sources import frame_rows, main, summary
from kitti.geometric.direction import road_side_direction
from kitti.io.labels import ObjectLabel, write_labels

AWAY, TOWARD = -math.pi / 2, math.pi / 2


def _car(slot: int, x: float, z: float, ry: float, score: float | None = None) -> ObjectLabel:
    return ObjectLabel("Car", 0.0, 0, (10.0 + 100 * slot, 150.0, 90.0 + 100 * slot, 210.0), alpha=0.0,
                       dims=(1.5, 1.6, 3.9), location=(x, 1.7, z), ry=ry, score=score)


#: per car: (x, z, ground truth, fit, learned, learned score). A: the fit follows the road-side prior and is wrong,
#: the learned box is right; B: the fit overrules the prior (a shape cue) and is right, the learned box is wrong;
#: C: all agree and are right.
CARS = [(3.0, 10.0, TOWARD, AWAY, TOWARD, 0.3), (-3.0, 15.0, AWAY, AWAY, TOWARD, 0.5),
        (1.0, 20.0, AWAY, AWAY, AWAY, 0.6)]


def test_the_cars_exercise_both_cues() -> None:
    assert road_side_direction("Car", 3.0, AWAY) == pytest.approx(AWAY)      # A's fit is the prior's
    assert road_side_direction("Car", -3.0, AWAY) == pytest.approx(TOWARD)   # B's fit is not


def _labels(column: int, scored: bool = False) -> list[ObjectLabel]:
    return [_car(i, c[0], c[1], c[column], c[5] if scored else None) for i, c in enumerate(CARS)]


def test_shares_and_rules() -> None:
    rows = frame_rows(_labels(3, True), _labels(4, True), _labels(2), "Car")
    assert [(r.geometric_right, r.learned_right, r.disagree, r.road_side) for r in rows] == [
        (False, True, True, True), (True, False, True, False), (True, True, False, True)]
    line = summary(rows)
    assert "geometric 0.667  learned 0.667" in line
    assert "flip all >= 0: 0.667 (2 turned, 0.50 right)" in line
    assert "flip road >= 0: 1.000 (1 turned, 1.00 right)" in line
    assert "flip road >= 0.4: 0.667 (0 turned, - right)" in line


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, labels in (("gt", _labels(2)), ("fits", _labels(3, True)), ("learned", _labels(4, True))):
        write_labels(tmp_path / name / "000000.txt", labels)
    (tmp_path / "split.txt").write_text("000000\n")
    assert main(["--gt-dir", str(tmp_path / "gt"), "--fits", str(tmp_path / "fits"), "--learned",
                 str(tmp_path / "learned"), "--split", str(tmp_path / "split.txt")]) == 0
    assert "geometric 0.667" in capsys.readouterr().out
