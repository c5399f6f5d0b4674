"""The run summary leads with the product: final pseudo-labels (and the geometric labeller's) of the train frames
against ground truth, with the limiting error named; the val AP tables follow."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from kitti.io.labels import ObjectLabel, write_labels
from train.pipeline.label_quality import label_quality, label_sets, product_name
from train.pipeline.layout import GEOMETRIC_DIR
from train.pipeline.summary import stage_timings, write_summary

#: five easy cars (2D boxes 60 px high, unoccluded, untruncated): (x, z); three of them nearer than 10 m
CARS = [(-2.0, 6.0), (1.0, 8.0), (3.0, 4.0), (2.0, 15.0), (-4.0, 25.0)]
VAL_METRICS = {"strict": {"Car": {"bev": {"R40": [50.0, 40.0, 30.0]}, "3d": {"R40": [20.0, 10.0, 5.0]}}}}


def _car(slot: int, x: float, z: float, score: float | None = None, dims: tuple[float, float, float] = (1.5, 1.6, 3.9),
         depth: float = 0.0) -> ObjectLabel:
    ux, uz = x / math.hypot(x, z), z / math.hypot(x, z)
    return ObjectLabel("Car", 0.0, 0, (10.0 + 80 * slot, 150.0, 80.0 + 80 * slot, 210.0), alpha=0.0, dims=dims,
                       location=(x + depth * ux, 1.7, z + depth * uz), ry=0.0, score=score)


def _world(tmp_path: Path, gt_dims: tuple[float, float, float] = (1.5, 1.6, 3.9)) -> tuple[Path, Path, Path]:
    """``(label_2, train split, output)``: frame 0 holds the cars, the final labels push the near ones 0.5 m along
    their viewing ray, the geometric labeller's are exact."""
    label_2, output = tmp_path / "data" / "label_2", tmp_path / "output"
    label_2.mkdir(parents=True)
    write_labels(label_2 / "000000.txt", [_car(i, x, z, dims=gt_dims) for i, (x, z) in enumerate(CARS)])
    write_labels(label_2 / "000001.txt", [])
    split = tmp_path / "data" / "train.txt"
    split.write_text("0\n1\n")
    final = output / "label_2_pseudo"
    final.mkdir(parents=True)
    write_labels(final / "000000.txt", [_car(i, x, z, 0.9 - 0.1 * i, depth=0.5 if z < 10 else 0.0)
                                        for i, (x, z) in enumerate(CARS)])
    geometric = output / GEOMETRIC_DIR
    geometric.mkdir()
    write_labels(geometric / "000000.txt", [_car(i, x, z, 0.8) for i, (x, z) in enumerate(CARS)])
    stage = output / "carpedcyc_step_00" / "_last_val"
    stage.mkdir(parents=True)
    (stage / "metrics.json").write_text(json.dumps(VAL_METRICS))
    return label_2, split, output


def _summary(output: Path, quality: dict | None) -> str:
    return write_summary(output, {"data": "test"}, [("step 0", output / "carpedcyc_step_00")],
                         "_last_val/metrics.json", "_last_train/pseudo_quality.json", label_quality=quality)


def test_summary_leads_with_the_labels_and_the_geometric_baseline(tmp_path: Path) -> None:
    label_2, split, output = _world(tmp_path)
    quality = label_quality(label_2, split, label_sets(output, output / "label_2_pseudo"))
    markdown = _summary(output, quality)
    first_table = next(line for line in markdown.splitlines() if line.startswith("|"))
    assert first_table.startswith("| class | labels | 3D AP R40 strict |")
    assert markdown.index("## The product") < markdown.index("## Val AP R40, strict")
    assert "| step 0 | 50.0 / 40.0 / 30.0 | 20.0 / 10.0 / 5.0 |" in markdown
    # exact labels of 5 easy cars: the official R40 small-set cap (n - 1) / 40 at every difficulty
    geometric_row = next(line for line in markdown.splitlines() if line.startswith("| Car | geometric labeller |"))
    assert "| 10.0 / 10.0 / 10.0 | 10.0 / 10.0 / 10.0 | 10.0 / 10.0 / 10.0 | 1.00 | 1.00 | 1.00 / 1.00 |" \
        in geometric_row
    product_row = next(line for line in markdown.splitlines()
                       if line.startswith("| Car | learned pseudo-labels (ALPI) |"))
    assert "| 1.00 | 0.53 | 0.40 / 1.00 |" in product_row  # coverage, median IoU; 2 of 5 pairs reach 3D IoU 0.7
    assert "| Pedestrian | learned pseudo-labels (ALPI) | - |" in markdown
    assert "AP ceiling of these frames (perfect labels, 3D R40 strict): Car 10.0 / 10.0 / 10.0." in markdown
    assert ("**What limits the labels:** Car: depth +0.50 m median bias at 0-10 m (removing it: recall at 3D IoU >= "
            "0.7 0.40 -> 1.00)") in markdown

    written = json.loads((output / "summary.json").read_text())
    assert list(written)[:2] == ["run", "label_quality"]
    sets = written["label_quality"]["label_sets"]
    assert [s["name"] for s in sets] == ["learned pseudo-labels (ALPI)", "geometric labeller"]
    assert sets[1]["ap"]["strict"]["Car"]["3d"]["R40"] == pytest.approx([10.0, 10.0, 10.0])
    assert sets[0]["budget"]["classes"]["Car"]["by_distance"]["0-10 m"]["errors"]["depth_m"]["median"] \
        == pytest.approx(0.5, abs=0.01)
    assert written["label_quality"]["frames"] == 2


def test_no_baseline_row_without_geometric_labels(tmp_path: Path) -> None:
    label_2, split, output = _world(tmp_path)
    for path in (output / GEOMETRIC_DIR).iterdir():
        path.unlink()
    (output / GEOMETRIC_DIR).rmdir()
    sets = label_sets(output, output / "label_2_pseudo")
    assert [name for name, _ in sets] == ["learned pseudo-labels (ALPI)"]
    markdown = _summary(output, label_quality(label_2, split, sets))
    assert "geometric labeller" not in markdown and "| Car | learned pseudo-labels (ALPI) |" in markdown


def test_train_frames_without_3d_ground_truth(tmp_path: Path) -> None:
    label_2, split, output = _world(tmp_path, gt_dims=(0.0, 0.0, 0.0))
    quality = label_quality(label_2, split, label_sets(output, output / "label_2_pseudo"))
    assert quality is None
    markdown = _summary(output, quality)
    assert "The train frames have no 3D ground truth" in markdown and "What limits" not in markdown
    assert json.loads((output / "summary.json").read_text())["label_quality"] is None
    assert "| step 0 | 50.0 / 40.0 / 30.0 | 20.0 / 10.0 / 5.0 |" in markdown


def test_summary_shows_where_the_time_goes(tmp_path: Path) -> None:
    output = tmp_path / "output"
    step0, geometric, unfinished = output / "step0", output / "geometric_labels", output / "step1"
    for directory in (step0, geometric, unfinished):
        directory.mkdir(parents=True)
    (step0 / "manifest.json").write_text(json.dumps({"timings_s": {"data": 15.0, "train": 135.0}}))
    (geometric / "manifest.json").write_text(json.dumps({"timings_s": {"labels": 50.0}}))
    (unfinished / "manifest.json").write_text("[]")  # unknown state: no timings, no row
    timings = stage_timings([("geometric labeller", geometric), ("step 0", step0), ("step 1", unfinished)])
    assert timings == [("geometric labeller", {"labels": 50.0}), ("step 0", {"data": 15.0, "train": 135.0})]
    markdown = write_summary(output, {"data": "test"}, [], "val.json", "pseudo.json", timings=timings)
    assert "| step 0 | data 15, train 135 | 150 | 75% |" in markdown
    assert "| geometric labeller | labels 50 | 50 | 25% |" in markdown
    assert "| all stages | | 200 | 100% |" in markdown
    assert json.loads((output / "summary.json").read_text())["timings_s"]["step 0"] == {"data": 15.0, "train": 135.0}


def test_product_row_is_named_by_its_sources(tmp_path: Path) -> None:
    """Fused final labels are named by the share of boxes each labeller produced (their sidecars)."""
    (tmp_path / "000000.source.json").write_text(json.dumps(["geometric", "geometric", "alpi"]) + "\n")
    (tmp_path / "000001.source.json").write_text(json.dumps(["geometric"]) + "\n")
    (tmp_path / "000002.source.json").write_text("{not json")
    assert product_name(tmp_path) == "final labels (geometric 75 %, learned 25 %)"
    assert product_name(tmp_path / "nothing") == "learned pseudo-labels (ALPI)"
