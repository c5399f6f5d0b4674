"""End to end on a small synthetic world: step-0 sets from LiDAR and from the rendered depth (pseudo-LiDAR), via
the command line with 2 workers; the proxies land near the (synthetic) ground truth of the objects they replace."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kitti.frustum.engine import ExtractConfig, build_set
from kitti.frustum.engine import main as extractor_main
from kitti.frustum.options import FrustumOptions
from kitti.frustum.store import KIND_PROXY, KIND_REAL, FrustumSet
from kitti.io.dataset import KittiDataset

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("kitti.synthetic")
    out = tmp_path_factory.mktemp("synthetic")
    subprocess.run([sys.executable, "-m", "kitti.synthetic", "--out", str(out), "--frames", "4", "--seed", "3",
                    "--val-fraction", "0.5", "--workers", "2"], check=True, cwd=REPO, capture_output=True)
    return out


@pytest.mark.parametrize("points", ["lidar", "depth"])
def test_step0_end_to_end(world: Path, tmp_path: Path, points: str) -> None:
    args = ["--data", str(world), "--output", str(tmp_path), "--points", points, "--workers", "2",
            "--split", "trainval", "--set", "train", "--set", "val"]
    assert extractor_main(args) == 0
    manifest = json.loads((tmp_path / "frustums_train.manifest.json").read_text())
    assert manifest["point_source"] == points and manifest["count"] > 0
    fs = FrustumSet.load(tmp_path / "frustums_train.npz")
    kind = fs.arrays["kind"]
    failed = sum(n for reason, n in manifest["skipped"].items() if reason.startswith("injection_"))
    assert (kind == KIND_REAL).sum() == (kind == KIND_PROXY).sum() + failed and (kind == KIND_PROXY).sum() > 0
    if points == "depth":
        assert (fs.arrays["points"][:, 3] == 1.0).all()
    # evaluation-style check with the synthetic ground truth: proxies sit where the real objects were
    dataset = KittiDataset(world)
    errors = []
    for i in np.flatnonzero((kind[:-1] == KIND_REAL) & (kind[1:] == KIND_PROXY)):  # a real sample, then its proxy
        real, proxy = fs[int(i)], fs[int(i) + 1]
        gt = next(lab for lab in dataset.labels(real.frame_id) if lab.line == real.label_line)
        errors.append(np.hypot(*(proxy.box3d[[0, 2]] - gt.box3d[[0, 2]])))
    assert np.median(errors) < 2.0
    assert extractor_main(args) == 0  # resume: both sets up to date


def test_frustums_leave_out_the_points_claimed_by_objects_in_front(world: Path, tmp_path: Path) -> None:
    """``frustums.drop_claimed``: every object's frustum is its frustum without the option minus the points the
    geometric labeller's claims gave to the objects in front of it; the occluded objects of the world lose points."""
    sets = {}
    for drop in (False, True):
        out = tmp_path / str(drop)
        build_set(ExtractConfig(data=str(world), subset="val", split="trainval",
                                frustum=FrustumOptions(drop_claimed=drop)), out, workers=1)
        sets[drop] = FrustumSet.load(out / "frustums_val.npz")
    before = {(s.frame_id, s.label_line): s.points for s in (sets[False][i] for i in range(len(sets[False])))}
    lost = 0
    for sample in (sets[True][i] for i in range(len(sets[True]))):
        kept = {tuple(p) for p in sample.points.tolist()}
        full = before[(sample.frame_id, sample.label_line)]
        assert kept <= {tuple(p) for p in full.tolist()}
        lost += len(full) - len(kept)
    assert lost > 0
