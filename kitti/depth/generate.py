"""Dense metric depth for KITTI frames with Depth Anything 3 (docs/design.md §10.2), the input of the ``depth`` point
source.

    python -m kitti.generate_da3_depth --data_path data/kitti --split training [--model da3metric-large]
    torchrun --nproc_per_node 4 -m kitti.generate_da3_depth --data_path data/kitti --split training

For every frame of ``<data_path>/<split>/image_2`` (or of ``--frames`` / ``--split-file``) it writes, into
``<data_path>/<split>/DA3_depth_results/``:

* ``%06d.npz``: ``depth`` float32 ``(H, W)`` metres along the camera-2 axis at the image size, ``intrinsics``
  (3x3, ``P2[:, :3]`` of the original image), ``extrinsics`` (3x4 identity: single view), ``sky`` (float32 sky
  probability, metric/mono models) and/or ``conf`` (float32, any-view models), ``process_intrinsics`` (3x3 K' of
  the network input) and ``metric_scale`` (0-d, the factor ``(fx' + fy') / 2 / 300`` applied, 1 if none);
* ``%06d_vis.jpg``: the image stacked over its colourised inverse depth (turbo colour map, 2-98 % percentiles);
* ``manifest.json``: model (directory, name or hub id), registry name, depth kind, resolution and precision. A
  directory made with other settings is refused unless ``--force``.

Only ``focal_metric`` and ``metric`` models give metres; ``relative`` models (any-view/mono, e.g. the small test
model) are accepted with a warning and must be aligned (:mod:`kitti.depth.alignment`) before use.
Frames whose ``.npz`` (and ``_vis.jpg``) exist are skipped (resume) unless ``--force``; files are written
atomically. Consecutive frames of the same image size are batched (``--batch-size``). Under ``torchrun`` (env
``RANK``/``WORLD_SIZE``) rank r handles frames ``r, r + W, ...`` of the sorted list. Bad input exits with status 2
and ``error: ...`` naming the file.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
from tqdm import tqdm

from kitti.atomic import atomic_write_text, read_json_object
from kitti.depth.da3_model import (
    DEFAULT_MODEL,
    DEFAULT_PROCESS_RES,
    PRECISIONS,
    RESIZE_METHODS,
    Da3Predictor,
    DepthPrediction,
    load_model,
)
from kitti.errors import ArgumentError, KittiFormatError, cli
from kitti.io.dataset import KittiDataset, read_split
from kitti.io.depthmap import write_depth
from kitti.io.image import write_image
from kitti.outputs import frame_id

OUTPUT_DIR = "DA3_depth_results"
MANIFEST = "manifest.json"


def colourise_depth(depth: np.ndarray) -> np.ndarray:
    """BGR uint8 ``(H, W, 3)``: inverse depth normalised between its 2nd and 98th percentiles, turbo colour map
    (near = red, far = blue; pixels without depth black)."""
    valid = depth > 0
    inverse = np.zeros(depth.shape, np.float64)
    inverse[valid] = 1.0 / depth[valid]
    lo, hi = np.percentile(inverse[valid], (2, 98)) if valid.sum() > 10 else (0.0, 1.0)
    normalised = np.clip((inverse - lo) / max(hi - lo, 1e-12), 0, 1)
    out = cv2.applyColorMap((normalised * 255).astype(np.uint8), cv2.COLORMAP_TURBO)
    out[~valid] = 0
    return out


def output_paths(out_dir: Path, frame: int) -> tuple[Path, Path]:
    return out_dir / f"{frame:06d}.npz", out_dir / f"{frame:06d}_vis.jpg"


def select_frames(dataset: KittiDataset, frames: str | None, split_file: Path | None) -> list[int]:
    """Frame ids: ``--frames`` (comma-separated ids), ``--split-file`` ids, or every ``image_2/*.png``; each must
    have an image and a calibration file (else :class:`KittiFormatError` naming the missing file)."""
    if frames is not None:
        try:
            ids = [int(token) for token in frames.split(",") if token.strip()]
        except ValueError:
            raise ArgumentError(f"--frames: expected comma-separated frame ids, got {frames!r}") from None
    elif split_file is not None:
        ids = read_split(split_file)
    else:
        ids = sorted(f for f in (frame_id(p.stem) for p in (dataset.dir / "image_2").glob("*.png")) if f is not None)
        if not ids:
            raise KittiFormatError(dataset.dir / "image_2", "no %06d.png images found")
    for frame in ids:
        for kind in ("image_2", "calib"):
            if not dataset.path(kind, frame).is_file():
                raise KittiFormatError(dataset.path(kind, frame), f"frame {frame:06d}: file not found")
    return sorted(dict.fromkeys(ids))


def shard(frames: list[int]) -> tuple[list[int], int, int]:
    """This rank's frames under torchrun (``RANK``, ``WORLD_SIZE``), with rank and world size."""
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    return frames[rank::world], rank, world


def check_manifest(out_dir: Path, settings: dict[str, object]) -> None:
    """Refuse to add outputs of other ``settings`` to a directory whose manifest records different ones."""
    path = out_dir / MANIFEST
    if not path.is_file():
        return
    old = read_json_object(path, "the depth generator's manifest (remove it or pass --force)")
    old = {key: old.get(key) for key in settings}
    if old != settings:
        raise KittiFormatError(path, f"outputs here were made with {old}, not {settings}; "
                                     f"pass --force to regenerate every frame")


def pending(frames: list[int], out_dir: Path, vis: bool, force: bool) -> list[int]:
    """Frames without outputs (all of them with ``force``)."""
    return [f for f in frames if force or not all(p.is_file() for p in output_paths(out_dir, f)[: 2 if vis else 1])]


def save_prediction(out_dir: Path, frame: int, image: np.ndarray, K: np.ndarray, pred: DepthPrediction,
                    vis: bool) -> None:
    npz_path, vis_path = output_paths(out_dir, frame)
    extra = {name: value for name, value in (("sky", pred.sky), ("conf", pred.conf)) if value is not None}
    if vis:  # written first: a frame counts as done once its .npz exists
        write_image(vis_path, np.concatenate([image, colourise_depth(pred.depth)], axis=0))
    write_depth(npz_path, pred.depth, intrinsics=K.astype(np.float64), extrinsics=np.eye(3, 4),
                process_intrinsics=pred.K_processed, metric_scale=np.float64(pred.scale), **extra)


def run(dataset: KittiDataset, todo: list[int], predictor: Da3Predictor, out_dir: Path, batch_size: int,
        vis: bool, desc: str = "DA3 depth") -> None:
    """Generate the depth of the ``todo`` frames; consecutive frames of the same image size form batches."""
    batch: list[tuple[int, np.ndarray, np.ndarray]] = []

    def flush() -> None:
        preds = predictor.predict([image for _, image, _ in batch], [K for _, _, K in batch])
        for (frame, image, K), pred in zip(batch, preds):
            save_prediction(out_dir, frame, image, K, pred, vis)
        bar.update(len(batch))
        batch.clear()

    with tqdm(total=len(todo), desc=desc, unit="img", disable=None) as bar:
        for frame in todo:
            image = dataset.image(frame)
            K = dataset.calib(frame).P2[:, :3]
            if batch and (len(batch) >= batch_size or batch[0][1].shape != image.shape):
                flush()
            batch.append((frame, image, K))
        if batch:
            flush()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data_path", "--data-path", dest="data_path", default="data/kitti",
                        help="KITTI root holding <split>/image_2 and <split>/calib")
    parser.add_argument("--split", default="training", help="KITTI subset folder under the root (training/testing)")
    subset = parser.add_mutually_exclusive_group()
    subset.add_argument("--frames", help="comma-separated frame ids (default: every image_2/*.png)")
    subset.add_argument("--split-file", type=Path, help="file of frame ids, one per line (e.g. ImageSets/train.txt)")
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help="local directory (config.json + model.safetensors), registry name (its hub weights) "
                             "or hub id; default: %(default)s")
    parser.add_argument("--process-res", type=int, default=DEFAULT_PROCESS_RES,
                        help="network input size of the bounded side, pixels (default %(default)s)")
    parser.add_argument("--process-res-method", choices=RESIZE_METHODS, default=RESIZE_METHODS[0])
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda, cuda:N")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32", help="fp32, or bf16 autocast")
    parser.add_argument("--batch-size", type=int, default=1, help="images per forward pass (same size only)")
    parser.add_argument("--no-vis", action="store_true", help="do not write the _vis.jpg images")
    parser.add_argument("--force", action="store_true", help="regenerate frames that already have outputs")
    return parser


@cli
def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.process_res < 14 or args.batch_size < 1:
        raise ArgumentError("--process-res must be >= 14 and --batch-size >= 1")
    dataset = KittiDataset(args.data_path, args.split)
    frames, rank, world = shard(select_frames(dataset, args.frames, args.split_file))
    out_dir = dataset.dir / OUTPUT_DIR
    model_spec = str(Path(args.model).resolve()) if Path(args.model).is_dir() else args.model
    settings = {"model": model_spec, "process_res": args.process_res,
                "process_res_method": args.process_res_method, "precision": args.precision}
    if not args.force:
        check_manifest(out_dir, settings)
    todo = pending(frames, out_dir, not args.no_vis, args.force)
    if todo:  # a finished run resumes without loading the model
        model = load_model(model_spec)
        predictor = Da3Predictor(model, args.device, args.precision, args.process_res, args.process_res_method)
        if model.kind == "relative":
            print(f"warning: {model.name} predicts relative depth (not metres); align it before use",
                  file=sys.stderr)
        manifest = dict(settings, model_name=model.name, depth_kind=model.kind)
        atomic_write_text(out_dir / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        run(dataset, todo, predictor, out_dir, args.batch_size, not args.no_vis,
            desc=f"DA3 depth [rank {rank}/{world}]" if world > 1 else "DA3 depth")
    print(f"{out_dir}: {len(todo)} frames written, {len(frames) - len(todo)} already done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
