"""2D-only proof: scrambling the 3D fields (alpha, dimensions, location, rotation_y) of every training label leaves
the frustum sets of step 0 and of step 1 array-identical, and the geometric labeller's labels, the fill boxes of
skipped frustums, the training sets and instance library built with trusted geometric fits and the fused final
labels identical; these paths never parse a label_2 line in full."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import kitti.io.labels
from kitti.frustum.engine import ExtractConfig, build_set
from kitti.frustum.instances import InstanceLibrary
from kitti.frustum.library_builder import LibraryConfig, build_library
from kitti.frustum.store import KIND_TRUSTED, FrustumSet
from kitti.geometric.run import LabelConfig, label_split
from kitti.io.dataset import KittiDataset
from kitti.io.labels import format_label_line, read_labels
from tests.kitti_roots import make_kitti_root, make_pseudo_dir
from train.inference import fill_frame
from train.pipeline.fusion import publish_fused

FRAMES = [0, 7, 76]


def scramble(text: str) -> str:
    """Replace alpha, h, w, l, x, y, z, rotation_y of every line by random values (2D fields untouched)."""
    rng = np.random.default_rng(len(text))
    lines = []
    for line in text.splitlines():
        f = line.split()
        if not f:
            continue
        f[3] = f"{rng.uniform(-3, 3):.2f}"
        f[8:11] = (f"{v:.2f}" for v in rng.uniform(0.2, 9.0, 3))
        f[11:14] = (f"{v:.2f}" for v in rng.uniform(-50, 50, 3))
        f[14] = f"{rng.uniform(-3, 3):.2f}"
        lines.append(" ".join(f))
    return "\n".join(lines) + "\n"


def _sets(root: Path, pseudo: Path, out: Path) -> dict[str, dict[str, np.ndarray]]:
    build_set(ExtractConfig(data=str(root)), out / "s0", workers=1)
    build_library(LibraryConfig(data=str(root), pseudo_dir=str(pseudo)), out / "s1", workers=1)
    build_set(ExtractConfig(data=str(root), step=1, ratio=50, library=str(out / "s1" / "instances.npz"),
                            pseudo_dir=str(pseudo)), out / "s1", workers=1)
    return {name: FrustumSet.load(out / name / "frustums_train.npz").arrays for name in ("s0", "s1")}


def test_scrambled_3d_fields_give_identical_sets(kitti_real_root: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pseudo = make_pseudo_dir(tmp_path / "pseudo", kitti_real_root, FRAMES)
    clean = make_kitti_root(tmp_path / "clean", kitti_real_root, FRAMES)
    scrambled = make_kitti_root(tmp_path / "scrambled", kitti_real_root, FRAMES, scramble)
    first = "training/label_2/000000.txt"
    assert (clean / first).read_text() != (scrambled / first).read_text()

    real_parse = kitti.io.labels.parse_label_line

    def guarded(path, lineno, raw, *rest):  # full parsing of a real label file must not happen in weak mode
        assert "label_2" not in str(path), f"weak path parsed the 3D fields of {path}"
        return real_parse(path, lineno, raw, *rest)

    monkeypatch.setattr(kitti.io.labels, "parse_label_line", guarded)
    a = _sets(clean, pseudo, tmp_path / "out_clean")
    b = _sets(scrambled, pseudo, tmp_path / "out_scrambled")
    for name in ("s0", "s1"):
        assert a[name].keys() == b[name].keys()
        for key in a[name]:
            assert np.array_equal(a[name][key], b[name][key], equal_nan=True), (name, key)
    assert len(np.unique(a["s1"]["kind"])) == 3  # step 1 holds reals, proxies and pasted instances
    # the guard is effective: the explicitly named full mode does parse the 3D fields
    with pytest.raises(AssertionError, match="weak path parsed"):
        build_set(ExtractConfig(data=str(clean), subset="val", split="val", supervision="full"), tmp_path / "f", 1)


def test_scrambled_3d_fields_give_identical_geometric_labels(kitti_real_root: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The geometric labeller and the fill boxes of skipped frustums read 2D fields only."""
    clean = make_kitti_root(tmp_path / "clean", kitti_real_root, FRAMES)
    scrambled = make_kitti_root(tmp_path / "scrambled", kitti_real_root, FRAMES, scramble)
    pseudo = make_pseudo_dir(tmp_path / "pseudo", kitti_real_root, FRAMES)
    real_parse = kitti.io.labels.parse_label_line

    def guarded(path, lineno, raw, *rest):
        assert "label_2" not in str(path), f"geometric path parsed the 3D fields of {path}"
        return real_parse(path, lineno, raw, *rest)

    monkeypatch.setattr(kitti.io.labels, "parse_label_line", guarded)
    outputs, fills, trusted_sets, fused = [], [], [], []
    for root in (clean, scrambled):
        out = tmp_path / f"geometric_{root.name}"
        label_split(LabelConfig(str(root), "train", output=str(out)), workers=1)
        outputs.append({p.name: p.read_text() for p in sorted(out.glob("*.txt"))})
        # trusted fits as 3D targets and pasted instances, and the fused final labels
        sets = tmp_path / f"trusted_{root.name}"
        build_set(ExtractConfig(data=str(root), trusted_dir=str(out), trusted_min_score=0.0), sets / "s0", 1)
        build_library(LibraryConfig(data=str(root), pseudo_dir=str(pseudo), trusted_dir=str(out),
                                    trusted_min_score=0.0), sets / "s1", 1)
        trusted_sets.append({"s0": FrustumSet.load(sets / "s0" / "frustums_train.npz").arrays,
                             "s1": InstanceLibrary.load(sets / "s1" / "instances.npz").arrays})
        publish_fused(pseudo, out, sets / "final", 0.0)
        fused.append({p.name: p.read_text() for p in sorted((sets / "final").iterdir())})
        dataset = KittiDataset(root)
        for frame in FRAMES:
            predicted = read_labels(pseudo / f"{frame:06d}.txt")[::2]  # half the boxes "predicted", half filled
            fills.append([format_label_line(lab) for lab in fill_frame(dataset, frame, predicted, "lidar", "depth_2")])
    assert len(outputs[0]) == len(FRAMES) and outputs[0] == outputs[1]
    assert sum(len(text.splitlines()) for text in outputs[0].values()) > 0
    half = len(fills) // 2
    assert fills[:half] == fills[half:] and sum(map(len, fills[:half])) > 0
    assert (trusted_sets[0]["s0"]["kind"] == KIND_TRUSTED).any() and fused[0] == fused[1]
    for name in ("s0", "s1"):
        for key in trusted_sets[0][name]:
            assert np.array_equal(trusted_sets[0][name][key], trusted_sets[1][name][key], equal_nan=True), (name, key)
