"""benchmarks/results_tables.py: the headline rows from a label folder and from run summaries, on hand-made labels
where every figure is known."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks.results_tables import HEADER, main, markdown_row, row_values
from kitti.io.labels import ObjectLabel, write_labels
from train.pipeline.label_quality import label_quality

#: four easy cars (2D boxes 60 px high, unoccluded, untruncated): (x, z)
CARS = [(-2.0, 6.0), (1.0, 8.0), (2.0, 15.0), (-4.0, 25.0)]


def _car(slot: int, x: float, z: float, score: float | None = None, depth: float = 0.0) -> ObjectLabel:
    ux, uz = x / math.hypot(x, z), z / math.hypot(x, z)
    return ObjectLabel("Car", 0.0, 0, (10.0 + 80 * slot, 150.0, 80.0 + 80 * slot, 210.0), alpha=0.0,
                       dims=(1.5, 1.6, 3.9), location=(x + depth * ux, 1.7, z + depth * uz), ry=0.0, score=score)


@pytest.fixture()
def world(tmp_path: Path) -> tuple[Path, Path, Path]:
    """``(label_2, split, labels)``: the labels have the first two cars exact, the third 2 m too far (3D IoU < 0.7),
    and none for the fourth."""
    label_2, labels = tmp_path / "label_2", tmp_path / "labels"
    label_2.mkdir()
    labels.mkdir()
    write_labels(label_2 / "000000.txt", [_car(i, x, z) for i, (x, z) in enumerate(CARS)])
    write_labels(labels / "000000.txt", [_car(0, *CARS[0], 0.9), _car(1, *CARS[1], 0.8),
                                         _car(2, *CARS[2], 0.7, depth=2.0)])
    split = tmp_path / "train.txt"
    split.write_text("0\n")
    return label_2, split, labels


def test_row_values_of_a_label_folder(world: tuple[Path, Path, Path]) -> None:
    label_2, split, labels = world
    quality = label_quality(label_2, split, [("mine", labels)])
    values = row_values(quality)
    assert values["coverage"] == pytest.approx(0.75)
    assert values["share"] == pytest.approx(0.5)  # 2 of the 4 ground-truth cars at IoU >= 0.7
    assert values["ceiling"] == pytest.approx(100 * 3 / 40)  # n = 4 boxes cap R40 at (n - 1) / 40
    assert 0 < values["ap"] <= values["ceiling"]
    row = markdown_row("1 frame", "mine", [values, values])
    assert row.startswith("| 1 frame | mine | ") and row.count("|") == len(HEADER) + 1


def test_command_line_from_labels_and_from_run_summaries(world: tuple[Path, Path, Path], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    label_2, split, labels = world
    quality = label_quality(label_2, split, [("final", labels), ("geometric", labels)])
    runs = []
    for name in ("w0", "w1"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps({"label_quality": quality}))
        runs.append(str(tmp_path / name))
    assert main(["--gt-dir", str(label_2), "--split", str(split), "--labels", f"mine={labels}",
                 "--frames", "1 real", "--runs", "final=" + ",".join(runs)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| " + " | ".join(HEADER) + " |"
    assert lines[2].startswith("| 1 real | mine | ") and lines[2].endswith("| 0.50 | 1.00 | 0.75 |")
    assert lines[3].startswith("| 2 x 1 frames | final | ") and lines[3] == lines[2].replace("1 real | mine",
                                                                                               "2 x 1 frames | final")


def test_a_run_without_summary_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--runs", f"x={tmp_path}"]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'summary.json'}: no run summary")
