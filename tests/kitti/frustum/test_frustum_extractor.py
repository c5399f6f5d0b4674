"""Frustum sets from the real KITTI sample: format, weak/full supervision, determinism, resume, steps >= 1, instance
library, refinement samples and bad input."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import kitti.frustum.instances
from kitti import geometry as g
from kitti.frustum.engine import ExtractConfig, build_set
from kitti.frustum.engine import main as extractor_main
from kitti.frustum.instances import InstanceLibrary, range_keep, viewing_angle
from kitti.frustum.library_builder import LibraryConfig, build_library, with_trusted_fits
from kitti.frustum.library_builder import main as instances_main
from kitti.frustum.options import FrustumOptions, RefineOptions
from kitti.frustum.pseudo_step import main as pseudolabeling_main
from kitti.frustum.refine_regions import RefineConfig, build_refine_set
from kitti.frustum.store import (
    FORMAT_VERSION,
    KIND_PASTED,
    KIND_PROXY,
    KIND_REAL,
    KIND_TRUSTED,
    FrustumSet,
    manifest_path,
)
from kitti.io.dataset import KittiDataset
from kitti.io.image import read_image
from kitti.io.labels import ObjectLabel, read_labels
from kitti.priors import MIN_HEIGHT_PX
from kitti.visualize import main as visualize_main
from tests.kitti_roots import make_kitti_root, make_pseudo_dir

FRAMES = [0, 3, 7, 76]


@pytest.fixture(scope="module")
def root(kitti_real_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_kitti_root(tmp_path_factory.mktemp("kitti"), kitti_real_root, FRAMES)


@pytest.fixture(scope="module")
def step0(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("step0")
    build_set(ExtractConfig(data=str(root)), out, workers=1)
    return out / "frustums_train.npz"


def test_step0_format_and_weak_supervision(step0: Path, root: Path) -> None:
    fs = FrustumSet.load(step0)
    a = fs.arrays
    assert int(a["format_version"]) == FORMAT_VERSION and len(fs) > 50
    assert a["points"].dtype == np.float32 and a["points"].shape[1] == 4
    assert a["point_offsets"][0] == 0 and a["point_offsets"][-1] == len(a["points"])
    real, proxy = a["kind"] == KIND_REAL, a["kind"] == KIND_PROXY
    assert real.sum() == proxy.sum() and not (a["kind"] == KIND_PASTED).any()  # one proxy per real copy
    assert not a["has_3d"][real].any() and np.isnan(a["box3d"][real]).all()
    assert a["has_3d"][proxy].all() and np.isfinite(a["box3d"][proxy]).all()
    assert (a["label_line"][proxy] == -1).all() and (a["label_line"][real] >= 1).all()
    dataset = KittiDataset(root)
    for i in np.flatnonzero(real)[:40]:
        s = fs[i]
        assert (s.seg == -1).all()
        label = next(lab for lab in dataset.labels_2d(s.frame_id) if lab.line == s.label_line)
        assert np.allclose(s.box2d_target, label.box2d, atol=1e-3)  # annotated box = 2D target
        assert label.height_px >= MIN_HEIGHT_PX and s.class_name == label.type
        uv, _ = g.project_rect_to_image(s.points, s.P2.astype(np.float64))
        assert (uv[:, 0] >= s.box2d[0] - 1e-3).all() and (uv[:, 0] < s.box2d[2] + 1e-3).all()
        assert ((s.points[:, 2] > s.depth_window[0]) & (s.points[:, 2] < s.depth_window[1])).sum() >= 5
    for i in np.flatnonzero(proxy)[:40]:
        s = fs[i]
        assert set(np.unique(s.seg)) <= {0, 1} and (s.seg == 1).sum() >= 5
        hull = g.project_boxes_to_image(s.box3d[None].astype(np.float64), s.P2.astype(np.float64),
                                        tuple(s.image_size))[0]
        assert np.allclose(hull, s.box2d_target, atol=0.05)
    manifest = json.loads(manifest_path(step0).read_text())
    assert manifest["supervision"] == "weak" and manifest["point_source"] == "lidar"
    assert sum(c["real"] for c in manifest["counts"].values()) == real.sum()
    assert manifest["skipped"].get("below_min_height", 0) > 0


def test_determinism_across_workers_and_resume(step0: Path, root: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    build_set(ExtractConfig(data=str(root)), tmp_path, workers=2)
    a, b = FrustumSet.load(step0).arrays, FrustumSet.load(tmp_path / "frustums_train.npz").arrays
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)
    mtime = (tmp_path / "frustums_train.npz").stat().st_mtime_ns
    build_set(ExtractConfig(data=str(root)), tmp_path, workers=1)
    assert "up to date" in capsys.readouterr().out
    assert (tmp_path / "frustums_train.npz").stat().st_mtime_ns == mtime
    manifest_path(tmp_path / "frustums_train.npz").unlink()  # partial set: regenerated
    build_set(ExtractConfig(data=str(root)), tmp_path, workers=1)
    assert "up to date" not in capsys.readouterr().out
    other = FrustumSet.load(tmp_path / "frustums_train.npz").arrays
    assert np.array_equal(other["points"], a["points"])
    build_set(ExtractConfig(data=str(root), seed=1), tmp_path, workers=1)  # other seed: other jitter
    assert not np.array_equal(FrustumSet.load(tmp_path / "frustums_train.npz").arrays["box2d"], a["box2d"])


def test_val_pseudo_and_full_sets(root: Path, tmp_path: Path) -> None:
    val = build_set(ExtractConfig(data=str(root), subset="val", split="val"), tmp_path, workers=1)
    fs = FrustumSet.load(tmp_path / "frustums_val.npz")
    assert val["count"] == len(fs) and (fs.arrays["kind"] == KIND_REAL).all()
    assert np.array_equal(fs.arrays["box2d"], fs.arrays["box2d_target"])  # no jitter
    full = build_set(ExtractConfig(data=str(root), subset="pseudo", supervision="full"), tmp_path, workers=1)
    fs = FrustumSet.load(tmp_path / "frustums_pseudo.npz")
    assert full["supervision"] == "full" and fs.arrays["has_3d"].all()
    for s in (fs[i] for i in range(len(fs))):
        label = next(lab for lab in read_labels(root / "training" / "label_2" / f"{s.frame_id:06d}.txt")
                     if lab.line == s.label_line)
        assert np.allclose(s.box3d, label.box3d, atol=1e-4) and (s.seg == 1).any()
        assert np.array_equal(s.seg, g.points_in_boxes_mask(s.points, label.box3d[None])[:, 0].astype(np.int8))


def test_trusted_geometric_fits(root: Path, kitti_real_root: Path, tmp_path: Path) -> None:
    """Fits whose score reaches the threshold become 3D targets (kind ``trusted``) of real training objects; lower
    scores, val/pseudo sets and ``full`` mode are unaffected. Stand-in fits: the labels with score 0.9 (Cars) and
    0.2 (others)."""
    fits = tmp_path / "fits"
    fits.mkdir()
    for frame in FRAMES:
        lines = (kitti_real_root / "training" / "label_2" / f"{frame:06d}.txt").read_text().splitlines()
        (fits / f"{frame:06d}.txt").write_text("".join(
            f"{line} {0.9 if line.startswith('Car') else 0.2}\n" for line in lines if line.strip()))
    cfg = ExtractConfig(data=str(root), frustum=FrustumOptions(copies=1), trusted_dir=str(fits), trusted_min_score=0.6)
    manifest = build_set(cfg, tmp_path / "t", workers=1)
    fs = FrustumSet.load(tmp_path / "t" / "frustums_train.npz")
    trusted = fs.arrays["kind"] == KIND_TRUSTED
    assert trusted.any() and manifest["skipped"]["trusted_fit"] > 0
    assert (fs.arrays["class_id"][trusted] == 0).all() and fs.arrays["has_3d"][trusted].all()
    real = fs.arrays["kind"] == KIND_REAL
    assert real.any() and not fs.arrays["has_3d"][real].any()  # low-score fits: still 2D-only reals
    for i in np.flatnonzero(trusted):
        s = fs[i]
        label = next(lab for lab in read_labels(fits / f"{s.frame_id:06d}.txt") if lab.line == s.label_line)
        assert np.allclose(s.box3d, label.box3d, atol=1e-4)
        assert np.array_equal(s.seg, g.points_in_boxes_mask(s.points, label.box3d[None])[:, 0].astype(np.int8))
    val = build_set(ExtractConfig(data=str(root), subset="val", split="val", trusted_dir=str(fits)), tmp_path / "v",
                    workers=1)
    assert val["counts"]["Car"]["trusted"] == 0
    changed = build_set(ExtractConfig(data=str(root), frustum=FrustumOptions(copies=1), trusted_dir=str(fits),
                                      trusted_min_score=0.1), tmp_path / "t", workers=1)
    assert changed["counts"]["Pedestrian"]["trusted"] > 0  # a new threshold rebuilds the set


def test_step1_with_library(root: Path, kitti_real_root: Path, tmp_path: Path) -> None:
    pseudo = make_pseudo_dir(tmp_path / "pseudo", kitti_real_root, FRAMES)
    info = build_library(LibraryConfig(data=str(root), pseudo_dir=str(pseudo)), tmp_path, workers=1)
    library = InstanceLibrary.load(tmp_path / "instances.npz")
    assert info["count"] == len(library) > 5 and info["skipped"]["out_of_depth_range"] > 0
    a = library.arrays
    for k in range(len(library)):
        pts = a["points"][a["point_offsets"][k]:a["point_offsets"][k + 1]]
        assert g.points_in_boxes_mask(pts, a["box3d"][k][None].astype(np.float64), margin=1e-4).all()
        assert 10 < a["box3d"][k, 2] < 35
    assert np.allclose(a["angle"], viewing_angle(a["box3d"][:, 0], a["box3d"][:, 2]), atol=1e-6)
    common = dict(data=str(root), step=1, library=str(tmp_path / "instances.npz"), pseudo_dir=str(pseudo))
    for ratio, kinds in ((0, {KIND_REAL, KIND_PASTED}), (50, {KIND_REAL, KIND_PASTED, KIND_PROXY}),
                         (100, {KIND_REAL, KIND_PROXY})):
        out = tmp_path / f"r{ratio}"
        manifest = build_set(ExtractConfig(ratio=ratio, **common), out, workers=1)
        fs = FrustumSet.load(out / "frustums_train.npz")
        assert set(np.unique(fs.arrays["kind"])) == kinds, ratio
        assert manifest["step"] == 1 and manifest["ratio"] == ratio
    real = fs.arrays["kind"] == KIND_REAL
    assert np.isfinite(fs.arrays["prev_box3d"][real, 0]).mean() > 0.9  # pseudo = labels: nearly all matched
    fs = FrustumSet.load(tmp_path / "r0" / "frustums_train.npz")
    for i in np.flatnonzero(fs.arrays["kind"] == KIND_PASTED)[:30]:
        s = fs[i]
        assert (s.seg == 1).sum() >= 5 and s.has_3d and s.label_line == -1


def test_refinement_trains_on_trusted_fits(root: Path, kitti_real_root: Path, tmp_path: Path) -> None:
    """With trusted fits, the refinement's train targets are the fits (score >= the minimum) in place of the
    pseudo-boxes they match; a fit below the minimum changes nothing, and val / pseudo sets keep the pseudo-boxes."""
    pseudo = make_pseudo_dir(tmp_path / "pseudo", kitti_real_root, FRAMES)
    fits = tmp_path / "fits"
    fits.mkdir()
    moved = {}
    for frame in FRAMES:
        lines = []
        for k, line in enumerate((pseudo / f"{frame:06d}.txt").read_text().splitlines()):
            f = line.split()
            if f[0] in ("Car", "Pedestrian", "Cyclist"):
                f[13] = f"{float(f[13]) + 0.5:.2f}"  # the fit is 0.5 m deeper than the pseudo-box
                f[15] = "0.8" if k % 2 == 0 else "0.4"
                moved[(frame, float(f[13]))] = k % 2 == 0
            lines.append(" ".join(f))
        (fits / f"{frame:06d}.txt").write_text("\n".join(lines) + "\n")
    plain = RefineConfig(data=str(root), pseudo_dir=str(pseudo), options=RefineOptions(copies=1))
    build_refine_set(plain, tmp_path / "plain", workers=1)
    build_refine_set(replace(plain, trusted_dir=str(fits), trusted_min_score=0.6), tmp_path / "fits_out", workers=1)
    before = FrustumSet.load(tmp_path / "plain" / "refine_train.npz").arrays
    after = FrustumSet.load(tmp_path / "fits_out" / "refine_train.npz").arrays
    assert len(before["box3d"]) == len(after["box3d"]) > 0
    z_before = {(int(f), round(float(z), 2)) for f, z in zip(before["frame_id"], before["box3d"][:, 2])}
    trusted = low = 0
    for frame, z in zip(after["frame_id"], after["box3d"][:, 2]):
        key = (int(frame), round(float(z), 2))
        if key in z_before:
            low += 1  # a pseudo-box kept: its fit scored below the minimum
        else:
            assert moved[(int(frame), round(float(z), 2))]  # replaced by a fit that scored >= the minimum
            trusted += 1
    assert trusted > 0 and low > 0
    val = replace(plain, subset="val", split="train", trusted_dir=str(fits))
    build_refine_set(val, tmp_path / "val_out", workers=1)
    val_z = FrustumSet.load(tmp_path / "val_out" / "refine_val.npz").arrays["box3d"][:, 2]
    assert {round(float(z), 2) for z in val_z} <= {z for _, z in z_before}


def test_instance_paste_uses_the_same_side(monkeypatch: pytest.MonkeyPatch) -> None:
    boxes = np.array([[-8, 1.6, 20, 1.5, 1.6, 3.9, 0.3], [8, 1.6, 20, 1.5, 1.6, 3.9, -0.3]], np.float32)
    pts = np.concatenate([np.tile(b[:3], (20, 1)) for b in boxes])
    arrays = {"points": np.concatenate([pts, np.ones((40, 1))], 1).astype(np.float32),
              "point_offsets": np.array([0, 20, 40]), "box3d": boxes, "class_id": np.zeros(2, np.int8),
              "angle": viewing_angle(boxes[:, 0], boxes[:, 2]).astype(np.float32), "score": np.ones(2, np.float32),
              "iou2d": np.ones(2, np.float32), "frame_id": np.zeros(2), "label_line": np.array([1, 2])}
    lib = InstanceLibrary(arrays)
    monkeypatch.setattr(kitti.frustum.instances, "NEAREST_KEYS", 1)
    for side in (-1, 1):
        box, points = lib.paste(0, np.array([side * 5.0, 1.7, 15.0]), np.random.default_rng(0))
        assert box[6] == pytest.approx(boxes[int(side > 0), 6])  # left query -> left instance
        assert np.allclose(points[:, :3], [side * 5.0, 1.7, 15.0], atol=1e-5)


def test_instance_paste_thins_points_to_the_new_range() -> None:
    """A pasted instance has the point density of the range it is pasted at: moved from 10 m to 20 m it keeps at most
    (10 / 20)^2 of its points; an instance no farther than the target is preferred (it can be thinned, a farther one
    cannot gain returns)."""
    boxes = np.array([[0, 1.6, 10, 1.7, 0.6, 0.8, 0.3], [0, 1.6, 40, 1.7, 0.6, 1.2, 0.3]], np.float32)
    sizes = (400, 25)
    pts = np.concatenate([b[:3] + np.random.default_rng(0).normal(0, 0.2, (n, 3)) for b, n in zip(boxes, sizes)])
    arrays = {"points": np.concatenate([pts, np.ones((len(pts), 1))], 1).astype(np.float32),
              "point_offsets": np.array([0, sizes[0], sum(sizes)]), "box3d": boxes, "class_id": np.ones(2, np.int8),
              "angle": viewing_angle(boxes[:, 0], boxes[:, 2]).astype(np.float32), "score": np.ones(2, np.float32),
              "iou2d": np.ones(2, np.float32), "frame_id": np.zeros(2), "label_line": np.array([1, 2])}
    lib = InstanceLibrary(arrays)
    assert range_keep(10.0, 20.0) == pytest.approx(0.25) and range_keep(20.0, 10.0) == 1.0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        box, points = lib.paste(1, np.array([0.0, 1.6, 20.0]), rng)
        assert box[5] == pytest.approx(0.8)  # the 10 m instance, not the 40 m one
        assert 0.3 * 0.25 * 400 <= len(points) <= 0.25 * 400
        box, points = lib.paste(1, np.array([0.0, 1.6, 10.0]), rng)
        assert len(points) >= 0.3 * 400  # same range: only the random keep fraction


def test_refinement_sets(root: Path, kitti_real_root: Path, tmp_path: Path) -> None:
    pseudo = make_pseudo_dir(tmp_path / "pseudo", kitti_real_root, FRAMES)
    info = build_refine_set(RefineConfig(data=str(root), pseudo_dir=str(pseudo)), tmp_path, workers=1)
    fs = FrustumSet.load(tmp_path / "refine_train.npz")
    assert info["count"] == len(fs) > 0 and "region_box3d" in fs.arrays and fs.arrays["has_3d"].all()
    for s in (fs[i] for i in range(0, len(fs), 7)):
        assert g.points_in_boxes_mask(s.points, s.region_box3d[None].astype(np.float64), margin=1e-4).all()
        assert np.array_equal(s.seg, g.points_in_boxes_mask(s.points, s.box3d[None])[:, 0].astype(np.int8))
        assert s.region_box3d[5] == pytest.approx(1.2 * s.box3d[5], rel=0.06)
        assert s.frustum_angle == pytest.approx(-np.arctan2(s.region_box3d[2], s.region_box3d[0]), abs=1e-5)
    val = build_refine_set(RefineConfig(data=str(root), pseudo_dir=str(pseudo), subset="val", split="val"),
                           tmp_path, workers=1)
    assert val["skipped"].get("val_filtered", 0) > 0


def test_bad_input(root: Path, kitti_real_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = make_kitti_root(tmp_path / "bad", kitti_real_root, [0, 3])
    (bad / "training" / "label_2" / "000000.txt").write_text("")  # a frame without objects
    info = build_set(ExtractConfig(data=str(bad), subset="val", split="val"), tmp_path / "o", workers=1)
    assert info["skipped"]["frames_without_objects"] == 1
    # far-away tiny boxes: too few points, skipped and counted
    (bad / "training" / "label_2" / "000003.txt").write_text(
        "Car 0.00 0 0.0 600.0 170.0 602.0 200.0 1.5 1.6 3.9 0.0 1.6 30.0 0.0\n")
    info = build_set(ExtractConfig(data=str(bad), subset="val", split="val"), tmp_path / "o2", workers=1)
    assert info["count"] == 0 and info["skipped"]["too_few_points"] == 1
    (bad / "training" / "label_2" / "000003.txt").unlink()
    assert extractor_main(["--data", str(bad), "--output", str(tmp_path / "o3"), "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "000003" in err and "Traceback" not in err
    pseudo = make_pseudo_dir(tmp_path / "pseudo", kitti_real_root, [0])  # 000003 missing
    assert instances_main(["--data", str(root), "--output", str(tmp_path / "o4"), "--step", "0",
                           "--pseudo-dir", str(pseudo), "--split", "train", "--workers", "1"]) == 2
    assert "pseudo/000003.txt" in capsys.readouterr().err
    pseudo = make_pseudo_dir(tmp_path / "pseudo2", kitti_real_root, FRAMES)
    (pseudo / "000007.txt").write_text("Car 0 0 0 1 2 3 4 1 1 1 0 0 10 0\n")  # no score
    assert instances_main(["--data", str(root), "--output", str(tmp_path / "o5"), "--step", "0",
                           "--pseudo-dir", str(pseudo), "--workers", "1"]) == 2
    assert "000007.txt:1" in capsys.readouterr().err
    (pseudo / "000007.txt").write_text("Car 0 0 0 1 2 3\n")  # malformed
    assert pseudolabeling_main(["--data", str(root), "--output", str(tmp_path / "o6"), "--step", "0", "--ratio",
                                "100", "--pseudo-dir", str(pseudo), "--workers", "1"]) == 2
    assert "000007.txt:1" in capsys.readouterr().err
    assert pseudolabeling_main(["--data", str(root), "--output", str(tmp_path / "o7"), "--step", "0", "--ratio",
                                "30", "--pseudo-dir", str(pseudo), "--workers", "1"]) == 2
    assert "instances.npz" in capsys.readouterr().err  # no library


def test_frustum_render_tool(step0: Path, root: Path, tmp_path: Path) -> None:
    assert visualize_main(["--root", str(root), "--out", str(tmp_path), "--frustum-set", str(step0),
                           "--samples", "0", "1"]) == 0
    first = read_image(tmp_path / "frustums_train_000000.png")  # a real sample stacked over its proxy
    second = read_image(tmp_path / "frustums_train_000001.png")  # the proxy alone
    assert first.shape[0] == 2 * second.shape[0] and first.shape[1] == second.shape[1] > 1242


def test_data_config_reaches_the_builders(root: Path, kitti_real_root: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture) -> None:
    """``--data-config`` tunables change what the set and library builders produce, and a bad key exits 2."""
    config = tmp_path / "data.yaml"
    config.write_text("_base_: " + str(Path(__file__).resolve().parents[3] / "configs/data/default.yaml") +
                      "\nfrustums:\n  copies: 2\nlibrary:\n  min_score: 1.0\n")
    assert extractor_main(["--data", str(root), "--output", str(tmp_path / "f"), "--workers", "1",
                           "--data-config", str(config)]) == 0
    fs = FrustumSet.load(tmp_path / "f" / "frustums_train.npz")
    real = fs.arrays["kind"] == KIND_REAL
    keys = list(zip(fs.arrays["frame_id"][real], fs.arrays["label_line"][real]))
    assert len(keys) > 10 and max(keys.count(k) for k in set(keys)) == 2  # 2 jittered copies, not 5
    manifest = json.loads(manifest_path(tmp_path / "f" / "frustums_train.npz").read_text())
    assert manifest["inputs"]["frustum"]["copies"] == 2
    pseudo = make_pseudo_dir(tmp_path / "pseudo", kitti_real_root, FRAMES)
    assert instances_main(["--data", str(root), "--output", str(tmp_path / "l"), "--step", "0", "--pseudo-dir",
                           str(pseudo), "--workers", "1", "--data-config", str(config)]) == 0
    library = json.loads(manifest_path(tmp_path / "l" / "instances.npz").read_text())
    assert library["count"] == 0 and library["skipped"]["low_score"] > 0  # the pseudo-boxes score 0.9 < 1.0
    config.write_text("frustums:\n  copyes: 2\n")
    assert extractor_main(["--data", str(root), "--output", str(tmp_path / "g"), "--data-config", str(config)]) == 2
    assert "unknown key 'frustums.copyes'" in capsys.readouterr().err


def test_trusted_fits_replace_matching_pseudo_boxes() -> None:
    """A trusted fit replaces the same-class pseudo-box it overlaps, is added where none matches, and a low-score
    fit changes nothing."""
    def label(kind: str, box2d: tuple[float, float, float, float], z: float, score: float) -> ObjectLabel:
        return ObjectLabel(kind, 0.0, 0, box2d, "x", 1, dims=(1.5, 1.6, 3.9), location=(0.0, 1.6, z), ry=0.0,
                           score=score)

    pseudo = [label("Car", (100, 100, 200, 180), 20.0, 0.5), label("Car", (400, 100, 480, 160), 30.0, 0.5)]
    fits = [label("Car", (102, 100, 200, 182), 21.0, 0.9), label("Pedestrian", (600, 90, 630, 170), 12.0, 0.8),
            label("Car", (400, 100, 480, 160), 33.0, 0.3)]
    merged = with_trusted_fits(pseudo, fits, min_score=0.6)
    assert sorted((m.type, m.location[2]) for m in merged) == [("Car", 21.0), ("Car", 30.0), ("Pedestrian", 12.0)]
