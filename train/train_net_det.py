"""Train the F-ConvNet detector on a frustum set (weak ALPI or full supervision).

    python -m train.train_net_det --config configs/det_sample.yaml --step 0 --ratio 30 --output output/step_00 \\
        [--frustums output/step_00/frustums_train.npz] [--supervision weak|full] [--resume] [--gpu 0] [KEY=VALUE ...]
    python -m train.train_net_det --config configs/refine_sample.yaml --output output/train_refine \
        [--frustums output/train_refine/refine_train.npz]                (refinement stage, full losses)
    torchrun --nproc_per_node K -m train.train_net_det ...      (DistributedDataParallel; rank 0 writes)

Outputs in ``--output``: ``config.yaml`` (resolved), ``model_last.pth`` after every epoch, ``model_final.pth`` at
the end, ``train_log.jsonl`` (one JSON line per epoch: mean loss terms, lr, seconds), TensorBoard scalars under
``tb/``. All files are written atomically. Checkpoint selection: the last epoch (never a 3D metric on val). The
logged ``iou3d`` is the training 3D IoU of samples with a usable 3D target: injected objects in weak mode (their
box is known by construction), every object in full mode.

Resume (``--resume``): restarts after the last completed epoch of ``model_last.pth``; sample order and
augmentation depend only on (seed, epoch, index), so the result equals an uninterrupted run (same machine, same
process count). Each step trains from scratch (no weight transfer). The size-prior weight is
``loss.size_prior_step0`` at step 0 and ``loss.size_prior_later`` at steps >= 1.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm

from kitti.atomic import atomic_write_text, ensure_dir, parse_json_object
from kitti.errors import CheckpointError, KittiFormatError, cli
from kitti.frustum.store import FrustumSet, read_manifest
from kitti.options_cli import add_arguments, from_args
from train.args import TrainArgs
from train.checkpoint import load_checkpoint, save_checkpoint
from train.config import Config, ConfigError, dump_config, load_config
from train.datasets import build_dataset
from train.distributed import Context, session
from train.losses import compute_losses, training_metrics
from train.model import FConvNet


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m train.train_net_det", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser, TrainArgs)
    return parser


def _check_set(path: Path, supervision: str, kind: str) -> FrustumSet:
    manifest = read_manifest(path)
    if manifest is None:
        raise KittiFormatError(path, "frustum set manifest not found (incomplete or missing set)")
    if kind == "frustum" and supervision == "full" and manifest.get("supervision") == "weak":
        raise KittiFormatError(path, "written with --supervision weak (no 3D boxes for real objects); "
                                     "full training needs a set written with --supervision full")
    return FrustumSet.load(path)


def _write_log(path: Path, records: list[dict]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in records))


def _read_log(path: Path, epochs: int) -> list[dict]:
    if not path.is_file():
        return []
    records = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        record = parse_json_object(line, path, "a training log record", number)
        if not isinstance(record.get("epoch"), int) or isinstance(record["epoch"], bool):
            raise KittiFormatError(path, "expected an integer 'epoch' in every record (remove the file to restart "
                                         "the log)", number)
        if record["epoch"] < epochs:
            records.append(record)
    return records


def _without_epochs(config: dict) -> dict:
    train = config.get("train", {})
    return {**config, "train": {k: v for k, v in train.items() if k != "epochs"} if isinstance(train, dict) else train}


def _resume(path: Path, model: FConvNet, optimizer: torch.optim.Optimizer, scheduler: Any, cfg: Config,
            supervision: str, device: torch.device) -> int:
    """Load the model, optimizer and scheduler states of the checkpoint ``path``; returns its epoch count."""
    state = load_checkpoint(path, device)
    if (_without_epochs(state["config"]) != _without_epochs(cfg.to_dict())
            or state.get("meta", {}).get("supervision") != supervision):
        raise ConfigError(f"{path}: config or supervision differ from this run "
                          f"(only train.epochs may change); resume with the same settings or use a new --output")
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise CheckpointError(path, f"cannot resume from it ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:120] if str(exc) else ''}); remove it to restart "
                              f"training") from None
    return int(state.get("epoch", 0))


def _loader(frustums: FrustumSet, cfg: Config, supervision: str, ctx: Context) -> tuple[Any, Any, DataLoader]:
    """The training dataset, its (distributed) sampler and the loader of ``train.batch_size / processes``
    samples per batch."""
    tc = cfg.train
    dataset = build_dataset(frustums, cfg.data, supervision, augment=True, seed=tc.seed)
    sampler = DistributedSampler(dataset, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True, seed=tc.seed,
                                 drop_last=True)
    per_rank = max(2, tc.batch_size // ctx.world_size)
    loader = DataLoader(dataset, batch_size=per_rank, sampler=sampler, num_workers=tc.workers, drop_last=True,
                        pin_memory=ctx.device.type == "cuda")
    if len(loader) == 0:
        raise ValueError(f"{frustums.path}: {len(dataset)} samples, fewer than one batch of {per_rank} per process")
    return dataset, sampler, loader


def _epoch(net: torch.nn.Module, model: FConvNet, loader: DataLoader, optimizer: torch.optim.Optimizer, cfg: Config,
           supervision: str, size_prior_weight: float, ctx: Context, bar: tqdm, epoch: int) -> dict[str, float]:
    """One training epoch; returns the mean of every finite loss term and metric."""
    net.train()
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for batch in loader:
        batch = {k: v.to(ctx.device, non_blocking=True) for k, v in batch.items()}
        out = net(batch)
        loss, terms = compute_losses(out, batch, cfg.loss, model.num_bins, supervision, size_prior_weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        values = {"loss": float(loss.detach()), **{k: float(v.detach()) for k, v in terms.items()},
                  **training_metrics(out, batch, model.num_bins, supervision)}
        for k, v in values.items():
            if np.isfinite(v):
                sums[k] = sums.get(k, 0.0) + v
                counts[k] = counts.get(k, 0) + 1
        bar.update()
        bar.set_postfix(epoch=epoch + 1, loss=f"{values['loss']:.3f}")
    return {k: sums[k] / counts[k] for k in sorted(sums)}


def _log_epoch(output: Path, records: list[dict], record: dict, writer: Any) -> None:
    """Append the epoch's record to ``train_log.jsonl`` (atomically rewritten) and TensorBoard."""
    records.append(record)
    _write_log(output / "train_log.jsonl", records)
    for k, v in record.items():
        if k != "epoch":
            writer.add_scalar(f"train/{k}", v, record["epoch"] + 1)
    writer.flush()


def _writer(output: Path, start: int) -> Any:
    """The TensorBoard writer of ``<output>/tb``, its events after epoch ``start`` dropped."""
    from torch.utils.tensorboard import SummaryWriter
    return SummaryWriter(str(output / "tb"), purge_step=start)


def train(cfg: Config, frustums: FrustumSet, output: Path, ctx: Context, supervision: str, step: int,
          ratio: int, resume: bool) -> Path:
    """Train and return the path of ``model_final.pth``."""
    tc = cfg.train
    torch.manual_seed(tc.seed)
    np.random.seed(tc.seed)
    model = FConvNet(cfg).to(ctx.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=tc.lr_steps, gamma=tc.lr_gamma)
    meta = {"step": step, "ratio": ratio, "supervision": supervision, "frustums": str(frustums.path)}
    last = output / "model_last.pth"
    start = _resume(last, model, optimizer, scheduler, cfg, supervision, ctx.device) if resume and last.is_file() else 0
    net: torch.nn.Module = model
    if ctx.distributed:
        net = DistributedDataParallel(model, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None)
    dataset, sampler, loader = _loader(frustums, cfg, supervision, ctx)
    size_prior_weight = cfg.loss.size_prior_step0 if step == 0 else cfg.loss.size_prior_later
    records = _read_log(output / "train_log.jsonl", start) if ctx.is_main else []
    writer = _writer(output, start) if ctx.is_main else None
    bar = tqdm(total=tc.epochs * len(loader), initial=start * len(loader), desc="train", unit="batch",
               disable=not ctx.is_main, dynamic_ncols=True)
    for epoch in range(start, tc.epochs):
        t0 = time.time()
        dataset.set_epoch(epoch)
        sampler.set_epoch(epoch)
        means = _epoch(net, model, loader, optimizer, cfg, supervision, size_prior_weight, ctx, bar, epoch)
        lr = optimizer.param_groups[0]["lr"]
        scheduler.step()
        if ctx.is_main:
            _log_epoch(output, records, {"epoch": epoch, "lr": lr, "seconds": round(time.time() - t0, 3), **means},
                       writer)
            save_checkpoint(last, {"epoch": epoch + 1, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                   "scheduler": scheduler.state_dict(), "config": cfg.to_dict(), "meta": meta})
    bar.close()
    final = output / "model_final.pth"
    if ctx.is_main:
        writer.close()
        save_checkpoint(final, {"epoch": tc.epochs, "model": model.state_dict(), "config": cfg.to_dict(),
                                "meta": meta})
    return final


@cli
def main(argv: Sequence[str] | None = None) -> int:
    args = from_args(TrainArgs, build_parser().parse_args(argv))
    cfg = load_config(args.config, args.overrides)
    supervision = args.supervision or ("full" if cfg.data.kind == "refine" else "weak")
    if cfg.data.kind == "refine" and supervision != "full":
        raise ConfigError(f"{args.config}: data.kind refine trains with the full losses on the pseudo-boxes "
                          f"(--supervision full)")
    default_set = "refine_train.npz" if cfg.data.kind == "refine" else "frustums_train.npz"
    frustums = _check_set(args.frustums or args.output / default_set, supervision, cfg.data.kind)
    with session(args.gpu) as ctx:
        if ctx.is_main:
            ensure_dir(args.output)
            atomic_write_text(args.output / "config.yaml", dump_config(cfg))
        final = train(cfg, frustums, args.output, ctx, supervision, args.step, args.ratio, args.resume)
        if ctx.is_main:
            print(f"wrote {final}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
