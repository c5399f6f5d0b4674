"""Refinement samples from pseudo-label files (docs/design.md §4.4): the scene points inside each enlarged pseudo-box.

    python -m kitti.prepare_data_refine --pseudo-dir data/kitti/training/label_2_pseudo \\
        --output output/train_refine --set train --set val

For every Car/Pedestrian/Cyclist pseudo-box (KITTI file with scores; ``val`` also drops occlusion > 2,
truncation > 0.5 and 2D height < 25 px): the box is enlarged x ``refine.enlarge`` (1.2) about its centre; ``train``
makes ``refine.copies`` (5; ``--copies`` overrides) copies each jittered with
:func:`kitti.frustum.augmentation.random_shift_rotate_box3d` (scale ``refine.jitter``, 0.05), ``val`` one unjittered;
``pseudo`` (the frames to pseudo-label with the refinement model: ``--split``) one unjittered, without the val filters.
With ``--trusted-dir`` (weak mode, beyond ALPI, as the steps' training sets and the instance library do), the
``train`` set's targets are the trusted geometric fits (score >= ``--trusted-min-score``) in place of the pseudo-boxes
they match (:func:`kitti.frustum.library_builder.with_trusted_fits`): the refinement learns from the best box known
of each object, not only from the previous step's guess (on the demo world, seed 0, step 2's pedestrian
pseudo-boxes reach a median 3D IoU of 0.3-0.4, the trusted fits 0.6). ``val`` and ``pseudo`` keep the pseudo-boxes
as inputs, so the refinement is still judged on the learned path's boxes.
Points = scene points inside the (jittered) enlarged box (``region_box3d``), seg = inside the pseudo-box (``box3d``,
``has_3d``), ``frustum_angle`` = ``-atan2(z, x)`` of the region's centre (docs/design.md §4.4), ``box2d`` and
``box2d_target`` = the pseudo-label's 2D box, ``score_2d`` = its score. ``train`` samples without points are skipped
(count ``no_points``); ``val`` and ``pseudo`` keep them with zero points (count ``no_points_kept``, not skipped) so
that inference passes their input box through and the refinement never drops a box (deviation from the published
code, docs/design.md §4.4, which skips them). Output ``<output>/refine_<set>.npz`` + manifest, format of
:mod:`kitti.frustum.store`.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kitti import geometry as g
from kitti.data_args import TRUSTED_MIN_SCORE, PseudoArgs
from kitti.depth.point_source import DepthOptions
from kitti.errors import cli
from kitti.frustum.augmentation import random_shift_rotate_box3d
from kitti.frustum.engine import FrameContext, FrameResult, add_set_arguments, build_tracked
from kitti.frustum.library_builder import with_trusted_fits
from kitti.frustum.options import RefineOptions, check_options
from kitti.frustum.store import KIND_REAL, write_frustum_set
from kitti.io.dataset import KittiDataset
from kitti.io.labels import read_pseudo_labels
from kitti.options_cli import add_arguments, from_args
from kitti.priors import CLASSES, MIN_HEIGHT_PX, depth_window

#: validation filters (KITTI "hard" limits)
VAL_MAX_OCCLUSION, VAL_MAX_TRUNCATION = 2, 0.5


@dataclass(frozen=True)
class RefineConfig:
    data: str
    pseudo_dir: str
    subset: str = "train"
    split: str = "train"
    points: str = "lidar"
    seed: int = 0
    #: data config ``refine`` and the point-source settings
    options: RefineOptions = field(default_factory=RefineOptions)
    depth: DepthOptions = field(default_factory=DepthOptions)
    #: ``train`` set only: geometric-labeller fits that replace the pseudo-boxes they match (module docstring)
    trusted_dir: str | None = None
    trusted_min_score: float = TRUSTED_MIN_SCORE


def enlarge_box(box3d: np.ndarray, factor: float) -> np.ndarray:
    """Bottom-centre box with h, w, l scaled by ``factor`` about the box centre."""
    x, y, z, h, w, l, ry = np.asarray(box3d, np.float64)
    return np.array([x, y - h / 2 + factor * h / 2, z, factor * h, factor * w, factor * l, ry])


def frame_refine(cfg: RefineConfig, frame: int) -> FrameResult:
    """Refinement samples of one frame and skip counts."""
    dataset = KittiDataset(cfg.data)
    pseudo = read_pseudo_labels(cfg.pseudo_dir, frame)
    if cfg.subset == "train" and cfg.trusted_dir is not None:
        pseudo = with_trusted_fits(pseudo, read_pseudo_labels(cfg.trusted_dir, frame), cfg.trusted_min_score)
    pseudo = [p for p in pseudo if p.type in CLASSES]
    result = FrameResult()
    if not pseudo:
        result.skipped["frames_without_objects"] += 1
        return result
    ctx = FrameContext.load(dataset, frame, cfg.points, cfg.depth)
    options = cfg.options
    training = cfg.subset == "train"
    for label in pseudo:
        if cfg.subset == "val" and (label.occlusion > VAL_MAX_OCCLUSION or label.truncation > VAL_MAX_TRUNCATION
                             or label.height_px < MIN_HEIGHT_PX):
            result.skipped["val_filtered"] += 1
            continue
        box3d = label.box3d
        enlarged = enlarge_box(box3d, options.enlarge)
        window = depth_window(label.type, label.height_px, ctx.calib.focal_v)
        for copy in range(options.copies if training else 1):
            rng = np.random.default_rng([cfg.seed, frame, label.line, copy])
            region = random_shift_rotate_box3d(enlarged, rng, options.jitter) if training else enlarged
            points = ctx.scene[g.points_in_boxes_mask(ctx.scene, region[None])[:, 0]]
            if not len(points):
                if training:
                    result.skipped["no_points"] += 1
                    continue
                result.skipped["no_points_kept"] += 1  # predicted as its input box (train.inference.predict)
            seg = g.points_in_boxes_mask(points, box3d[None])[:, 0].astype(np.int8)
            angle = float(-np.arctan2(region[2], region[0]))
            result.samples.append(ctx.sample(label.type, KIND_REAL, np.array(label.box2d), np.array(label.box2d),
                                             window, points, seg, box3d, label.line, score=float(label.score or 0.0),
                                             angle=angle, region_box3d=region))
    return result


def build_refine_set(cfg: RefineConfig, output: str | Path, workers: int, force: bool = False) -> dict[str, Any]:
    """Write ``<output>/refine_<subset>.npz`` and its manifest (skipped when complete with the same inputs)."""
    path = Path(output) / f"refine_{cfg.subset}.npz"

    def write(results: list[FrameResult], frames: list[int], inputs: dict[str, Any]) -> dict[str, Any]:
        merged = FrameResult.merge(results)
        skipped = dict(merged.skipped)
        info = write_frustum_set(path, merged.samples, skipped, set=cfg.subset, split=cfg.split, frames=len(frames),
                                 point_source=cfg.points, supervision="pseudo", seed=cfg.seed, inputs=inputs)
        print(f"{path}: {info['count']} samples from {len(frames)} frames; skipped {skipped}")
        return info

    return build_tracked(cfg, path, ("calib", "image_2"), frame_refine, f"refine {cfg.subset}", write, workers, force)


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser, PseudoArgs)
    add_set_arguments(parser, "jittered copies per pseudo-box (train; overrides the data config's refine.copies)")
    args = parser.parse_args(argv)
    run = from_args(PseudoArgs, args)
    options, depth = run.data_options()
    refine = options.refine if args.copies is None else replace(options.refine, copies=args.copies)
    check_options(replace(options, refine=refine), "command line", {"refine.copies": "--copies"})
    for subset in dict.fromkeys(args.sets or ["train"]):
        cfg = RefineConfig(data=run.data, pseudo_dir=run.pseudo_dir, subset=subset,
                           split=args.val_split if subset == "val" else run.split, points=run.points,
                           seed=run.seed, options=refine, depth=depth,
                           trusted_dir=run.trusted_dir if subset == "train" else None,
                           trusted_min_score=run.trusted_min_score)
        build_refine_set(cfg, run.output, run.workers, run.force)
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
