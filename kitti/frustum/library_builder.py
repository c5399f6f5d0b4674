"""Instance library from a previous step's pseudo-labels (docs/design.md §4.3): for every pseudo-box of the training
frames, the scene points inside it, its viewing-angle key, score and 2D/3D consistency.

    python -m kitti.generate_instances_insert --step P --pseudo-dir output/step_00/_last_train/data \\
        --output output/step_01_ratio_030 [--data data/kitti --split train --points lidar]

Writes ``<output>/instances.npz`` + ``instances.manifest.json`` (format in :mod:`kitti.frustum.instances`).
Pseudo-labels are our own predictions (KITTI files with a score per line), not ground truth, so their 3D fields
may be read. An instance is kept when its class is Car/Pedestrian/Cyclist, its score >= ``library.min_score``,
its depth (rect z) lies in ``library.depth_range`` (published: 10-35 m), it holds >= ``library.min_points`` scene
points and the IoU between its 2D box and the projection of its 3D box is >= ``library.min_iou`` (a 2D/3D
consistency filter; the published code computed that IoU but did not use it); these come from the data config
(``--data-config``, :mod:`kitti.frustum.options`). Each rejected pseudo-box is counted by reason. With
``--trusted-dir``, trusted geometric fits (score >= ``--trusted-min-score``) replace the pseudo-boxes they match
and join the candidates (beyond ALPI: fits of the 2D-only geometric labeller become pasted instances).
"""
from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kitti import geometry as g
from kitti.data_args import TRUSTED_MIN_SCORE, StepArgs
from kitti.depth.point_source import DepthOptions, scene_points
from kitti.errors import cli
from kitti.frustum.engine import build_tracked
from kitti.frustum.instances import LIBRARY_FILE, Instance, InstanceLibrary
from kitti.frustum.options import LibraryOptions
from kitti.io.dataset import KittiDataset
from kitti.io.image import image_size as read_image_size
from kitti.io.labels import PREV_MATCH_IOU, ObjectLabel, read_pseudo_labels
from kitti.options_cli import add_arguments, from_args
from kitti.priors import CLASS_ID, CLASSES


@dataclass(frozen=True)
class LibraryConfig:
    """Inputs of an instance library (``step`` = the step whose pseudo-labels are used, for the record)."""

    data: str
    pseudo_dir: str
    split: str = "train"
    step: int = 0
    points: str = "lidar"
    #: filters (data config ``library``) and point-source settings
    options: LibraryOptions = field(default_factory=LibraryOptions)
    depth: DepthOptions = field(default_factory=DepthOptions)
    trusted_dir: str | None = None
    trusted_min_score: float = TRUSTED_MIN_SCORE


@dataclass
class LibraryFrame:
    instances: list[Instance] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)


def frame_instances(cfg: LibraryConfig, frame: int) -> LibraryFrame:
    """The kept instances of one frame and the counts of rejected pseudo-boxes."""
    dataset = KittiDataset(cfg.data)
    pseudo = read_pseudo_labels(cfg.pseudo_dir, frame)
    if cfg.trusted_dir is not None:
        pseudo = with_trusted_fits(pseudo, read_pseudo_labels(cfg.trusted_dir, frame), cfg.trusted_min_score)
    result = LibraryFrame()
    wanted = [p for p in pseudo if p.type in CLASSES]
    if not wanted:
        return result
    calib = dataset.calib(frame)
    size = read_image_size(dataset.path("image_2", frame))
    scene = scene_points(dataset, frame, calib, size, cfg.points, cfg.depth)
    options = cfg.options
    boxes = np.array([p.box3d for p in wanted])
    inside = g.points_in_boxes_mask(scene, boxes)
    hulls = g.project_boxes_to_image(boxes, calib.P2, size)
    for k, label in enumerate(wanted):
        iou = float(g.box2d_iou(np.array(label.box2d), hulls[k])[0, 0])
        if label.score is None or label.score < options.min_score:
            result.skipped["low_score"] += 1
        elif not options.depth_range[0] < label.location[2] < options.depth_range[1]:
            result.skipped["out_of_depth_range"] += 1
        elif iou < options.min_iou:
            result.skipped["inconsistent_2d_3d"] += 1
        elif inside[:, k].sum() < options.min_points:
            result.skipped["too_few_points"] += 1
        else:
            result.instances.append(Instance(scene[inside[:, k]], boxes[k].astype(np.float32), CLASS_ID[label.type],
                                             float(label.score), iou, frame, label.line))
    return result


def with_trusted_fits(pseudo: list[ObjectLabel], fits: list[ObjectLabel], min_score: float) -> list[ObjectLabel]:
    """The pseudo-boxes with every trusted geometric fit (score >= ``min_score``) in place of the pseudo-box of the
    same class whose 2D box it matches (IoU >= :data:`kitti.io.labels.PREV_MATCH_IOU`), or added."""
    trusted = [fit for fit in fits if fit.score is not None and fit.score >= min_score]
    kept = []
    for label in pseudo:
        same = [fit.box2d for fit in trusted if fit.type == label.type]
        if not same or g.box2d_iou(np.array(label.box2d), np.array(same)).max() < PREV_MATCH_IOU:
            kept.append(label)
    return kept + trusted


def build_library(cfg: LibraryConfig, output: str | Path, workers: int, force: bool = False) -> dict[str, Any]:
    """Write ``<output>/instances.npz`` and its manifest (skipped when complete with the same inputs)."""
    path = Path(output) / LIBRARY_FILE

    def write(results: list[LibraryFrame], frames: list[int], inputs: dict[str, Any]) -> dict[str, Any]:
        skipped: Counter = Counter()
        for res in results:
            skipped.update(res.skipped)
        instances = [inst for res in results for inst in res.instances]
        info = InstanceLibrary.write(path, instances, dict(skipped), step=cfg.step, point_source=cfg.points,
                                     frames=len(frames), inputs=inputs)
        print(f"{path}: {info['count']} instances {info['counts']} from {len(frames)} frames; "
              f"skipped {dict(skipped)}")
        return info

    return build_tracked(cfg, path, ("calib", "image_2"), frame_instances, "instances", write, workers, force)


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser, StepArgs)
    run = from_args(StepArgs, parser.parse_args(argv))
    options, depth = run.data_options()
    cfg = LibraryConfig(data=run.data, pseudo_dir=run.pseudo_dir, split=run.split, step=run.step,
                        points=run.points, options=options.library, depth=depth,
                        trusted_dir=run.trusted_dir, trusted_min_score=run.trusted_min_score)
    build_library(cfg, run.output, run.workers, run.force)
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
