"""Frustum extraction from 2D boxes (METHOD 4, 6.3): step-0 training sets, validation and pseudo-labelling sets,
and the per-frame engine that steps >= 1 (:mod:`kitti.frustum.pseudo_step`) reuse.

    python -m kitti.frustum_extractor --output output/step_00 --data data/kitti --set train val pseudo

Sets (one ``frustums_<set>.npz`` + ``frustums_<set>.manifest.json`` each, format in :mod:`kitti.frustum.store`):

* ``train`` (split ``--split``, default ``train``): every annotated Car/Pedestrian/Cyclist 2D box at least
  :data:`kitti.priors.MIN_HEIGHT_PX` tall, ``--copies`` (5) copies each with a jittered 2D box
  (:func:`kitti.frustum.augmentation.random_shift_box2d`), each real frustum followed by one injected object (step 0: a
  synthetic proxy, :mod:`kitti.frustum.proxies`);
* ``val`` (split ``--val-split``, default ``val``): the annotated boxes, one copy, no jitter, no injection;
* ``pseudo`` (split ``--split``): the same for the training frames, the input of pseudo-labelling.

2D labels only: in the default ``weak`` supervision the labels are read with :func:`kitti.io.labels.read_labels_2d`
and real samples get ``has_3d = False``, ``box3d = NaN``, ``seg = -1``. Only ``--supervision full`` reads the 3D
fields (:func:`_read_objects_full`, the F-ConvNet upper bound). Replacements of the published code's 3D ground truth:
a real frustum is kept when it holds >= :data:`kitti.priors.MIN_POINTS` points inside the weak depth window
``f_v * HEIGHT_PRIOR / h_box`` +- :data:`kitti.priors.FAKE_OBJECT_RANGE` (published: >= 1 point inside the GT box);
the stored ``depth_window`` that shapes the slice labels grows with depth (:func:`kitti.priors.depth_window`);
the proxy placement, heading and real-object removal are 2D-only too (see :mod:`kitti.frustum.proxies`).

Determinism: every (frame, label line, copy) has its own RNG ``default_rng([seed, frame, line, copy])``, so the
output does not depend on ``--workers`` or on scheduling; frames are processed in parallel (spawn-safe pool) and
assembled in split order. Resume: a set whose manifest exists and records the same inputs is not rebuilt.
"""
from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

import numpy as np
from tqdm import tqdm

from kitti import geometry as g
from kitti.depth.point_source import DEPTH_DIRS, POINT_SOURCES, DepthOptions, check_point_inputs, scene_points
from kitti.errors import KittiFormatError, exit_on_input_errors
from kitti.frustum.augmentation import random_shift_box2d
from kitti.frustum.instances import InstanceLibrary, load_cached
from kitti.frustum.proxies import (
    POINTS_PER_FACE_LATER,
    POINTS_PER_FACE_STEP0,
    assemble,
    in_box2d,
    in_window,
    placement,
    proxy_object,
)
from kitti.frustum.store import (
    KIND_PASTED,
    KIND_PROXY,
    KIND_REAL,
    NAN7,
    FrustumSample,
    is_complete,
    read_manifest,
    write_frustum_set,
)
from kitti.io.calib import Calibration
from kitti.io.dataset import KittiDataset
from kitti.io.image import image_size as read_image_size
from kitti.io.labels import Label2D, ObjectLabel, read_labels
from kitti.priors import CLASS_ID, CLASSES, MIN_DEPTH, MIN_HEIGHT_PX, MIN_POINTS, depth_estimate, depth_window

SETS = ("train", "val", "pseudo")
SUPERVISION = ("weak", "full")
#: a previous-step pseudo-box is matched to a real 2D box when their 2D IoU reaches this (same class)
PREV_MATCH_IOU = 0.5
FORMAT_NAME = "frustums_{}.npz"


@dataclass(frozen=True)
class ExtractConfig:
    """What a frustum set is built from. ``step`` is the training step the set is for (0, or P+1 when built from
    step-P pseudo-labels); ``ratio`` the percentage of injected objects that are synthetic proxies at steps >= 1."""

    data: str
    subset: str = "train"
    split: str = "train"
    points: str = "lidar"
    supervision: str = "weak"
    seed: int = 0
    step: int = 0
    ratio: float = 100.0
    copies: int = 5
    classes: tuple[str, ...] = CLASSES
    min_height: float = MIN_HEIGHT_PX
    beams64: bool = False
    library: str | None = None
    pseudo_dir: str | None = None
    depth_dir: str = "depth_2"
    #: stored ``depth_window`` (slice labels, 2D-loss slice, inference): :func:`kitti.priors.depth_window` relative to
    #: the depth (True) or the fixed legacy window (False). The point decisions (proxy placement, real-object
    #: removal, the minimum-points filter) always use the fixed window, where the object's own points lie.
    relative_window: bool = True

    @property
    def training(self) -> bool:
        return self.subset == "train"


@dataclass
class RealObject:
    """A labelled object as the extractor sees it: its 2D label, and its GT box only in ``full`` mode."""

    label: Label2D
    box3d: np.ndarray | None = None


@dataclass
class FrameResult:
    samples: list[FrustumSample] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)

    @staticmethod
    def merge(results: Sequence["FrameResult"]) -> "FrameResult":
        """All frames' samples in frame order and the summed skip counts."""
        merged = FrameResult()
        for result in results:
            merged.samples.extend(result.samples)
            merged.skipped.update(result.skipped)
        return merged


def _read_objects_weak(dataset: KittiDataset, frame: int) -> list[RealObject]:
    """``weak`` mode: 2D labels only (the 3D fields are never parsed)."""
    return [RealObject(label) for label in dataset.labels_2d(frame)]


def _read_objects_full(dataset: KittiDataset, frame: int) -> list[RealObject]:
    """``full`` mode only (F-ConvNet upper bound): the ground-truth 3D boxes of real objects."""
    return [RealObject(label.to_2d(), label.box3d) for label in dataset.labels(frame)]


def read_objects(dataset: KittiDataset, frame: int, supervision: str) -> list[RealObject]:
    """The frame's labelled objects; the 3D reader is reachable only with ``supervision == "full"``."""
    reader = _read_objects_full if supervision == "full" else _read_objects_weak
    return reader(dataset, frame)


def read_pseudo_labels(pseudo_dir: str | Path, frame: int) -> list[ObjectLabel]:
    """Pseudo-labels (our own predictions, KITTI format with scores) of ``frame``; a missing file, a malformed
    line or a line without a score is a :class:`KittiFormatError` naming the file (and line)."""
    path = Path(pseudo_dir) / f"{frame:06d}.txt"
    labels = read_labels(path)
    for label in labels:
        if label.score is None:
            raise KittiFormatError(path, "pseudo-label without a score (expected 16 fields)", label.line)
    return labels


def match_previous(annotated: np.ndarray, class_name: str, pseudo: Sequence[ObjectLabel]) -> np.ndarray:
    """The pseudo-box (float32 (7,)) of ``class_name`` whose 2D box best overlaps the annotated 2D box, if the IoU
    reaches :data:`PREV_MATCH_IOU`; NaN otherwise."""
    same = [p for p in pseudo if p.type == class_name]
    if not same:
        return NAN7
    iou = g.box2d_iou(annotated, np.array([p.box2d for p in same]))[0]
    best = int(np.argmax(iou))
    return same[best].box3d.astype(np.float32) if iou[best] >= PREV_MATCH_IOU else NAN7


@dataclass
class FrameContext:
    """Per-frame data shared by every object: calibration, image size, scene points and their pixels."""

    frame: int
    calib: Calibration
    image_size: tuple[int, int]
    scene: np.ndarray
    uv: np.ndarray

    @classmethod
    def load(cls, dataset: KittiDataset, frame: int, points: str, beams64: bool,
             depth_dir: str = "depth_2") -> "FrameContext":
        calib = dataset.calib(frame)
        size = read_image_size(dataset.path("image_2", frame))
        scene = scene_points(dataset, frame, calib, size, points, DepthOptions(beams64=beams64, depth_dir=depth_dir))
        uv, _ = g.project_rect_to_image(scene, calib.P2)
        return cls(frame, calib, size, scene, uv)

    def sample(self, class_name: str, kind: int, box2d: np.ndarray, target: np.ndarray, window: tuple[float, float],
               points: np.ndarray, seg: np.ndarray, box3d: np.ndarray | None, label_line: int = -1,
               prev_box3d: np.ndarray = NAN7, score: float = 1.0, angle: float | None = None,
               region_box3d: np.ndarray | None = None, occlusion: int = -1,
               truncation: float = -1.0) -> FrustumSample:
        """A sample of this frame; ``angle`` defaults to the frustum angle of ``box2d``; ``occlusion`` and
        ``truncation`` are the annotated 2D box's label_2 fields (-1: not an annotated box)."""
        if angle is None:
            angle = float(g.frustum_angle(box2d, self.calib.P2)[0])
        return FrustumSample(
            frame_id=self.frame, label_line=label_line, class_id=CLASS_ID[class_name], kind=kind,
            box2d=np.asarray(box2d, np.float32), box2d_target=np.asarray(target, np.float32),
            frustum_angle=angle, has_3d=box3d is not None,
            box3d=NAN7 if box3d is None else np.asarray(box3d, np.float32),
            depth_window=np.asarray(window, np.float32), prev_box3d=prev_box3d, score_2d=score,
            P2=self.calib.P2.astype(np.float32), image_size=np.asarray(self.image_size, np.int32),
            points=points, seg=seg,
            region_box3d=None if region_box3d is None else np.asarray(region_box3d, np.float32),
            occlusion=int(occlusion), truncation=float(truncation))


def inject(cfg: ExtractConfig, ctx: FrameContext, class_name: str, annotated: np.ndarray,
           window: tuple[float, float], frustum_points: np.ndarray, in_annotated: np.ndarray,
           rng: np.random.Generator) -> tuple[FrustumSample | None, str]:
    """The injected sample that follows a real training frustum, or ``(None, skip reason)``.

    Placement from the real frustum's points in the weak depth window (:func:`kitti.frustum.proxies.placement`); step 0
    always a proxy, steps >= 1 a proxy with probability ``ratio / 100`` and otherwise a pasted library instance
    (a proxy when the library has no instance of the class; counted as ``pasted_fallback_proxy``)."""
    window_points = frustum_points[in_window(frustum_points, window)]
    centre = placement(class_name, window_points, annotated, ctx.calib.focal_v)
    if centre is None:
        return None, "injection_no_placement"
    use_proxy = cfg.step == 0 or rng.uniform() * 100.0 < cfg.ratio
    note = ""
    library = None if use_proxy else load_cached(str(cfg.library))
    if library is not None and not library.has_class(CLASS_ID[class_name]):
        use_proxy, note = True, "pasted_fallback_proxy"
    if use_proxy:
        per_face = POINTS_PER_FACE_STEP0 if cfg.step == 0 else POINTS_PER_FACE_LATER
        box3d, object_points = proxy_object(class_name, centre, annotated, ctx.calib.P2, ctx.image_size, rng, per_face)
        # proxy reflectance: median of the real object's window points (constant 1.0 for pseudo-LiDAR anyway)
        intensity: np.ndarray | float = float(np.median(window_points[:, 3]))
        kind = KIND_PROXY
    else:
        box3d, pasted = library.paste(CLASS_ID[class_name], centre, rng)
        object_points, intensity, kind = pasted[:, :3], pasted[:, 3], KIND_PASTED
    obj = assemble(box3d, object_points, intensity, ctx.scene, ctx.uv, in_annotated, window, ctx.calib.P2,
                   ctx.image_size, rng, jitter=True)
    if obj is None:
        return None, "injection_too_few_points"
    target_window = depth_window(class_name, obj.box2d_target[3] - obj.box2d_target[1], ctx.calib.focal_v,
                                 cfg.relative_window)
    return ctx.sample(class_name, kind, obj.box2d, obj.box2d_target, target_window, obj.points, obj.seg,
                      obj.box3d), note


def process_frame(cfg: ExtractConfig, frame: int) -> FrameResult:
    """All samples of one frame (reals, and for training sets their injected objects) plus skip counts."""
    dataset = KittiDataset(cfg.data)
    ctx = FrameContext.load(dataset, frame, cfg.points, cfg.beams64, cfg.depth_dir)
    objects = read_objects(dataset, frame, cfg.supervision)
    pseudo = read_pseudo_labels(cfg.pseudo_dir, frame) if cfg.pseudo_dir else []
    result = FrameResult()
    wanted = [obj for obj in objects if obj.label.type in cfg.classes]
    if not wanted:
        result.skipped["frames_without_objects"] += 1
    copies = cfg.copies if cfg.training else 1
    for obj in wanted:
        class_name, annotated = obj.label.type, np.asarray(obj.label.box2d, np.float64)
        height = annotated[3] - annotated[1]
        if height < cfg.min_height:
            result.skipped["below_min_height"] += 1
            continue
        if depth_estimate(class_name, height, ctx.calib.focal_v) <= MIN_DEPTH:
            result.skipped["too_close"] += 1
            continue
        window = depth_window(class_name, height, ctx.calib.focal_v)
        label_window = depth_window(class_name, height, ctx.calib.focal_v, cfg.relative_window)
        in_annotated = in_box2d(ctx.uv, annotated)
        prev = match_previous(annotated, class_name, pseudo)
        for copy in range(copies):
            rng = np.random.default_rng([cfg.seed, frame, obj.label.line, copy])
            box2d = random_shift_box2d(annotated, rng, ctx.image_size) if cfg.training else annotated
            points = ctx.scene[in_box2d(ctx.uv, box2d)]
            if in_window(points, window).sum() < MIN_POINTS:
                result.skipped["too_few_points"] += 1
                continue
            if obj.box3d is None:
                seg = np.full(len(points), -1, np.int8)
            else:
                seg = g.points_in_boxes_mask(points, obj.box3d[None])[:, 0].astype(np.int8)
                if not seg.any():
                    result.skipped["no_points_in_box"] += 1
                    continue
            result.samples.append(ctx.sample(class_name, KIND_REAL, box2d, annotated, label_window, points, seg,
                                             obj.box3d, obj.label.line, prev, occlusion=obj.label.occlusion,
                                             truncation=obj.label.truncation))
            if cfg.training:
                injected, note = inject(cfg, ctx, class_name, annotated, window, points, in_annotated, rng)
                if note:
                    result.skipped[note] += 1
                if injected is not None:
                    result.samples.append(injected)
    return result


# ---------------------------------------------------------------------------------------------------------------
# running over frames, writing sets, command line (shared by the other entry points)

T = TypeVar("T")


@dataclass
class _WorkerError:
    path: str
    reason: str
    line: int | None


def _guarded(fn: Callable[[Any, int], T], cfg: Any, frame: int) -> T | _WorkerError:
    # KittiFormatError does not survive the trip back from a worker process (its __init__ takes 3 arguments)
    try:
        return fn(cfg, frame)
    except KittiFormatError as exc:
        return _WorkerError(exc.path, exc.reason, exc.line)


def run_frames(fn: Callable[[Any, int], T], cfg: Any, frames: Sequence[int], workers: int, desc: str) -> list[T]:
    """``[fn(cfg, f) for f in frames]`` over ``workers`` spawn processes (in order) with a tqdm bar. The first
    :class:`KittiFormatError` of any frame is re-raised in the caller."""
    job = partial(_guarded, fn, cfg)
    if workers <= 1 or len(frames) <= 1:
        results = [job(frame) for frame in tqdm(frames, desc=desc, disable=None)]
    else:
        with mp.get_context("spawn").Pool(min(workers, len(frames))) as pool:
            chunk = max(1, min(8, len(frames) // (4 * workers)))
            results = list(tqdm(pool.imap(job, frames, chunksize=chunk), total=len(frames), desc=desc,
                                disable=None))
    for res in results:
        if isinstance(res, _WorkerError):
            raise KittiFormatError(res.path, res.reason, res.line)
    return results  # type: ignore[return-value]


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes (inputs recorded in manifests for resume)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def config_inputs(cfg: ExtractConfig, frames_file: Path) -> dict[str, Any]:
    """The manifest ``inputs`` of a set: the configuration plus digests of the split file and the library."""
    inputs = asdict(cfg)
    inputs["data"] = str(Path(cfg.data).resolve())
    inputs["split_sha256"] = file_digest(frames_file)
    if cfg.library is not None:
        inputs["library"] = str(Path(cfg.library).resolve())
        inputs["library_sha256"] = file_digest(cfg.library) if Path(cfg.library).is_file() else None
    if cfg.pseudo_dir is not None:
        inputs["pseudo_dir"] = str(Path(cfg.pseudo_dir).resolve())
    return inputs


def build_set(cfg: ExtractConfig, output: str | Path, workers: int, force: bool = False) -> dict[str, Any]:
    """Build ``<output>/frustums_<subset>.npz`` and its manifest (skipped when already complete with the same
    inputs, unless ``force``). Returns the manifest."""
    dataset = KittiDataset(cfg.data)
    frames_file = dataset.split_path(cfg.split)
    frames = dataset.check_split(cfg.split, ("calib", "image_2", "label_2"))
    check_point_inputs(dataset, frames, cfg.points, DepthOptions(depth_dir=cfg.depth_dir))
    path = Path(output) / FORMAT_NAME.format(cfg.subset)
    inputs = config_inputs(cfg, frames_file)
    if not force and is_complete(path, inputs):
        print(f"{path}: up to date (same inputs), skipped")
        return read_manifest(path) or {}
    if cfg.library is not None and cfg.ratio < 100:
        InstanceLibrary.load(cfg.library)  # fail early, naming the file
    merged = FrameResult.merge(run_frames(process_frame, cfg, frames, workers, f"frustums {cfg.subset}"))
    skipped = dict(merged.skipped)
    info = write_frustum_set(path, merged.samples, skipped, set=cfg.subset, split=cfg.split, frames=len(frames),
                             point_source=cfg.points, supervision=cfg.supervision, seed=cfg.seed, step=cfg.step,
                             ratio=cfg.ratio, inputs=inputs)
    print(f"{path}: {info['count']} samples, {info['points_total']} points from {len(frames)} frames; "
          f"skipped {skipped}")
    return info


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags shared by the data-side entry points."""
    parser.add_argument("--output", required=True, type=Path, help="step directory receiving the sets")
    parser.add_argument("--data", default="data/kitti", help="KITTI root holding training/ and ImageSets/")
    parser.add_argument("--split", default="train", help="split of the training frames (ImageSets/<split>.txt)")
    parser.add_argument("--points", choices=POINT_SOURCES, default="lidar",
                        help="scene points: velodyne LiDAR, pseudo-LiDAR from depth maps, or LiDAR densified by "
                             "LiDAR-aligned depth points (kitti.depth.point_source)")
    parser.add_argument("--beams64", action="store_true", help="thin pseudo-LiDAR to a virtual 64-beam scan")
    parser.add_argument("--depth-dir", choices=DEPTH_DIRS, default="depth_2",
                        help="depth maps of --points depth|lidar+depth: depth_2 (synthetic/rendered) or "
                             "DA3_depth_results (kitti.depth.generate)")
    parser.add_argument("--supervision", choices=SUPERVISION, default="weak",
                        help="weak: 2D labels only (ALPI); full: GT 3D boxes of real objects (upper bound)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="frame-parallel processes")
    parser.add_argument("--force", action="store_true", help="rebuild even if an up-to-date set exists")


#: ``@cli`` on a ``main``: input errors print ``error: ...`` and exit with status 2 (no traceback)
cli = exit_on_input_errors()


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--set", dest="sets", action="append", choices=SETS,
                        help="set(s) to build (repeatable; default train)")
    for name in SETS:
        parser.add_argument(f"--gen_{name}", dest="sets", action="append_const", const=name,
                            help=f"alias of --set {name}")
    parser.add_argument("--val-split", default="val", help="split of the validation frames")
    parser.add_argument("--copies", type=int, default=5, help="jittered copies per training object")
    parser.add_argument("--min-height", type=float, default=MIN_HEIGHT_PX, help="minimum 2D box height, pixels")
    parser.add_argument("--fixed-window", dest="relative_window", action="store_false",
                        help="store the fixed legacy depth window instead of the depth-relative one")
    args = parser.parse_args(argv)
    for subset in dict.fromkeys(args.sets or ["train"]):
        cfg = ExtractConfig(data=args.data, subset=subset, split=args.val_split if subset == "val" else args.split,
                            points=args.points, supervision=args.supervision, seed=args.seed, copies=args.copies,
                            min_height=args.min_height, beams64=args.beams64, depth_dir=args.depth_dir,
                            relative_window=args.relative_window)
        build_set(cfg, args.output, args.workers, args.force)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
