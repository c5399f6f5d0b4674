"""The review page's data side without a browser: build outputs, suspicion metrics, source sidecars, the 2D-only
rule, and ``apply`` (decisions -> label files, every bad input an error before anything is written)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

import ops
from kitti.errors import KittiFormatError
from kitti.io.dataset import KittiDataset
from kitti.io.labels import ObjectLabel, format_label_line, read_labels, write_labels
from kitti.review import metrics
from kitti.review.apply import apply_decisions
from kitti.review.build import build_review
from kitti.review.export import read_sources, render_bev

REPO = Path(__file__).resolve().parents[3]


def frame_payload(run: Path, name: str) -> dict:
    text = (run / "review" / "frames" / f"{name}.js").read_text()
    return json.loads(re.fullmatch(r"REVIEW_FRAME\((.*)\);\n", text, re.S).group(1))


def index_payload(run: Path) -> dict:
    text = (run / "review" / "index_data.js").read_text()
    return json.loads(json.loads(re.fullmatch(r"REVIEW_INDEX = JSON\.parse\((.*)\);\n", text, re.S).group(1)))


def decisions(frames: dict, review_id: str | None = None) -> dict:
    out = {"format": "kitti-review-decisions", "version": 1, "frames": frames}
    if review_id:
        out["review_id"] = review_id
    return out


def test_build_writes_every_frame(built_run: tuple[Path, dict], review_world: Path) -> None:
    run, labels = built_run
    index = index_payload(run)
    assert [name for name, _ in index["frames"]] == [f"{i:06d}" for i in sorted(labels)]
    for name, summary in index["frames"]:
        frame = int(name)
        payload = frame_payload(run, name)
        assert len(payload["boxes"]) == len(summary) == len(labels[frame])
        assert [[index["classes"][c], score, dist, index["sources"][s], sus] for c, score, dist, s, sus in summary] \
            == [[b["cls"], b["score"], b["dist"], b["source"], b["suspicion"]] for b in payload["boxes"]]
        assert (run / "review" / "frames" / f"{name}.jpg").stat().st_size > 1000
        assert (run / "review" / "frames" / f"{name}_bev.png").is_file()
        gt = [o for o in KittiDataset(review_world).labels(frame) if o.type != "DontCare"]
        for box, label in zip(payload["boxes"], read_labels(run / "label_2_pseudo" / f"{name}.txt")):
            assert box["cls"] == label.type and box["score"] == pytest.approx(label.score, abs=1e-4)
            assert box["source"] == ("alpi" if frame % 2 == 0 else ["alpi", "geometric", "prior"][box["id"] % 3])
            assert 0 <= box["suspicion"] <= 1 and box["points"] >= 0 and len(box["bev"]) == 4
            same_class = np.stack([o.box3d for o in gt if o.type == label.type])
            assert box["gt_iou"] == pytest.approx(ops.iou_3d(label.box3d[None], same_class).max(), abs=1e-3)
        assert len(payload["gt"]) == len(gt)
    sources = [index["sources"][s] for _, summary in index["frames"] for _, _, _, s, _ in summary]
    assert index["source_names"]["alpi"] == "learned" and index["source_names"]["geometric"] == "geometric"
    shares = {name: round(100 * sources.count(raw) / len(sources)) for raw, name in index["source_names"].items()}
    assert sorted(index["source_shares"].split(", ")) == sorted(f"{name} {share} %" for name, share in shares.items())
    html = (run / "review" / "index.html").read_text()
    assert "http" not in html and "//" not in re.sub(r"<!--.*?-->", "", html)  # no CDN, nothing remote
    assert not re.search(r"https?://", (run / "review" / "review.js").read_text())


def test_suspicion_components() -> None:
    good = ObjectLabel("Car", 0, 0, (100, 100, 200, 180), dims=(1.5256, 1.6286, 3.8831), location=(0, 1.7, 20),
                       ry=0.0, score=1.0)
    parts = metrics.suspicion_components(good, projected_iou=1.0, points=500)
    assert parts == {"score": 0.0, "iou2d": 0.0, "size": 0.0, "points": 0.0}
    odd = ObjectLabel("Car", 0, 0, (100, 100, 200, 180), dims=(1.5256 + 0.42, 1.6286, 3.8831), location=(0, 1.7, 20),
                      ry=0.0, score=0.25)
    parts = metrics.suspicion_components(odd, projected_iou=0.4, points=0)
    assert parts == pytest.approx({"score": 0.75, "iou2d": 0.6, "size": 1.0, "points": 1.0})
    assert metrics.suspicion(parts) == pytest.approx(0.8375)
    assert metrics.suspicion_components(odd, 1.0, None)["points"] == 0.5


def test_points_and_projection(review_world: Path) -> None:
    dataset = KittiDataset(review_world)
    gt = [o for o in dataset.labels(0) if o.type == "Car"]
    calib = dataset.calib(0)
    from kitti import geometry as g
    points = g.velo_to_rect(dataset.velodyne(0)[:, :3], calib)
    counts = metrics.points_per_box(points, gt)
    assert max(counts) > 20 and len(counts) == len(gt)
    # ground truth of the synthetic world: projected boxes agree with the annotated 2D boxes (unoccluded ones)
    ious = metrics.projected_iou([o for o in gt if o.occlusion == 0 and o.truncation == 0], calib.P2, (375, 1242))
    assert np.median(ious) > 0.7
    assert metrics.gt_match_iou(gt, gt) == pytest.approx([1.0] * len(gt))
    assert render_bev(points).max() > 0


def test_source_sidecar(tmp_path: Path) -> None:
    assert read_sources(tmp_path, 7, 2) == ["alpi", "alpi"]
    (tmp_path / "000007.source.json").write_text('["geometric", "prior"]')
    assert read_sources(tmp_path, 7, 2) == ["geometric", "prior"]
    with pytest.raises(KittiFormatError, match="000007.source.json.*list of 3 strings"):
        read_sources(tmp_path, 7, 3)


def test_ground_truth_3d_only_changes_the_gt_display(built_run: tuple[Path, dict], review_world: Path,
                                                   tmp_path: Path) -> None:
    """Scrambling the 3D fields of label_2 changes only the evaluation display (GT boxes, GT IoU): suspicion and
    every other box field are computed without ground truth."""
    run, _ = built_run
    world = tmp_path / "world"
    shutil.copytree(review_world, world)
    rng = np.random.default_rng(0)
    for path in (world / "training" / "label_2").glob("*.txt"):
        scrambled = [ObjectLabel(o.type, o.truncation, o.occlusion, o.box2d, alpha=float(rng.uniform(-3, 3)),
                                 dims=tuple(rng.uniform(0.5, 4, 3)), location=tuple(rng.uniform(-20, 40, 3)),
                                 ry=float(rng.uniform(-3, 3))) for o in read_labels(path)]
        write_labels(path, scrambled)
    other = tmp_path / "run"
    shutil.copytree(run / "label_2_pseudo", other / "label_2_pseudo")
    build_review(other, world, workers=1)
    for name in ("000000", "000001", "000002"):
        before, after = frame_payload(run, name), frame_payload(other, name)
        assert before["gt"] != after["gt"]
        for a, b in zip(before["boxes"], after["boxes"]):
            a.pop("gt_iou"), b.pop("gt_iou")
            assert a == b


def test_apply_keeps_accepted_boxes(run_copy: Path, tmp_path: Path) -> None:
    lines = {p.stem: [x for x in p.read_text().splitlines() if x.strip()]
             for p in (run_copy / "label_2_pseudo").glob("*.txt")}
    path = tmp_path / "decisions.json"
    path.write_text(json.dumps(decisions({
        "000000": {"decision": None, "note": "", "boxes": {"0": {"decision": "accept", "note": "ok"},
                                                           "1": {"decision": "reject", "note": ""}}},
        "000001": {"decision": "accept", "note": "", "boxes": {"2": {"decision": "reject", "note": "ghost"}}},
        "000002": {"decision": "reject", "note": "bad frame", "boxes": {"0": {"decision": "accept", "note": ""}}},
    })))
    out = tmp_path / "out"
    result = apply_decisions(run_copy, path, out)
    assert (out / "000000.txt").read_text().splitlines() == [lines["000000"][0]]
    assert (out / "000001.txt").read_text().splitlines() == [x for i, x in enumerate(lines["000001"]) if i != 2]
    assert (out / "000002.txt").read_text() == ""
    assert result.kept == len(lines["000001"])
    keep_all = apply_decisions(run_copy, path, tmp_path / "all", keep_undecided=True)
    assert (tmp_path / "all" / "000000.txt").read_text().splitlines() == [x for i, x in enumerate(lines["000000"])
                                                                          if i != 1]
    assert keep_all.kept == result.kept + len(lines["000000"]) - 2


@pytest.mark.parametrize("frames, message", [
    ({"000099": {"decision": "accept"}}, "unknown frame '000099'"),
    ({"000000": {"decision": None, "boxes": {"99": {"decision": "accept"}}}}, "unknown box id '99'"),
    ({"000000": {"decision": None, "boxes": {"x": {"decision": "accept"}}}}, "unknown box id 'x'"),
    ({"000000": {"decision": "maybe"}}, "decision must be"),
])
def test_apply_rejects_bad_decisions(run_copy: Path, tmp_path: Path, frames: dict, message: str) -> None:
    path = tmp_path / "decisions.json"
    path.write_text(json.dumps(decisions(frames)))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "kitti.review", "apply", "--run", str(run_copy), "--decisions",
                           str(path), "--out", str(out)], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {path}: ") and message in proc.stderr
    assert not out.exists()  # nothing written


def test_apply_refuses_changed_labels_and_other_reviews(run_copy: Path, tmp_path: Path) -> None:
    path = tmp_path / "decisions.json"
    path.write_text(json.dumps(decisions({}, review_id="0123456789abcdef")))
    with pytest.raises(KittiFormatError, match="belong to review 0123456789abcdef"):
        apply_decisions(run_copy, path, tmp_path / "out")
    path.write_text(json.dumps(decisions({})))
    label = run_copy / "label_2_pseudo" / "000001.txt"
    first = read_labels(label)[0]
    label.write_text(format_label_line(first) + "\n")
    with pytest.raises(KittiFormatError, match="000001.txt: label file changed"):
        apply_decisions(run_copy, path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_build_cli_errors(tmp_path: Path, review_world: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "kitti.review", "build", "--run", str(tmp_path), "--data",
                           str(review_world)], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr == f"error: {tmp_path / 'label_2_pseudo'}: label folder not found " \
                                                    "(expected the run's final pseudo-labels)\n"
    labels = tmp_path / "label_2_pseudo"
    labels.mkdir()
    (labels / "000000.txt").write_text("Car 0 0 0 1 2 3\n")
    proc = subprocess.run([sys.executable, "-m", "kitti.review", "build", "--run", str(tmp_path), "--data",
                           str(review_world)], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {labels / '000000.txt'}:1: expected 15 fields")


def test_pseudo_lidar_points_without_a_scan(built_run: tuple[Path, dict], review_world: Path, tmp_path: Path) -> None:
    """A data set without velodyne/ gets its points (count per box, bird's-eye view) from depth_2."""
    world = tmp_path / "world"
    shutil.copytree(review_world, world, ignore=shutil.ignore_patterns("velodyne"))
    run = tmp_path / "run"
    shutil.copytree(built_run[0] / "label_2_pseudo", run / "label_2_pseudo")
    build_review(run, world, workers=1)
    payload = frame_payload(run, "000000")
    assert payload["has_points"] and max(box["points"] for box in payload["boxes"]) > 20
    bev = cv2.imread(str(run / "review" / "frames" / "000000_bev.png"), cv2.IMREAD_GRAYSCALE)
    assert (bev > 0).sum() > 1000


def test_rebuild_skips_unchanged_inputs_and_redoes_changed_ones(run_copy: Path, review_world: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    manifest = run_copy / "review" / "manifest.json"
    before = manifest.stat().st_mtime_ns
    capsys.readouterr()
    build_review(run_copy, review_world, workers=1)
    assert "up to date" in capsys.readouterr().out and manifest.stat().st_mtime_ns == before
    label = sorted((run_copy / "label_2_pseudo").glob("*.txt"))[0]
    label.write_text("".join(label.read_text().splitlines(keepends=True)[1:]))  # drop one box
    build_review(run_copy, review_world, workers=1)
    assert "up to date" not in capsys.readouterr().out and manifest.stat().st_mtime_ns != before


def test_sigkill_during_build_then_rerun(built_run: tuple[Path, dict], review_world: Path, tmp_path: Path) -> None:
    """SIGKILL ``review build`` once it has written a frame asset: the rerun accepts its own files (the manifest
    listed the frames before any asset was written) and gives the page of an uninterrupted build."""
    import os
    import signal
    import time
    run = tmp_path / "run"
    shutil.copytree(built_run[0] / "label_2_pseudo", run / "label_2_pseudo")
    process = subprocess.Popen([sys.executable, "-m", "kitti.review", "build", "--run", str(run), "--data",
                                str(review_world), "--workers", "1"], cwd=REPO, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    frames = run / "review" / "frames"
    deadline = time.monotonic() + 120
    while not list(frames.glob("*.js")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    if process.wait() != -signal.SIGKILL:
        pytest.skip("the build finished before it could be killed")
    build_review(run, review_world, workers=1)
    assets = lambda r: {p.name: p.read_bytes() for p in (r / "review" / "frames").iterdir()}  # noqa: E731
    assert assets(run) == assets(built_run[0])
    manifest = lambda r: json.loads((r / "review" / "manifest.json").read_text())["frames"]  # noqa: E731
    assert manifest(run) == manifest(built_run[0])
