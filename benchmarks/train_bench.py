"""Detector benchmark on the CPU: training samples/s (forward + backward + Adam step) and inference frustums/s for
the paper model (configs/det_sample.yaml) and the demo model (configs/demo.yaml), plus a profile of one training
iteration (share of the depth-slab grouping).

    python benchmarks/train_bench.py [--frustums SET.npz] [--iters 3] [--json out.json]

Without ``--frustums`` a 4-frame synthetic world and its step-0 set are built in a temporary directory.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import default_collate

REPO = Path(__file__).resolve().parents[1]

from kitti.atomic import atomic_write_text
from kitti.frustum.store import FrustumSet
from kitti.outputs import check_report_file
from train.config import load_config
from train.frustum_dataset import FrustumDataset
from train.losses import compute_losses
from train.model import FConvNet


def build_set(tmp: Path) -> Path:
    run = lambda *a: subprocess.run([sys.executable, *a], check=True, cwd=REPO, capture_output=True)  # noqa: E731
    run("-m", "kitti.synthetic", "--out", str(tmp / "data"), "--frames", "4", "--seed", "1")
    run("-m", "kitti.frustum_extractor", "--data", str(tmp / "data"), "--output", str(tmp / "fr"), "--set", "train")
    return tmp / "fr" / "frustums_train.npz"


def bench(name: str, frustums: FrustumSet, batch_size: int, iters: int) -> dict:
    cfg = load_config(REPO / "configs" / name)
    dataset = FrustumDataset(frustums, cfg.data, "weak", augment=True)
    samples = [dataset[i % len(dataset)] for i in range(batch_size)]
    t0 = time.perf_counter()
    for i in range(batch_size):
        dataset[i % len(dataset)]
    getitem = (time.perf_counter() - t0) / batch_size
    batch = default_collate(samples)
    torch.manual_seed(0)
    model = FConvNet(cfg)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step() -> None:
        loss, _ = compute_losses(model(batch), batch, cfg.loss, 12, "weak", 0.5)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    model.train()
    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(iters):
        step()
    train_rate = batch_size * iters / (time.perf_counter() - t0)
    with torch.profiler.profile() as prof:
        step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    grouping = next((e.cpu_time_total for e in events if e.key == "grouping"), 0.0)
    top = sorted(events, key=lambda e: -e.self_cpu_time_total)[:5]
    model.eval()
    with torch.no_grad():
        model(batch)
        t0 = time.perf_counter()
        for _ in range(iters):
            model(batch)
        infer_rate = batch_size * iters / (time.perf_counter() - t0)
    return {"config": name, "parameters": sum(p.numel() for p in model.parameters()), "batch": batch_size,
            "train_samples_per_s": round(train_rate, 2), "inference_frustums_per_s": round(infer_rate, 2),
            "dataset_ms_per_sample": round(1000 * getitem, 3),
            "grouping_share_of_train_step": round(grouping / total, 4) if total else None,
            "top_ops": {e.key: round(e.self_cpu_time_total / total, 4) for e in top}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frustums", type=Path)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.json:
        check_report_file(args.json, [args.frustums] if args.frustums else [])
    with tempfile.TemporaryDirectory() as tmp:
        path = args.frustums or build_set(Path(tmp))
        frustums = FrustumSet.load(path)
        results = [bench("det_sample.yaml", frustums, 32, args.iters), bench("demo.yaml", frustums, 32, args.iters)]
    print(f"torch threads: {torch.get_num_threads()}")
    for r in results:
        print(json.dumps(r, indent=2))
    if args.json:
        atomic_write_text(args.json, json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
