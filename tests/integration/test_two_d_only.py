"""2D-only proof: scrambling the 3D fields (alpha, dimensions, location, rotation_y) of every training label leaves
the frustum sets of step 0 and of step 1 array-identical; the weak path never parses a label_2 line in full."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import kitti.io.labels
from kitti.frustum.engine import ExtractConfig, build_set
from kitti.frustum.library_builder import LibraryConfig, build_library
from kitti.frustum.store import FrustumSet
from tests.kitti_roots import make_kitti_root, make_pseudo_dir

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
    build_set(ExtractConfig(data=str(root), step=1, ratio=50.0, library=str(out / "s1" / "instances.npz"),
                            pseudo_dir=str(pseudo)), out / "s1", workers=1)
    return {name: FrustumSet.load(out / name / "frustums_train.npz").arrays for name in ("s0", "s1")}


def test_scrambled_3d_fields_give_identical_sets(kitti_real_root: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pseudo = make_pseudo_dir(tmp_path / "pseudo", kitti_real_root, FRAMES)
    clean = make_kitti_root(tmp_path / "clean", kitti_real_root, FRAMES)
    scrambled = make_kitti_root(tmp_path / "scrambled", kitti_real_root, FRAMES, scramble)
    assert (clean / "training/label_2/000000.txt").read_text() != (scrambled / "training/label_2/000000.txt").read_text()

    real_parse = kitti.io.labels.parse_label_line

    def guarded(path, lineno, raw, *args):  # full parsing of a real label file must not happen in weak mode
        assert "label_2" not in str(path), f"weak path parsed the 3D fields of {path}"
        return real_parse(path, lineno, raw, *args)

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
