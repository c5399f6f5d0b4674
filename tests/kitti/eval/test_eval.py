"""KITTI evaluator: hand-computed cases for every protocol rule, input errors, CLI and JSON shape.

With ``n`` valid GT boxes (n < 40) and ``k`` score thresholds, entry ``t`` of the precision curve is measured at the
``t``-th threshold; R11 sums entries 0, 4, ..., 40 over 11 and R40 entries 1..40 over 40 (percent).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import ops
from kitti.errors import KittiFormatError
from kitti.eval import annos_from_labels, ap_ceiling, empty_anno, evaluate, evaluate_dirs, format_table
from kitti.eval.__main__ import main
from kitti.eval.overlaps import IOU, OVER_FIRST, bev_boxes, box_overlap, boxes_3d
from kitti.eval.synthetic import synthetic_annos
from kitti.io.labels import ObjectLabel, format_label_line, write_labels

ONE = 100 / 11  # R11 of a curve whose only non-zero entry is a precision of 1 at index 0


def obj(name: str, box: tuple[float, float, float, float], score: float | None = None, *, x: float = 0.0,
        z: float = 20.0, alpha: float = 0.0, trunc: float = 0.0, occ: int = 0) -> ObjectLabel:
    """A label whose 3D box sits at ``(x, 1.65, z)``; DontCare gets the KITTI placeholder 3D fields."""
    if name == "DontCare":
        return ObjectLabel(name, -1.0, -1, box, alpha=-10.0, score=score)
    return ObjectLabel(name, trunc, occ, box, alpha=alpha, dims=(1.5, 1.6, 3.9), location=(x, 1.65, z), ry=0.0,
                       score=score)


def frame(*labels: ObjectLabel) -> dict[str, np.ndarray]:
    return annos_from_labels(labels)


def car_row(i: int) -> tuple[float, float, float, float]:
    """Non-overlapping 2D boxes, 100 px high (valid at every difficulty)."""
    return (10.0 + 60 * i, 100.0, 60.0 + 60 * i, 200.0)


def ap(result: dict, metric: str, cls: str = "Car", overlap_set: str = "strict") -> dict[str, list[float]]:
    return result[overlap_set][cls][metric]


def test_overlap_conventions() -> None:
    # plain areas, no +1: 50 / 100 (the +1 convention would give 66 / 121)
    assert box_overlap(np.array([0.0, 0, 10, 10]), np.array([0.0, 0, 10, 5]), IOU) == 0.5
    # DontCare criterion: intersection over the first (detection) box's area
    assert box_overlap(np.array([0.0, 0, 10, 10]), np.array([5.0, 0, 100, 100]), OVER_FIRST) == 0.5
    anno = frame(ObjectLabel("Car", 0.0, 0, car_row(0), alpha=0.1, dims=(1.5, 1.6, 3.9), location=(1.0, 1.7, 20.0),
                             ry=0.3))
    assert bev_boxes(anno).tolist() == [[1.0, 20.0, 3.9, 1.6, 0.3]]
    assert boxes_3d(anno).tolist() == [[1.0, 1.7, 20.0, 1.5, 1.6, 3.9, 0.3]]
    # 3D: the box spans [y - h, y]; lifting one by half its height halves the vertical overlap: IoU 0.75 / 2.25
    lifted = boxes_3d(anno) - np.array([[0, 0.75, 0, 0, 0, 0, 0]])
    assert ops.iou_3d(lifted, boxes_3d(anno))[0, 0] == pytest.approx(1 / 3, abs=1e-12)


def test_single_perfect_detection_gives_r11_one_point_and_r40_zero() -> None:
    gt = [frame(obj("Car", car_row(0)))]
    dt = [frame(obj("Car", car_row(0), 0.9))]
    result = evaluate(gt, dt)
    for metric in ("2d", "bev", "3d", "aos"):
        assert ap(result, metric)["R11"] == pytest.approx([ONE] * 3)
        assert ap(result, metric)["R40"] == [0.0, 0.0, 0.0]
    assert set(result) == {"strict", "loose"} and set(result["strict"]) == {"Car"}  # no Pedestrian/Cyclist GT


@pytest.mark.parametrize("n_gt, r40, r11", [(10, 9 / 40 * 100, 3 / 11 * 100), (39, 38 / 40 * 100, 10 / 11 * 100),
                                            (40, 39 / 40 * 100, 10 / 11 * 100)])
def test_small_set_cap_with_identical_boxes(n_gt: int, r40: float, r11: float) -> None:
    # one car per frame, detections identical to the GT (2D, BEV and 3D IoU exactly 1), distinct scores
    gt = [frame(obj("Car", car_row(0), x=float(i))) for i in range(n_gt)]
    dt = [frame(obj("Car", car_row(0), 1.0 - i / 100, x=float(i))) for i in range(n_gt)]
    result = evaluate(gt, dt)
    for overlap_set in ("strict", "loose"):
        for metric in ("2d", "bev", "3d", "aos"):
            assert ap(result, metric, overlap_set=overlap_set)["R40"] == pytest.approx([r40] * 3, abs=1e-9)
            assert ap(result, metric, overlap_set=overlap_set)["R11"] == pytest.approx([r11] * 3, abs=1e-9)
    assert ops.iou_3d(np.array([[1.0, 1.65, 20.0, 1.5, 1.6, 3.9, 0.3]]),
                      np.array([[1.0, 1.65, 20.0, 1.5, 1.6, 3.9, 0.3]]))[0, 0] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("n_gt, ceiling", [(10, 9 / 40 * 100), (60, 100.0)])
def test_ap_ceiling_is_the_ap_of_perfect_labels(n_gt: int, ceiling: float) -> None:
    gt = [frame(obj("Car", car_row(0), x=float(i))) for i in range(n_gt)]
    assert ap(ap_ceiling(gt), "3d")["R40"] == pytest.approx([ceiling] * 3, abs=1e-9)


def test_duplicate_detection_is_a_false_positive() -> None:
    gt = [frame(obj("Car", car_row(0)), obj("Car", car_row(1), x=5.0))]
    dt = [frame(obj("Car", car_row(0), 0.9), obj("Car", car_row(0), 0.8), obj("Car", car_row(1), 0.7, x=5.0))]
    result = evaluate(gt, dt)
    # thresholds 0.9 (tp 1, fp 0) and 0.7 (tp 2, fp 1: the duplicate): curve [1, 2/3]
    for metric in ("2d", "bev", "3d"):
        assert ap(result, metric)["R11"] == pytest.approx([ONE] * 3)
        assert ap(result, metric)["R40"] == pytest.approx([2 / 3 / 40 * 100] * 3)


def test_car_detection_on_van_is_ignored_but_on_truck_is_a_false_positive() -> None:
    dt = [frame(obj("Car", car_row(0), 0.9), obj("Car", car_row(1), 0.95, x=5.0))]
    van = evaluate([frame(obj("Car", car_row(0)), obj("Van", car_row(1), x=5.0))], dt)
    truck = evaluate([frame(obj("Car", car_row(0)), obj("Truck", car_row(1), x=5.0))], dt)
    for metric in ("2d", "bev", "3d"):
        assert ap(van, metric)["R11"] == pytest.approx([ONE] * 3)  # precision 1 at the only threshold
        assert ap(truck, metric)["R11"] == pytest.approx([ONE / 2] * 3)  # 1 TP + 1 FP


def test_unmatched_van_is_not_a_false_negative_and_person_sitting_is_the_pedestrian_neighbour() -> None:
    gt = [frame(obj("Pedestrian", car_row(0)), obj("Person_sitting", car_row(1)), obj("Van", car_row(2)))]
    dt = [frame(obj("Pedestrian", car_row(0), 0.9), obj("Pedestrian", car_row(1), 0.95))]
    result = evaluate(gt, dt, classes=["pedestrian", "CAR"])
    assert ap(result, "2d", "Pedestrian")["R11"] == pytest.approx([ONE] * 3)
    assert "Car" not in result["strict"]  # only a Van: no Car ground truth


def test_dontcare_removes_false_positives_in_2d_only() -> None:
    gt = [frame(obj("Car", car_row(0)), obj("DontCare", (400.0, 80.0, 600.0, 260.0)))]
    inside = (450.0, 100.0, 500.0, 200.0)  # intersection / detection area = 1 > 0.7
    half = (350.0, 100.0, 450.0, 200.0)  # 0.5: stays a false positive
    result = evaluate(gt, [frame(obj("Car", car_row(0), 0.9), obj("Car", inside, 0.95, x=8.0))])
    assert ap(result, "2d")["R11"] == pytest.approx([ONE] * 3)
    assert ap(result, "bev")["R11"] == pytest.approx([ONE / 2] * 3)  # reference: DontCare only for 2D
    assert ap(result, "3d")["R11"] == pytest.approx([ONE / 2] * 3)
    result = evaluate(gt, [frame(obj("Car", car_row(0), 0.9), obj("Car", half, 0.95, x=8.0))])
    assert ap(result, "2d")["R11"] == pytest.approx([ONE / 2] * 3)


def test_gt_exactly_at_minimum_height_is_ignored() -> None:
    at_40 = (10.0, 100.0, 60.0, 140.0)
    above_40 = (10.0, 100.0, 60.0, 140.5)
    result = evaluate([frame(obj("Car", at_40))], [frame(obj("Car", at_40, 0.9))])
    assert ap(result, "2d")["R11"] == pytest.approx([0.0, ONE, ONE])  # devkit: height <= 40 is not Easy
    result = evaluate([frame(obj("Car", above_40))], [frame(obj("Car", above_40, 0.9))])
    assert ap(result, "2d")["R11"] == pytest.approx([ONE, ONE, ONE])
    at_25 = (10.0, 100.0, 60.0, 125.0)
    result = evaluate([frame(obj("Car", at_25))], [frame(obj("Car", at_25, 0.9))])
    assert ap(result, "2d")["R11"] == [0.0, 0.0, 0.0]


def test_difficulty_limits_on_occlusion_and_truncation() -> None:
    gt = [frame(obj("Car", car_row(0), occ=1), obj("Car", car_row(1), trunc=0.3, x=5.0),
                obj("Car", car_row(2), occ=3, x=9.0))]
    dt = [frame(obj("Car", car_row(0), 0.9), obj("Car", car_row(1), 0.8, x=5.0), obj("Car", car_row(2), 0.7, x=9.0))]
    result = evaluate(gt, dt)
    # Easy: no valid GT; Moderate: occ 1 valid, trunc 0.30 valid (<= 0.30); Hard: same two; occ 3 always ignored
    assert ap(result, "2d")["R11"] == pytest.approx([0.0, ONE, ONE])
    assert ap(result, "2d")["R40"] == pytest.approx([0.0, 1 / 40 * 100, 1 / 40 * 100])


def test_detections_below_minimum_height_are_ignored() -> None:
    gt_box = (10.0, 100.0, 60.0, 145.0)  # 45 px: valid at every level
    small = (10.0, 100.0, 60.0, 135.0)  # 35 px, IoU 35/45 = 0.78 with the GT
    far_small = (500.0, 100.0, 550.0, 130.0)  # 30 px, overlaps nothing
    result = evaluate([frame(obj("Car", gt_box))], [frame(obj("Car", small, 0.9), obj("Car", far_small, 0.95))])
    # Easy: the GT's match is an ignored detection (no TP, AP 0), the stray small box is no FP either way
    assert ap(result, "2d")["R11"] == pytest.approx([0.0, ONE / 2, ONE / 2])
    # a small detection of another class is also an "ignored detection" at Easy and can absorb the GT (reference)
    result = evaluate([frame(obj("Car", gt_box))], [frame(obj("Car", gt_box, 0.5), obj("Pedestrian", small, 0.9))])
    assert ap(result, "2d")["R11"] == pytest.approx([0.0, ONE, ONE])


def test_aos_with_flipped_headings() -> None:
    gt = [frame(*(obj("Car", car_row(i), x=5.0 * i) for i in range(4)))]
    flips = [math.pi, 0.0, math.pi, 0.0]
    dt = [frame(*(obj("Car", car_row(i), 0.9 - 0.1 * i, x=5.0 * i, alpha=flips[i]) for i in range(4)))]
    result = evaluate(gt, dt)
    # orientation similarity at the 4 thresholds: 0/1, 1/2, 1/3, 2/4 -> monotone 1/2 everywhere
    assert ap(result, "aos")["R11"] == pytest.approx([ONE / 2] * 3)
    assert ap(result, "aos")["R40"] == pytest.approx([1.5 / 40 * 100] * 3)
    assert ap(result, "2d")["R40"] == pytest.approx([3 / 40 * 100] * 3)
    no_alpha = [frame(*(obj("Car", car_row(i), 0.9, x=5.0 * i, alpha=-10.0) for i in range(4)))]
    assert "aos" not in evaluate(gt, no_alpha)["strict"]["Car"]


def test_loose_thresholds_accept_half_overlaps() -> None:
    # detection shifted by a quarter car length along x: BEV/3D IoU = 2.925 / 4.875 = 0.6, 2D identical
    gt = [frame(obj("Car", car_row(0)))]
    dt = [frame(ObjectLabel("Car", 0.0, 0, car_row(0), alpha=0.0, dims=(1.5, 1.6, 3.9), location=(0.975, 1.65, 20.0),
                            ry=0.0, score=0.9))]
    result = evaluate(gt, dt)
    assert ap(result, "bev")["R11"] == [0.0] * 3 and ap(result, "3d")["R11"] == [0.0] * 3
    assert ap(result, "bev", overlap_set="loose")["R11"] == pytest.approx([ONE] * 3)  # 0.6 > 0.5
    assert ap(result, "3d", overlap_set="loose")["R11"] == pytest.approx([ONE] * 3)
    assert ap(result, "2d", overlap_set="loose")["R11"] == pytest.approx([ONE] * 3)


def test_result_does_not_depend_on_frame_order() -> None:
    gt, dt = synthetic_annos(25, seed=3)
    order = np.random.default_rng(0).permutation(25)
    shuffled = evaluate([gt[i] for i in order], [dt[i] for i in order])
    for overlap_set, per_class in evaluate(gt, dt).items():
        for cls, per_metric in per_class.items():
            for metric, values in per_metric.items():
                for key, v in values.items():  # equal up to the summation order of the AOS similarities
                    assert shuffled[overlap_set][cls][metric][key] == pytest.approx(v, abs=1e-9)


def test_in_memory_input_errors() -> None:
    gt = [frame(obj("Car", car_row(0)))]
    bad = frame(obj("Car", car_row(0), 0.9))
    bad["score"] = np.array([np.nan])
    with pytest.raises(ValueError, match="prediction frame 0: object 0 .*score must be finite"):
        evaluate(gt, [bad])
    bad = frame(obj("Car", car_row(0), 0.9))
    bad["dimensions"] = np.array([[1.5, -1.6, 3.9]])
    with pytest.raises(ValueError, match="negative box size"):
        evaluate(gt, [bad])
    with pytest.raises(ValueError, match="1 ground-truth frames but 2 prediction frames"):
        evaluate(gt, [empty_anno(), empty_anno()])
    with pytest.raises(ValueError, match="cannot evaluate class 'Van'"):
        evaluate(gt, [empty_anno()], classes=["Van"])


def _write_frames(root: Path, gt: dict[str, list[ObjectLabel]],
                  pred: dict[str, list[ObjectLabel]]) -> tuple[Path, Path]:
    for name, frames in (("gt", gt), ("pred", pred)):
        for frame_id, labels in frames.items():
            write_labels(root / name / f"{frame_id}.txt", labels)
    (root / "pred").mkdir(exist_ok=True)
    return root / "gt", root / "pred"


def test_split_frame_without_prediction_file_has_no_detections(tmp_path: Path) -> None:
    gt_dir, pred_dir = _write_frames(
        tmp_path, {"000000": [obj("Car", car_row(0))], "000001": [obj("Car", car_row(0))], "000002": []},
        {"000000": [obj("Car", car_row(0), 0.9)]})
    (tmp_path / "split.txt").write_text("000000\n1\n")
    from_dirs = evaluate_dirs(gt_dir, pred_dir, split=tmp_path / "split.txt")
    in_memory = evaluate([frame(obj("Car", car_row(0))), frame(obj("Car", car_row(0)))],
                         [frame(obj("Car", car_row(0), 0.9)), empty_anno()])
    assert from_dirs == in_memory
    assert ap(from_dirs, "2d")["R11"] == pytest.approx([ONE] * 3)  # precision 1 at recall 1/2
    assert evaluate_dirs(gt_dir, pred_dir) == in_memory  # no split: every GT file (000002 is empty)


def test_prediction_without_score_column_is_an_error(tmp_path: Path) -> None:
    gt_dir, pred_dir = _write_frames(tmp_path, {"000000": [obj("Car", car_row(0))]}, {})
    lines = [format_label_line(obj("Car", car_row(0), 0.9)), format_label_line(obj("Car", car_row(1)))]
    (pred_dir / "000000.txt").write_text("\n".join(lines) + "\n")
    with pytest.raises(KittiFormatError, match=r"000000\.txt:2: prediction line has 15 fields, no score"):
        evaluate_dirs(gt_dir, pred_dir)
    assert main(["--gt-dir", str(gt_dir), "--pred-dir", str(pred_dir)]) == 2


def test_malformed_and_nan_lines_name_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gt_dir, pred_dir = _write_frames(tmp_path, {"000000": [obj("Car", car_row(0))]}, {})
    good = format_label_line(obj("Car", car_row(0), 0.9))
    (pred_dir / "000000.txt").write_text(good + "\n" + good.rsplit(" ", 1)[0] + " nan\n")
    assert main(["--gt-dir", str(gt_dir), "--pred-dir", str(pred_dir)]) == 2
    assert "000000.txt:2" in capsys.readouterr().err
    (pred_dir / "000000.txt").write_text(good.replace(" 1.50 ", " -1.50 ") + "\n")
    with pytest.raises(KittiFormatError, match=r"000000\.txt:1: negative box size"):
        evaluate_dirs(gt_dir, pred_dir)


def test_cli_prints_table_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gt_dir, pred_dir = _write_frames(
        tmp_path, {"000000": [obj("Car", car_row(0)), obj("Pedestrian", car_row(1), x=5.0)]},
        {"000000": [obj("Car", car_row(0), 0.9), obj("Cyclist", car_row(1), 0.9, x=5.0)]})
    out = tmp_path / "out" / "ap.json"
    assert main(["--gt-dir", str(gt_dir), "--pred-dir", str(pred_dir), "--json", str(out),
                 "--classes", "Car", "Pedestrian", "Cyclist"]) == 0
    table = capsys.readouterr().out
    assert "strict Car" in table and "R40 easy" in table
    data = json.loads(out.read_text())
    assert list(data) == ["strict", "loose"]
    for overlap_set in data.values():
        assert list(overlap_set) == ["Car", "Pedestrian"]  # no Cyclist ground truth
        for per_metric in overlap_set.values():
            assert list(per_metric) == ["bev", "3d", "2d", "aos"]
            for values in per_metric.values():
                assert list(values) == ["R40", "R11"]
                assert all(len(v) == 3 and all(isinstance(x, float) for x in v) for v in values.values())
    assert data["strict"]["Car"]["2d"]["R11"] == pytest.approx([ONE] * 3)
    assert data["strict"]["Pedestrian"]["2d"]["R11"] == [0.0, 0.0, 0.0]
    assert format_table(data).splitlines()[0] == table.splitlines()[0]


def test_real_ground_truth_against_itself_hits_the_small_set_cap(kitti_real_root: Path) -> None:
    from kitti.eval import read_gt_file

    gt = [read_gt_file(p) for p in sorted((kitti_real_root / "training" / "label_2").glob("*.txt"))]
    dt, score = [], 1.0
    for g in gt:  # every non-DontCare object detected exactly, distinct scores
        keep = g["name"] != "DontCare"
        d = {key: value[keep] for key, value in g.items()}
        d["score"] = score - 0.001 * np.arange(keep.sum())
        score -= 0.001 * keep.sum()
        dt.append(d)
    result = evaluate(gt, dt)
    limits = {"height": (40, 25, 25), "occluded": (0, 1, 2), "truncated": (0.15, 0.30, 0.50)}
    for cls in result["strict"]:
        r40, r11 = [], []
        for level in range(3):
            n = sum(int(((g["name"] == cls) & (g["bbox"][:, 3] - g["bbox"][:, 1] > limits["height"][level])
                         & (g["occluded"] <= limits["occluded"][level])
                         & (g["truncated"] <= limits["truncated"][level])).sum()) for g in gt)
            assert n < 40
            r40.append(max(n - 1, 0) / 40 * 100)
            r11.append(math.ceil(n / 4) / 11 * 100)
        for overlap_set in ("strict", "loose"):
            for metric in ("2d", "bev", "3d", "aos"):
                assert ap(result, metric, cls, overlap_set)["R40"] == pytest.approx(r40, abs=1e-9), (cls, metric)
                assert ap(result, metric, cls, overlap_set)["R11"] == pytest.approx(r11, abs=1e-9), (cls, metric)
