"""Frustum extraction from 2D boxes (docs/design.md §4.1, §4.2): step-0 training sets, validation and pseudo-labelling
sets, and the per-frame engine that steps >= 1 (:mod:`kitti.frustum.pseudo_step`) reuse.

    python -m kitti.frustum_extractor --output output/step_00 --data data/kitti --set train --set val --set pseudo

Sets (one ``frustums_<set>.npz`` + ``frustums_<set>.manifest.json`` each, format in :mod:`kitti.frustum.store`):

* ``train`` (split ``--split``, default ``train``): every annotated Car/Pedestrian/Cyclist 2D box at least
  ``frustums.min_height_px`` (25 px) tall, ``frustums.copies`` (5) copies each with a jittered 2D box
  (:func:`kitti.frustum.augmentation.random_shift_box2d`), each real frustum followed by one injected object (step 0: a
  synthetic proxy, :mod:`kitti.frustum.proxies`);
* ``val`` (split ``--val-split``, default ``val``): the annotated boxes, one copy, no jitter, no injection;
* ``pseudo`` (split ``--split``): the same for the training frames, the input of pseudo-labelling.

2D labels only: in the default ``weak`` supervision the labels are read with :func:`kitti.io.labels.read_labels_2d`
and real samples get ``has_3d = False``, ``box3d = NaN``, ``seg = -1``. Only ``--supervision full`` reads the 3D
fields (:func:`_read_objects_full`, the F-ConvNet upper bound). Replacements of the published code's 3D ground truth:
a real frustum is kept when it holds >= ``frustums.min_points`` (5) points inside the weak depth window
``f_v * HEIGHT_PRIOR / h_box`` +- :data:`kitti.priors.FAKE_OBJECT_RANGE` (published: >= 1 point inside the GT box);
the stored ``depth_window`` that shapes the slice labels grows with depth (:func:`kitti.priors.depth_window`);
the proxy placement, heading and real-object removal are 2D-only too (see :mod:`kitti.frustum.proxies`).

The tunables (``frustums.*``, the ``points.*`` settings of depth sources) come from the data config
``--data-config`` (:mod:`kitti.frustum.options`); ``--copies`` and ``--min-height`` override it.

Determinism: every (frame, label line, copy) has its own RNG ``default_rng([seed, frame, line, copy])``, so the
output does not depend on ``--workers`` or on scheduling; frames are processed in parallel (spawn-safe pool) and
assembled in split order. Resume: a set whose manifest exists and records the same inputs is not rebuilt.
"""
from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from kitti import geometry as g
from kitti.data_args import TRUSTED_MIN_SCORE, DataArgs
from kitti.depth.point_source import DepthOptions, check_point_inputs, scene_points
from kitti.errors import cli
from kitti.frustum.augmentation import random_shift_box2d
from kitti.frustum.instances import InstanceLibrary, load_cached
from kitti.frustum.options import DataOptions, FrustumOptions, check_options
from kitti.frustum.proxies import assemble, ground_height, in_box2d, in_window, placement, proxy_object
from kitti.frustum.sensor import sensor_for
from kitti.frustum.store import (
    KIND_PASTED,
    KIND_PROXY,
    KIND_REAL,
    KIND_TRUSTED,
    NAN7,
    FrustumSample,
    is_complete,
    read_manifest,
    write_frustum_set,
)
from kitti.geometric.labeller import FrameInputs, label_frame_and_claims
from kitti.io.calib import Calibration
from kitti.io.dataset import KittiDataset
from kitti.io.image import image_size as read_image_size
from kitti.io.labels import PREV_MATCH_IOU, Label2D, ObjectLabel, read_pseudo_labels
from kitti.options_cli import add_arguments, from_args
from kitti.outputs import check_outside_data
from kitti.priors import CLASS_ID, CLASSES, depth_estimate, depth_window
from kitti.runner import file_digest, hash_dir, run_frames

SETS = ("train", "val", "pseudo")
#: a previous-step pseudo-box shapes slice labels only if its projection overlaps the annotated 2D box this much
#: (a gross-error check: ground-truth pedestrian boxes of real KITTI frames reach only 0.48-0.65)
PREV_CHECK_IOU = 0.3
FORMAT_NAME = "frustums_{}.npz"


@dataclass(frozen=True)
class ExtractConfig:
    """What a frustum set is built from. ``step`` is the training step the set is for (0, or P+1 when built from
    step-P pseudo-labels); ``ratio`` the percentage of injected objects that are synthetic proxies at steps >= 1
    (``--ratio``, :func:`kitti.data_args.ratio_option`); a step-0 set injects proxies only and records 100."""

    data: str
    subset: str = "train"
    split: str = "train"
    points: str = "lidar"
    supervision: str = "weak"
    seed: int = 0
    step: int = 0
    ratio: int = 100
    classes: tuple[str, ...] = CLASSES
    library: str | None = None
    pseudo_dir: str | None = None
    #: data-config tunables (:mod:`kitti.frustum.options`) and the point-source settings (incl. run options)
    frustum: FrustumOptions = field(default_factory=FrustumOptions)
    depth: DepthOptions = field(default_factory=DepthOptions)
    trusted_dir: str | None = None
    trusted_min_score: float = TRUSTED_MIN_SCORE
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


def read_trusted_fits(cfg: ExtractConfig, frame: int) -> list[ObjectLabel]:
    """Geometric-labeller boxes of ``frame`` (``cfg.trusted_dir``, KITTI files with a fit-quality score) whose score
    reaches ``cfg.trusted_min_score``: trusted 3D targets of real training objects in ``weak`` mode. They are our
    own output computed from 2D boxes and points (:mod:`kitti.geometric`), never ground truth."""
    if cfg.trusted_dir is None or cfg.supervision != "weak" or not cfg.training:
        return []
    return [fit for fit in read_pseudo_labels(cfg.trusted_dir, frame)
            if fit.score is not None and fit.score >= cfg.trusted_min_score]


def check_previous(prev: np.ndarray, annotated: np.ndarray, ctx: "FrameContext", points: np.ndarray,
                   min_points: int) -> bool:
    """Geometric check of a previous-step pseudo-box before it shapes slice labels: it holds at least
    ``min_points`` (``frustums.min_points``) of the frustum points and its image projection overlaps the annotated
    2D box with IoU >= :data:`PREV_CHECK_IOU`."""
    if not np.isfinite(prev).all():
        return False
    hull = g.project_boxes_to_image(prev[None].astype(np.float64), ctx.calib.P2, ctx.image_size)[0]
    if float(g.box2d_iou(annotated, hull)[0, 0]) < PREV_CHECK_IOU:
        return False
    return int(g.points_in_boxes_mask(points[:, :3], prev[None].astype(np.float64))[:, 0].sum()) >= min_points


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
    def load(cls, dataset: KittiDataset, frame: int, points: str,
             depth: DepthOptions = DepthOptions()) -> "FrameContext":
        calib = dataset.calib(frame)
        size = read_image_size(dataset.path("image_2", frame))
        scene = scene_points(dataset, frame, calib, size, points, depth)
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

    Placement from the real frustum's points in the weak depth window (:func:`kitti.frustum.proxies.placement`), the
    bottom on the local ground (:func:`kitti.frustum.proxies.ground_height`) when it can be estimated; step 0
    always a proxy ray-cast with the frame's sensor model (:func:`kitti.frustum.sensor.sensor_for`), steps >= 1 a
    proxy with probability ``ratio / 100`` and otherwise a pasted library instance (a proxy when the library has no
    instance of the class; counted as ``pasted_fallback_proxy``)."""
    window_points = frustum_points[in_window(frustum_points, window)]
    options = cfg.frustum
    centre = placement(class_name, window_points, annotated, ctx.calib.focal_v, options.min_depth, options.min_points)
    if centre is None:
        return None, "injection_no_placement"
    ground_y = ground_height(ctx.scene, centre)
    if ground_y is not None:
        centre[1] = round(ground_y, 2)
    use_proxy = cfg.step == 0 or rng.uniform() * 100.0 < cfg.ratio
    note = ""
    library = None if use_proxy else load_cached(str(cfg.library))
    if library is not None and not library.has_class(CLASS_ID[class_name]):
        use_proxy, note = True, "pasted_fallback_proxy"
    scan = None
    if use_proxy:
        sensor = sensor_for(cfg.points, cfg.depth.beams64, ctx.calib, ctx.image_size)
        box3d, scan = proxy_object(class_name, centre, annotated, ctx.calib.P2, ctx.image_size, rng, sensor)
        object_points = scan.points
        # proxy reflectance: median of the real object's window points (constant 1.0 for pseudo-LiDAR anyway)
        intensity: np.ndarray | float = float(np.median(window_points[:, 3]))
        kind = KIND_PROXY
    else:
        assert library is not None  # not use_proxy: loaded above
        box3d, pasted = library.paste(CLASS_ID[class_name], centre, rng)
        object_points, intensity, kind = pasted[:, :3], pasted[:, 3], KIND_PASTED
    obj = assemble(box3d, object_points, intensity, ctx.scene, ctx.uv, in_annotated, window, ctx.calib.P2,
                   ctx.image_size, rng, jitter=True, min_points=options.min_points, scan=scan, ground_y=ground_y)
    if obj is None:
        return None, "injection_too_few_points"
    target_window = depth_window(class_name, obj.box2d_target[3] - obj.box2d_target[1], ctx.calib.focal_v,
                                 cfg.relative_window)
    return ctx.sample(class_name, kind, obj.box2d, obj.box2d_target, target_window, obj.points, obj.seg,
                      obj.box3d), note


def claimed_by_others(ctx: FrameContext, objects: Sequence[RealObject],
                      classes: Sequence[str]) -> dict[int, np.ndarray]:
    """Per object of ``classes`` (by its position in ``objects``): bool ``(N,)`` over ``ctx.scene``, the points the
    geometric labeller's claims give to the objects fitted before it
    (:func:`kitti.geometric.labeller.label_frame_and_claims`): its occluders' and nearer objects' returns. From the
    2D labels and the points only."""
    labels = [obj.label for obj in objects]
    wanted = [i for i, label in enumerate(labels) if label.type in classes]
    if not wanted:
        return {}
    _, claimed = label_frame_and_claims(FrameInputs(ctx.calib, ctx.image_size, ctx.scene[:, :3], labels,
                                                    tuple(classes)))
    masks = {}
    for index, taken in zip(wanted, claimed):
        masks[index] = np.zeros(len(ctx.scene), bool)
        masks[index][taken] = True
    return masks


def process_frame(cfg: ExtractConfig, frame: int) -> FrameResult:
    """All samples of one frame (reals, and for training sets their injected objects) plus skip counts. With
    ``frustums.drop_claimed`` an object's frustum leaves out the points claimed by the objects in front of it
    (:func:`claimed_by_others`)."""
    dataset = KittiDataset(cfg.data)
    ctx = FrameContext.load(dataset, frame, cfg.points, cfg.depth)
    objects = read_objects(dataset, frame, cfg.supervision)
    pseudo = read_pseudo_labels(cfg.pseudo_dir, frame) if cfg.pseudo_dir else []
    trusted_fits = read_trusted_fits(cfg, frame)
    result = FrameResult()
    wanted = [index for index, obj in enumerate(objects) if obj.label.type in cfg.classes]
    if not wanted:
        result.skipped["frames_without_objects"] += 1
    options = cfg.frustum
    copies = options.copies if cfg.training else 1
    claimed = claimed_by_others(ctx, objects, cfg.classes) if options.drop_claimed else {}
    for index in wanted:
        obj = objects[index]
        free = ~claimed[index] if index in claimed else np.ones(len(ctx.scene), bool)
        class_name, annotated = obj.label.type, np.asarray(obj.label.box2d, np.float64)
        height = annotated[3] - annotated[1]
        if height < options.min_height_px:
            result.skipped["below_min_height"] += 1
            continue
        if depth_estimate(class_name, height, ctx.calib.focal_v) <= options.min_depth:
            result.skipped["too_close"] += 1
            continue
        window = depth_window(class_name, height, ctx.calib.focal_v)
        label_window = depth_window(class_name, height, ctx.calib.focal_v, cfg.relative_window)
        in_annotated = in_box2d(ctx.uv, annotated) & free
        prev = match_previous(annotated, class_name, pseudo)
        trusted = match_previous(annotated, class_name, trusted_fits)
        box3d, kind = obj.box3d, KIND_REAL
        if obj.box3d is None and np.isfinite(trusted).all():
            box3d, kind, prev = trusted, KIND_TRUSTED, NAN7
            result.skipped["trusted_fit"] += 1
        elif np.isfinite(prev).all() and not check_previous(prev, annotated, ctx, ctx.scene[in_annotated],
                                                                 options.min_points):
            prev = NAN7
            result.skipped["previous_box_rejected"] += 1
        for copy in range(copies):
            rng = np.random.default_rng([cfg.seed, frame, obj.label.line, copy])
            box2d = random_shift_box2d(annotated, rng, ctx.image_size) if cfg.training else annotated
            points = ctx.scene[in_box2d(ctx.uv, box2d) & free]
            if in_window(points, window).sum() < options.min_points:
                result.skipped["too_few_points"] += 1
                continue
            if box3d is None:
                seg = np.full(len(points), -1, np.int8)
            else:
                seg = g.points_in_boxes_mask(points, box3d[None])[:, 0].astype(np.int8)
                if not seg.any():
                    result.skipped["no_points_in_box"] += 1
                    continue
            result.samples.append(ctx.sample(class_name, kind, box2d, annotated, label_window, points, seg, box3d,
                                             obj.label.line, prev, occlusion=obj.label.occlusion,
                                             truncation=obj.label.truncation))
            if cfg.training:
                injected, note = inject(cfg, ctx, class_name, annotated, window, points, in_annotated, rng)
                if note:
                    result.skipped[note] += 1
                if injected is not None:
                    result.samples.append(injected)
    return result


# ---------------------------------------------------------------------------------------------------------------
# writing sets, command line (shared by the other entry points)


def config_inputs(cfg: Any, frames_file: Path) -> dict[str, Any]:
    """The manifest ``inputs`` of a tracked set: the configuration (a dataclass; ``data``, ``pseudo_dir`` and
    ``library`` paths resolved) plus the digests of the split file and, if any, of the instance library."""
    inputs = asdict(cfg)
    inputs["data"] = str(Path(cfg.data).resolve())
    inputs["split_sha256"] = file_digest(frames_file)
    library = getattr(cfg, "library", None)
    if library is not None:
        inputs["library"] = str(Path(library).resolve())
        inputs["library_sha256"] = file_digest(library) if Path(library).is_file() else None
    if getattr(cfg, "pseudo_dir", None) is not None:
        inputs["pseudo_dir"] = str(Path(cfg.pseudo_dir).resolve())
    trusted_dir = getattr(cfg, "trusted_dir", None)
    if trusted_dir is not None:
        inputs["trusted_dir"] = str(Path(trusted_dir).resolve())
        inputs["trusted_sha256"] = hash_dir(trusted_dir, "*.txt")
    return inputs


#: ``write(per-frame results, frame ids, manifest inputs) -> manifest`` of :func:`build_tracked`
Writer = Callable[[list[Any], list[int], dict[str, Any]], dict[str, Any]]


def build_tracked(cfg: Any, path: Path, required: tuple[str, ...], frame_fn: Callable[[Any, int], Any], desc: str,
                  write: Writer, workers: int, force: bool = False,
                  before_run: Callable[[], None] | None = None) -> dict[str, Any]:
    """The shared frame of the manifest-tracked builders (frustum sets, instance library, refinement sets).

    ``cfg`` is the builder's configuration dataclass (fields ``data``, ``split``, ``points``, ``depth``). Checks that
    every frame of the split has its ``required`` files and the point source's inputs; when ``path`` is complete
    with the same inputs (:func:`config_inputs`) it is skipped (unless ``force``) and its manifest returned;
    otherwise ``before_run`` (early checks), ``frame_fn`` over the frames (:func:`run_frames`) and ``write``. An
    output folder inside the data set is refused (:func:`kitti.outputs.check_outside_data`)."""
    dataset = KittiDataset(cfg.data)
    check_outside_data(path.parent, dataset.root)
    frames = dataset.check_split(cfg.split, required)
    check_point_inputs(dataset, frames, cfg.points, cfg.depth)
    inputs = config_inputs(cfg, dataset.split_path(cfg.split))
    if not force and is_complete(path, inputs):
        print(f"{path}: up to date (same inputs), skipped")
        return read_manifest(path) or {}
    if before_run is not None:
        before_run()
    return write(run_frames(frame_fn, cfg, frames, workers, desc), frames, inputs)


def build_set(cfg: ExtractConfig, output: str | Path, workers: int, force: bool = False) -> dict[str, Any]:
    """Build ``<output>/frustums_<subset>.npz`` and its manifest (skipped when already complete with the same
    inputs, unless ``force``). Returns the manifest."""
    path = Path(output) / FORMAT_NAME.format(cfg.subset)

    def check_library() -> None:
        if cfg.library is not None and cfg.ratio < 100:
            InstanceLibrary.load(cfg.library)  # fail early, naming the file

    def write(results: list[FrameResult], frames: list[int], inputs: dict[str, Any]) -> dict[str, Any]:
        merged = FrameResult.merge(results)
        skipped = dict(merged.skipped)
        info = write_frustum_set(path, merged.samples, skipped, set=cfg.subset, split=cfg.split, frames=len(frames),
                                 point_source=cfg.points, supervision=cfg.supervision, seed=cfg.seed, step=cfg.step,
                                 ratio=cfg.ratio, inputs=inputs)
        print(f"{path}: {info['count']} samples, {info['points_total']} points from {len(frames)} frames; "
              f"skipped {skipped}")
        return info

    return build_tracked(cfg, path, ("calib", "image_2", "label_2"), process_frame, f"frustums {cfg.subset}", write,
                         workers, force, check_library)


def add_set_arguments(parser: argparse.ArgumentParser, copies_help: str) -> None:
    """The set choice (``--set``, repeatable, with the published ``--gen_<set>`` aliases), ``--val-split`` and
    ``--copies`` of the set builders."""
    parser.add_argument("--set", dest="sets", action="append", choices=SETS,
                        help="set(s) to build (repeatable; default train)")
    for name in SETS:
        parser.add_argument(f"--gen_{name}", dest="sets", action="append_const", const=name,
                            help=f"alias of --set {name}")
    parser.add_argument("--val-split", default="val", help="split of the validation frames")
    parser.add_argument("--copies", type=int, help=copies_help)


def frustum_options(options: DataOptions, copies: int | None = None,
                    min_height: float | None = None) -> FrustumOptions:
    """``options.frustums`` with the command-line overrides that were given."""
    changes: dict[str, Any] = {k: v for k, v in (("copies", copies), ("min_height_px", min_height)) if v is not None}
    frustums = replace(options.frustums, **changes)
    check_options(replace(options, frustums=frustums), "command line",
                  {"frustums.copies": "--copies", "frustums.min_height_px": "--min-height"})
    return frustums


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser, DataArgs)
    add_set_arguments(parser, "jittered copies per training object (overrides the data config's frustums.copies)")
    parser.add_argument("--min-height", type=float, help="minimum 2D box height, pixels (overrides the data "
                        "config's frustums.min_height_px)")
    parser.add_argument("--fixed-window", dest="relative_window", action="store_false",
                        help="store the fixed legacy depth window instead of the depth-relative one")
    args = parser.parse_args(argv)
    run = from_args(DataArgs, args)
    options, depth = run.data_options()
    frustum = frustum_options(options, args.copies, args.min_height)
    for subset in dict.fromkeys(args.sets or ["train"]):
        cfg = ExtractConfig(data=run.data, subset=subset, split=args.val_split if subset == "val" else run.split,
                            points=run.points, supervision=run.supervision, seed=run.seed, frustum=frustum,
                            depth=depth, trusted_dir=run.trusted_dir, trusted_min_score=run.trusted_min_score,
                            relative_window=args.relative_window)
        build_set(cfg, run.output, run.workers, run.force)
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
