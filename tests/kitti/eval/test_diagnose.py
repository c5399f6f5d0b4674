"""The error budget on hand-made label sets where every figure is known."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kitti.eval.annos import annos_from_labels
from kitti.eval.box_errors import FACTORS, pair_errors, remove_error
from kitti.eval.budget import budget_from_annos, spearman
from kitti.eval.diagnose import diagnose, format_budget, main
from kitti.eval.pairing import pair_by_2d_iou
from kitti.io.labels import ObjectLabel, write_labels

REPO = Path(__file__).resolve().parents[3]
DIMS = (1.5, 1.6, 3.9)  # h, w, l


def _box2d(slot: int) -> tuple[float, float, float, float]:
    """A 2D box of its own for each object (pairing is by 2D box only, so 3D changes never break a pair)."""
    return (10.0 + 60.0 * slot, 150.0, 60.0 + 60.0 * slot, 200.0)


def _car(slot: int, x: float, z: float, *, y: float = 1.7, dims: tuple[float, float, float] = DIMS, ry: float = 0.0,
         occlusion: int = 0, score: float | None = None, cls: str = "Car",
         box2d: tuple[float, float, float, float] | None = None, truncation: float = 0.0) -> ObjectLabel:
    return ObjectLabel(cls, truncation, occlusion, box2d or _box2d(slot), alpha=0.0, dims=dims, location=(x, y, z),
                       ry=ry, score=score)


def _along_ray(obj: ObjectLabel, depth: float, lateral: float = 0.0, score: float = 0.9) -> ObjectLabel:
    """``obj`` as a label moved ``depth`` m along its viewing ray and ``lateral`` m to the right of it."""
    x, y, z = obj.location
    ux, uz = np.array([x, z]) / math.hypot(x, z)
    return _car(0, x + depth * ux + lateral * uz, z + depth * uz - lateral * ux, y=y, dims=obj.dims, ry=obj.ry,
                score=score, box2d=obj.box2d)


def _budget(gt: list[ObjectLabel], pred: list[ObjectLabel]) -> dict:
    return budget_from_annos([annos_from_labels(gt)], [annos_from_labels(pred)])


def test_exact_depth_offset_shows_in_its_bin() -> None:
    gt = [_car(0, -2.0, 6.0), _car(1, 1.0, 8.0), _car(2, 3.0, 4.0), _car(3, 2.0, 15.0), _car(4, -4.0, 25.0),
          _car(5, 5.0, 34.0), _car(6, 0.0, 50.0)]
    pred = [_along_ray(o, 0.5 if o.location[2] < 10 else 0.0) for o in gt]
    car = _budget(gt, pred)["classes"]["Car"]
    near = car["by_distance"]["0-10 m"]["errors"]
    assert near["depth_m"]["n"] == 3
    assert near["depth_m"]["median"] == pytest.approx(0.5)
    assert near["depth_m"]["median_abs"] == pytest.approx(0.5)
    assert near["lateral_m"]["median"] == pytest.approx(0.0, abs=1e-9)
    for name in ("10-20 m", "20-30 m", "30-40 m", "40+ m"):
        group = car["by_distance"][name]
        assert group["n_gt"] == group["n_matched"] == 1
        assert group["errors"]["depth_m"]["median"] == pytest.approx(0.0, abs=1e-9)
        assert group["iou_3d"]["median"] == pytest.approx(1.0)
    assert car["all"]["coverage"] == 1.0 and car["n_unmatched_pred"] == 0
    assert car["all"]["iou_3d"]["share_ge_0.7"] == pytest.approx(4 / 7)
    limit = car["limits"]
    assert limit["factor"] == "depth"
    assert "depth +0.50 m median bias at 0-10 m" in limit["text"]
    assert limit["recall"] == pytest.approx(4 / 7) and limit["gains"]["depth"] == pytest.approx(3 / 7)
    assert limit["gains"]["coverage"] == 0.0


def test_lateral_offset_gives_the_known_iou() -> None:
    """A car straight ahead, length along x: moved 1 m to the right its BEV and 3D IoU are (l - 1) / (l + 1)."""
    gt = [_car(0, 0.0, 20.0)]
    pred = [_along_ray(gt[0], 0.0, lateral=1.0)]
    car = _budget(gt, pred)["classes"]["Car"]
    errors = car["by_distance"]["20-30 m"]["errors"]
    assert errors["lateral_m"]["median"] == pytest.approx(1.0)
    assert errors["depth_m"]["median"] == pytest.approx(0.0, abs=1e-9)
    assert car["all"]["iou_bev"]["median"] == pytest.approx(2.9 / 4.9)
    assert car["all"]["iou_3d"]["median"] == pytest.approx(2.9 / 4.9)
    assert car["all"]["iou_3d"]["share_ge_0.5"] == 1.0 and car["all"]["iou_3d"]["share_ge_0.7"] == 0.0
    assert car["limits"]["factor"] == "lateral" and "lateral +1.00 m median bias at 20-30 m" in car["limits"]["text"]


def test_height_size_and_heading_errors() -> None:
    gt = [_car(0, 0.0, 12.0), _car(1, 3.0, 14.0), _car(2, -3.0, 16.0), _car(3, 6.0, 18.0)]
    pred = [
        _car(0, 0.0, 12.0, y=1.5, score=0.9),                                 # bottom 0.2 m above the ground truth
        _car(1, 3.0, 14.0, dims=(1.65, 1.6, 3.12), score=0.9),                # h x 1.1, l x 0.8
        _car(2, -3.0, 16.0, ry=math.radians(10), score=0.9),                  # heading +10 deg
        _car(3, 6.0, 18.0, ry=math.pi + math.radians(10), score=0.9),         # flipped and +10 deg
    ]
    car = _budget(gt, pred)["classes"]["Car"]
    per_box = pair_errors(np.array([[*o.location, *o.dims, o.ry] for o in gt]),
                          np.array([[*o.location, *o.dims, o.ry] for o in pred]))
    assert per_box["height_m"] == pytest.approx([0.2, 0, 0, 0], abs=1e-9)
    assert per_box["h_ratio"] == pytest.approx([1, 1.1, 1, 1])
    assert per_box["l_ratio"] == pytest.approx([1, 0.8, 1, 1])
    assert per_box["w_ratio"] == pytest.approx([1, 1, 1, 1])
    assert per_box["heading_mod_pi_deg"] == pytest.approx([0, 0, 10, 10], abs=1e-9)
    assert per_box["heading_deg"] == pytest.approx([0, 0, 10, -170], abs=1e-9)
    errors = car["by_distance"]["10-20 m"]["errors"]
    assert errors["heading_mod_pi_deg"]["median"] == pytest.approx(5.0)
    assert errors["heading_deg"]["median_abs"] == pytest.approx(5.0)
    assert errors["l_ratio"]["median"] == pytest.approx(1.0) and errors["l_ratio"]["q1"] == pytest.approx(0.95)
    assert car["all"]["direction_right"] == pytest.approx(0.75)  # the flipped box points the wrong way
    # the bottom raised 0.2 m on a 1.5 m box: vertical overlap 1.3 of a 1.7 m union
    iou = budget_from_annos([annos_from_labels(gt[:1])], [annos_from_labels(pred[:1])])["classes"]["Car"]
    assert iou["all"]["iou_3d"]["median"] == pytest.approx(1.3 / 1.7)
    assert iou["all"]["iou_bev"]["median"] == pytest.approx(1.0)


def test_coverage_is_one_to_one_at_2d_iou_07() -> None:
    gt = [_car(i, -4.0 + 2 * i, 10.0 + 5 * i) for i in range(4)]
    shifted = (10.0 + 3.0, 150.0, 60.0 + 3.0, 200.0)   # 2D IoU 47/53 = 0.89 with slot 0
    far_off = (10.0 + 60 + 12.0, 150.0, 60.0 + 60 + 12.0, 200.0)   # 2D IoU 38/62 = 0.61 with slot 1
    pred = [_car(0, -4.0, 10.0, score=0.5, box2d=shifted), _car(0, -4.0, 10.0, score=0.9),
            _car(1, -2.0, 15.0, score=0.9, box2d=far_off), _car(2, 0.0, 20.0, score=0.9, cls="Pedestrian")]
    budget = _budget(gt, pred)
    car = budget["classes"]["Car"]
    assert (car["n_gt"], car["n_pred"], car["n_matched"], car["n_unmatched_pred"]) == (4, 3, 1, 2)
    assert car["all"]["coverage"] == 0.25
    assert car["all"]["iou_3d"]["median"] == pytest.approx(1.0)
    assert "Pedestrian" not in budget["classes"]  # no ground truth of the class
    assert car["limits"]["factor"] == "coverage"
    assert car["limits"]["gains"]["coverage"] == pytest.approx(0.75)
    assert car["limits"]["text"].startswith("Car: coverage 0.25 (lowest 0.00 at 20-30 m)")


def test_pairing_takes_the_highest_iou_first() -> None:
    gt = np.array([[0, 0, 10, 10], [1, 0, 11, 10]], dtype=float)
    pred = np.array([[1, 0, 11, 10], [0.5, 0, 10.5, 10]], dtype=float)
    gt_index, pred_index = pair_by_2d_iou(gt, pred)
    assert gt_index.tolist() == [0, 1] and pred_index.tolist() == [1, 0]
    empty = pair_by_2d_iou(gt, np.zeros((0, 4)))
    assert empty[0].size == empty[1].size == 0


def test_breakdown_by_occlusion() -> None:
    gt = [_car(i, 0.5 * i, 12.0 + i, occlusion=2 if i < 2 else 0) for i in range(4)]
    pred = [_along_ray(o, -0.4 if o.occlusion == 2 else 0.0) for o in gt]
    car = _budget(gt, pred)["classes"]["Car"]
    assert car["by_occlusion"]["2"]["errors"]["depth_m"]["median"] == pytest.approx(-0.4)
    assert car["by_occlusion"]["0"]["errors"]["depth_m"]["median"] == pytest.approx(0.0, abs=1e-9)
    assert car["by_occlusion"]["1"]["n_gt"] == 0 and car["by_occlusion"]["1"]["coverage"] is None


def test_breakdown_by_truncation() -> None:
    truncations = [0.0, 0.15, 0.4, 1.0]
    gt = [_car(i, 0.5 * i, 12.0 + i, truncation=t) for i, t in enumerate(truncations)]
    pred = [_along_ray(o, -0.3 * i) for i, o in enumerate(gt)]
    car = _budget(gt, pred)["classes"]["Car"]
    groups = car["by_truncation"]
    assert list(groups) == ["0.00-0.15", "0.15-0.30", "0.30-0.50", "0.50-1.00"]
    assert [group["n_gt"] for group in groups.values()] == [1, 1, 1, 1]  # 0.15 opens its bin, 1.0 closes the last
    assert groups["0.30-0.50"]["errors"]["depth_m"]["median"] == pytest.approx(-0.6)
    assert "trunc 0.50-1.00" in format_budget(_budget(gt, pred))


def test_spearman_of_score_and_iou() -> None:
    gt = [_car(i, 0.0, 12.0 + 3 * i) for i in range(4)]
    offsets = [0.0, 0.2, 0.4, 0.6]   # 3D IoU falls with the offset
    for scores, expected in (([0.9, 0.8, 0.7, 0.6], 1.0), ([0.6, 0.7, 0.8, 0.9], -1.0), ([0.5] * 4, None)):
        pred = [_along_ray(o, d, score=s) for o, d, s in zip(gt, offsets, scores)]
        rho = _budget(gt, pred)["classes"]["Car"]["spearman_score_iou_3d"]
        assert rho == (pytest.approx(expected) if expected is not None else None)
    assert spearman(np.array([1.0, 2.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(0.9486833)


@pytest.mark.parametrize("factor", FACTORS)
def test_removing_the_only_error_restores_the_box(factor: str) -> None:
    gt = np.array([[2.0, 1.7, 15.0, 1.5, 1.6, 3.9, 0.3]])
    ray = np.array([2.0, 15.0]) / math.hypot(2.0, 15.0)
    pred = gt.copy()
    if factor == "depth":
        pred[0, [0, 2]] += 0.8 * ray
    elif factor == "lateral":
        pred[0, [0, 2]] += 0.6 * np.array([ray[1], -ray[0]])
    elif factor == "height":
        pred[0, 1] = 1.2
    elif factor == "size":
        pred[0, 3:6] = (1.2, 1.7, 4.4)
    else:
        pred[0, 6] = 1.0
    assert not np.allclose(pred, gt)
    assert np.allclose(remove_error(gt, pred, factor), gt)
    for other in FACTORS:
        if other != factor:
            assert np.allclose(remove_error(gt, pred, other), pred)


def test_perfect_labels_have_no_limit() -> None:
    gt = [_car(i, 0.0, 8.0 + 9 * i) for i in range(3)]
    car = _budget(gt, [_along_ray(o, 0.0) for o in gt])["classes"]["Car"]
    assert car["limits"]["factor"] is None and car["limits"]["recall"] == 1.0
    assert "no single error limits" in car["limits"]["text"]


def _write(directory: Path, frames: dict[str, list[ObjectLabel]]) -> Path:
    directory.mkdir()
    for frame, labels in frames.items():
        write_labels(directory / f"{frame}.txt", labels)
    return directory


def test_cli_prints_tables_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gt = [_car(0, -2.0, 6.0), _car(1, 1.0, 8.0), _car(2, 4.0, 22.0)]
    gt_dir = _write(tmp_path / "gt", {"000001": gt, "000002": gt[:1]})
    pred_dir = _write(tmp_path / "pred", {"000001": [_along_ray(o, 0.5) for o in gt]})
    out = tmp_path / "budget.json"
    assert main(["--gt-dir", str(gt_dir), "--pred-dir", str(pred_dir), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Car: 4 ground-truth boxes, 3 labels, 3 paired" in printed and "0-10 m" in printed
    written = json.loads(out.read_text())
    assert written == json.loads(json.dumps(diagnose(gt_dir, pred_dir, ["1", "2"])))
    assert written["classes"]["Car"]["all"]["coverage"] == 0.75
    assert written["classes"]["Car"]["all"]["errors"]["depth_m"]["median"] == pytest.approx(0.5, abs=0.01)
    assert format_budget(written) == format_budget(diagnose(gt_dir, pred_dir))


def test_bad_label_line_is_one_error_line(tmp_path: Path) -> None:
    gt_dir = _write(tmp_path / "gt", {"000001": [_car(0, 0.0, 10.0)]})
    pred_dir = tmp_path / "pred"
    pred_dir.mkdir()
    (pred_dir / "000001.txt").write_text("Car 0 0 0 10 150 60 200 1.5 1.6 3.9 0 1.7 10 0\n")  # no score column
    result = subprocess.run([sys.executable, "-m", "kitti.eval.diagnose", "--gt-dir", str(gt_dir), "--pred-dir",
                             str(pred_dir)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and f"{pred_dir / '000001.txt'}:1" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("change, text", [
    ({"ry": math.radians(25)}, "heading +25.0 deg (mod 180) median bias at 10-20 m"),
    ({"dims": (1.5, 1.6, 2.7)}, "length ratio 0.69 median at 10-20 m"),
    ({"y": 1.2}, "height +0.50 m median bias at 10-20 m"),
])
def test_the_limit_names_the_error(change: dict, text: str) -> None:
    gt = [_car(i, 2.0 * i, 12.0 + i) for i in range(3)]
    pred = [_car(i, 2.0 * i, 12.0 + i, score=0.9, **change) for i in range(3)]
    limit = _budget(gt, pred)["classes"]["Car"]["limits"]
    assert limit["text"] == f"Car: {text} (removing it: recall at 3D IoU >= 0.7 0.00 -> 1.00)"
