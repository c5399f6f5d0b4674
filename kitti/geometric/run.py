"""Label a split with the geometric labeller: one KITTI ``label_2`` file per frame (16 fields, score last).

    python -m kitti.geometric_labeller --data D --split train --output O [--points lidar|depth|lidar+depth]

Writes ``O/<frame>.txt`` atomically and ``O/geometric_manifest.json`` (the inputs: data root, split file digest,
point source, depth directory, labeller code digest; and per-class counts of fitted / prior boxes once finished).
Resumable: frames whose file exists are skipped when the manifest records the same inputs; different inputs (or
``--force``) relabel every frame. Frames run in parallel processes (:func:`kitti.runner.run_frames`). 2D labels
only (:func:`kitti.io.labels.read_labels_2d`).
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from kitti import geometry as g
from kitti.atomic import atomic_write_text, ensure_dir, read_json_or_none
from kitti.data_args import FrameArgs
from kitti.depth.point_source import (
    FOV_MIN_FORWARD,
    DepthOptions,
    check_point_inputs,
    scene_points,
)
from kitti.errors import cli
from kitti.eval.quality import format_quality, has_3d_ground_truth, label_quality
from kitti.geometric.labeller import FrameInputs, label_frame
from kitti.io.calib import Calibration
from kitti.io.dataset import KittiDataset
from kitti.io.image import image_size as read_image_size
from kitti.io.labels import PREDICTION_DECIMALS, write_labels
from kitti.options_cli import add_arguments, from_args
from kitti.outputs import check_output_dir, frame_id, owned_files, refuse_foreign
from kitti.runner import file_digest, hash_dir, run_frames, same_inputs

MANIFEST = "geometric_manifest.json"


@dataclass(frozen=True)
class LabelConfig:
    """What a geometric label set is made from."""

    data: str
    split: str = "train"
    points: str = "lidar"
    depth_dir: str = "depth_2"
    output: str = "geometric_labels"


def frame_inputs(dataset: KittiDataset, frame: int, points: str = "lidar", depth_dir: str = "depth_2") -> FrameInputs:
    """Calibration, image size, scene points (rect frame) and 2D labels of one frame."""
    calib = dataset.calib(frame)
    size = read_image_size(dataset.path("image_2", frame))
    return FrameInputs(calib, size, frame_points(dataset, frame, calib, size, points, depth_dir),
                       dataset.labels_2d(frame))


def frame_points(dataset: KittiDataset, frame: int, calib: Calibration, size: tuple[int, int], points: str = "lidar",
                 depth_dir: str = "depth_2") -> np.ndarray:
    """The labeller's scene points ``(N, 3+)``, rect frame: for ``lidar`` every scan point in front of the camera
    (outside the image too, for truncated boxes), otherwise the image-FOV points of
    :func:`kitti.depth.point_source.scene_points`."""
    if points == "lidar":
        scan = dataset.velodyne(frame)
        rect = g.velo_to_rect(scan[scan[:, 0] > FOV_MIN_FORWARD], calib)
        return rect[rect[:, 2] > FOV_MIN_FORWARD]
    return scene_points(dataset, frame, calib, size, points, DepthOptions(depth_dir=depth_dir))


def label_one(cfg: LabelConfig, frame: int) -> Counter:
    """Label one frame into ``<output>/<frame>.txt``; returns counts ``"<class>/<source>"``."""
    boxes = label_frame(frame_inputs(KittiDataset(cfg.data), frame, cfg.points, cfg.depth_dir))
    write_labels(Path(cfg.output) / f"{frame:06d}.txt", [box.to_label() for box in boxes],
                 decimals=PREDICTION_DECIMALS)
    return Counter(f"{box.class_name}/{box.source}" for box in boxes)


def code_digest() -> str:
    """sha256 over the labeller's source files (a changed labeller relabels every frame on resume)."""
    return hash_dir(Path(__file__).parent, "*.py")


def _inputs(cfg: LabelConfig, dataset: KittiDataset) -> dict[str, str]:
    inputs = asdict(cfg)
    inputs["code_sha256"] = code_digest()
    inputs.pop("output")
    inputs["data"] = str(Path(cfg.data).resolve())
    inputs["split_sha256"] = file_digest(dataset.split_path(cfg.split))
    if cfg.points == "lidar":
        inputs.pop("depth_dir")
    return inputs


def _owned_files(manifest_path: Path, out: Path) -> set[str]:
    """The label files a previous run recorded as its own in ``manifest_path`` (:func:`kitti.outputs.owned_files`;
    a manifest written before manifests listed files owns every frame label file of ``out``)."""
    def unlisted(record: dict) -> list[str] | None:
        if not isinstance(record.get("inputs"), dict):
            return None
        return [p.name for p in out.glob("*.txt") if frame_id(p.stem) is not None]

    return owned_files(manifest_path, out, "*.txt", "the geometric labeller's manifest",
                       lambda name: frame_id(name.removesuffix(".txt")) is not None, unlisted)


def label_split(cfg: LabelConfig, workers: int = 1, force: bool = False) -> dict:
    """Label every frame of ``cfg.split`` (resumable, module docstring); returns the manifest. The output folder
    follows :mod:`kitti.outputs`: only label files this command's manifest lists are replaced or deleted."""
    dataset = KittiDataset(cfg.data)
    frames = dataset.check_split(cfg.split, ("calib", "image_2", "label_2"))
    check_point_inputs(dataset, frames, cfg.points, DepthOptions(depth_dir=cfg.depth_dir))
    out = Path(cfg.output)
    check_output_dir(out, dataset.root)
    manifest_path = out / MANIFEST
    owned = _owned_files(manifest_path, out)
    refuse_foreign(out, owned, ("*.txt",), MANIFEST)
    ensure_dir(out)
    inputs = _inputs(cfg, dataset)
    previous = read_json_or_none(manifest_path) or {}
    names = [f"{f:06d}.txt" for f in frames]
    if force or not same_inputs(previous, inputs):
        for name in sorted(owned):
            (out / name).unlink(missing_ok=True)
        owned, previous = set(), {}
    # the files are recorded before they are written: a killed run leaves only files its rerun knows as its own
    files = sorted(owned | set(names))
    atomic_write_text(manifest_path, json.dumps({"inputs": inputs, "status": "running", "files": files},
                                                indent=2) + "\n")
    todo = [f for f in frames if not (out / f"{f:06d}.txt").is_file()]
    counts = previous.get("counts", {}) if not todo else {}
    counts = Counter(counts if isinstance(counts, dict) else {})
    if todo:
        for frame_counts in run_frames(label_one, cfg, todo, workers, "geometric labels"):
            counts.update(frame_counts)
    manifest = {"inputs": inputs, "status": "done", "frames": len(frames), "labelled_now": len(todo),
                "counts": dict(sorted(counts.items())), "files": files}
    atomic_write_text(manifest_path, json.dumps(manifest, indent=2) + "\n")
    return manifest


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Training-free geometric 3D labeller (2D boxes + points).")
    add_arguments(parser, FrameArgs)
    args = from_args(FrameArgs, parser.parse_args(argv))
    cfg = LabelConfig(args.data, args.split, args.points, args.depth_dir, str(args.output))
    manifest = label_split(cfg, args.workers, args.force)
    print(f"{args.output}: {manifest['frames']} frames ({manifest['labelled_now']} labelled now); "
          f"boxes {manifest['counts'] if manifest['labelled_now'] == manifest['frames'] else '(see manifest)'}")
    dataset = KittiDataset(cfg.data)
    frames, gt_dir = dataset.frame_ids(cfg.split), dataset.dir / "label_2"
    if has_3d_ground_truth(gt_dir, frames):  # evaluation only: the labels above were made from the 2D boxes
        print("against the 3D ground truth of these frames (kitti.eval.diagnose for the full error budget):")
        print(format_quality(label_quality(gt_dir, args.output, frames)))
    return 0
