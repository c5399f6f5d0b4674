"""torchrun with 2 CPU processes (gloo): training completes, rank 0 writes a loadable checkpoint; inference shards
frames across ranks and writes every frame."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kitti.io.dataset import KittiDataset
from tests.train.fixtures import REPO, TINY
from train.checkpoint import load_checkpoint
from train.config import config_from_dict
from train.model import FConvNet


def _torchrun(module: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           "-m", module, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=240)


def test_ddp_train_and_sharded_inference(train_world: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = _torchrun("train.train_net_det", "--output", str(out), "--frustums",
                     str(train_world / "weak" / "frustums_train.npz"), "--gpu", "-1", *TINY)
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = load_checkpoint(out / "model_final.pth")
    FConvNet(config_from_dict(state["config"])).load_state_dict(state["model"])
    proc = _torchrun("train.test_net_det", "--weights", str(out / "model_final.pth"), "--frustums",
                     str(train_world / "weak" / "frustums_val.npz"), "--data", str(train_world / "data"),
                     "--split", "val", "--output", str(tmp_path / "val"), "--gpu", "-1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    frames = KittiDataset(train_world / "data").frame_ids("val")
    assert sorted(int(p.stem) for p in (tmp_path / "val" / "data").glob("*.txt")) == frames
    assert (tmp_path / "val" / "metrics.json").is_file()
