"""Training / inference configuration: a YAML schema made of nested dataclasses.

``load_config(path, overrides)`` reads the file with the project's typed YAML loader (:mod:`kitti.typed_yaml`, also
used by the data config): ``_base_: other.yaml`` inherits another config; an unknown key is an error naming the file
and the dotted key; every value is type-checked; ``KEY=VALUE`` overrides use dotted keys (``train.epochs=2``) and
their values are parsed with :func:`kitti.safe_yaml.load_yaml` (so ``model.pointnet=[[8,8],[8,8],[8,8],[8,8]]``
works; aliases bounded). Every number has a finite range (:data:`RANGES`).

Units: metres for strides and depths, pixels nowhere (the 2D loss is relative to the 2D box size).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

from kitti.errors import InputError
from kitti.safe_yaml import load_yaml
from kitti.typed_yaml import Schema, build, check_ranges, read_mapping


class ConfigError(InputError):
    """A configuration problem; the message names the file and the dotted key."""


@dataclass
class DataConfig:
    #: ``frustum`` (step models, :mod:`train.frustum_dataset`) or ``refine`` (refinement stage,
    #: :mod:`train.refine_dataset`: samples centred on the enlarged pseudo-box, ``max_depth`` = length of the
    #: reference line centred on it)
    kind: str = "frustum"
    #: points per frustum after resampling (paper: 1024)
    num_samples: int = 1024
    #: slab half-heights = strides of the four scales, metres. The paper's car strides are the default of the
    #: single 3-class model (people strides 0.1/0.2/0.4/0.8 exist in the paper's per-class models)
    strides: list[float] = field(default_factory=lambda: [0.25, 0.5, 1.0, 2.0])
    #: points grouped per slab (first-K semantics) at each scale
    group_sizes: list[int] = field(default_factory=lambda: [32, 64, 64, 128])
    #: farthest reference centre (exclusive), metres of camera depth
    max_depth: float = 70.0
    #: train-time flip probability (x -> -x in the frustum frame)
    flip_prob: float = 0.5
    #: depth-shift std as a fraction of the box diagonal sqrt(l^2 + w^2) (only samples with a 3D target)
    depth_shift: float = 0.2
    #: weak real objects: the sample's ``depth_window`` is widened on each side by an ignore band of
    #: ``max(window_margin, window_band * d)`` metres (``d`` = the window's mid depth: the band grows with depth like
    #: the height-prior depth error); slices outside the widened window are negatives, slices inside it are ignored
    #: at step 0 (no positives from reals). ``window_band: 0`` restores the fixed 1 m margin.
    window_margin: float = 1.0
    window_band: float = 0.1
    #: slice labels: inside the box scaled by ``positive_scale`` -> positive, by ``ignore_scale`` -> ignored
    #: (step models 0.5 / 1.0; refinement 0.3 / 0.6)
    positive_scale: float = 0.5
    ignore_scale: float = 1.0


@dataclass
class ModelConfig:
    #: per-scale PointNet widths (1x1 conv layers); the last width of scale i is also the FCN block-i width
    pointnet: list[list[int]] = field(default_factory=lambda: [[64, 64, 128], [64, 64, 128], [128, 128, 256],
                                                               [256, 256, 512]])
    #: width of each of the three deconvolution branches (the head input is 3x this)
    deconv: int = 256
    num_heading_bins: int = 12
    #: box-quality head: predicts the 3D IoU of the slice's own decoded box (trained on injected objects only)
    quality_head: bool = True


@dataclass
class LossConfig:
    focal_alpha: float = 0.25
    focal_gamma: float = 2.0
    box_weight: float = 1.0
    #: heading-bin cross entropy weight (F-ConvNet: 1). The bins are the only term that tells the direction (the
    #: residual and corner terms decode with the target bin). On objects whose ends differ strongly in height, 5
    #: learns the direction in a third of the steps 1 needs; on the demo worlds neither learns the cars' direction
    #: in 8 epochs (docs/results.md, "Direction from the learned heading")
    heading_cls_weight: float = 1.0
    heading_res_weight: float = 20.0
    size_res_weight: float = 20.0
    corner_weight: float = 10.0
    #: size-class cross entropy weight (released 1, legacy 0)
    size_cls_weight: float = 1.0
    #: depth-invariant 2D loss weight (weak mode, real objects)
    box2d_weight: float = 0.1
    #: Smooth-L1 transition of the 2D loss, in units of the target box size (relative error; depth invariant)
    box2d_beta: float = 0.05
    #: 2D-loss weight per KITTI occlusion level 0 (fully visible) .. 3 (unknown); a sample without an annotated
    #: level (-1) takes the weight of level 3. Default: the loss only where the 2D box is the full object's hull
    box2d_occlusion_weights: list[float] = field(default_factory=lambda: [1.0, 0.0, 0.0, 0.0])
    #: truncation levels: level i holds truncations ``t`` with ``edges[i-1] < t <= edges[i]`` (level 0: ``t <=
    #: edges[0]``, i.e. untruncated); one weight per level (len(edges) + 1), multiplied with the occlusion weight
    box2d_truncation_edges: list[float] = field(default_factory=lambda: [0.0, 0.5])
    box2d_truncation_weights: list[float] = field(default_factory=lambda: [1.0, 0.0, 0.0])
    #: box-quality (3D IoU) regression weight: binary cross entropy of the quality logit against the IoU
    quality_weight: float = 1.0
    #: batch size-prior loss weight at step 0 and at steps >= 1 (legacy: 0.5 then 0; docs/design.md §7.4)
    size_prior_step0: float = 0.5
    size_prior_later: float = 0.0


@dataclass
class TrainConfig:
    batch_size: int = 64
    epochs: int = 50
    lr: float = 5e-4
    weight_decay: float = 5e-5
    lr_steps: list[int] = field(default_factory=lambda: [20])
    lr_gamma: float = 0.1
    seed: int = 3
    #: DataLoader worker processes (0 = in the main process)
    workers: int = 0


@dataclass
class TestConfig:
    batch_size: int = 32
    #: ``top``: one box per 2D box; ``nms``: every slice with p_fg > p_bg, then 3D NMS per frame and class
    method: str = "top"
    #: 3D IoU above which NMS suppresses a box
    nms_thresh: float = 0.1
    #: box score (:mod:`train.inference`): ``fg`` = foreground probability; ``quality`` = foreground probability x
    #: predicted 3D IoU (omitted without ``model.quality_head``) x 2D agreement (IoU of the projected box with the
    #: input 2D box)
    score: str = "quality"
    #: choose slices only inside the sample's depth window widened by the ignore band (as in training)
    window: bool = True


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    test: TestConfig = field(default_factory=TestConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: the range ``(low, high)`` (inclusive) of every number of the config, by dotted key (list items share their
#: field's range); every number must also be finite (``train.lr=.nan`` is refused before anything runs)
RANGES: dict[str, tuple[float, float]] = {
    "data.num_samples": (1, 100_000), "data.strides": (1e-3, 100), "data.group_sizes": (1, 10_000),
    "data.max_depth": (1, 1000), "data.flip_prob": (0, 1), "data.depth_shift": (0, 10),
    "data.window_margin": (0, 100), "data.window_band": (0, 10), "data.positive_scale": (0, 10),
    "data.ignore_scale": (0, 10),
    "model.pointnet": (1, 4096), "model.deconv": (1, 4096), "model.num_heading_bins": (1, 360),
    "loss.focal_alpha": (0, 1), "loss.focal_gamma": (0, 100), "loss.box_weight": (0, 1e4),
    "loss.heading_cls_weight": (0, 1e4), "loss.heading_res_weight": (0, 1e4), "loss.size_res_weight": (0, 1e4),
    "loss.corner_weight": (0, 1e4),
    "loss.size_cls_weight": (0, 1e4), "loss.box2d_weight": (0, 1e4), "loss.box2d_beta": (1e-6, 10),
    "loss.box2d_occlusion_weights": (0, 1e4), "loss.box2d_truncation_edges": (-1, 1),
    "loss.box2d_truncation_weights": (0, 1e4), "loss.quality_weight": (0, 1e4), "loss.size_prior_step0": (0, 1e4),
    "loss.size_prior_later": (0, 1e4),
    "train.batch_size": (2, 65_536), "train.epochs": (1, 100_000), "train.lr": (1e-12, 10),
    "train.weight_decay": (0, 1), "train.lr_steps": (0, 100_000), "train.lr_gamma": (1e-6, 10),
    "train.seed": (0, 2**32 - 1), "train.workers": (0, 256),
    "test.batch_size": (1, 65_536), "test.nms_thresh": (0, 1),
}


def _config_error(source: str, message: str) -> Exception:
    return ConfigError(f"{source}: {message}")


#: the detector config's schema for :mod:`kitti.typed_yaml`
SCHEMA = Schema(Config, "config", _config_error)


def _validate(cfg: Config, source: str) -> None:
    check_ranges(cfg, RANGES, source, _config_error)
    if len(cfg.data.strides) != 4 or len(cfg.data.group_sizes) != 4 or len(cfg.model.pointnet) != 4:
        raise ConfigError(f"{source}: data.strides, data.group_sizes and model.pointnet need 4 entries (4 scales)")
    if any(not widths for widths in cfg.model.pointnet):
        raise ConfigError(f"{source}: model.pointnet: every scale needs at least one layer")
    if cfg.data.kind not in ("frustum", "refine"):
        raise ConfigError(f"{source}: data.kind must be 'frustum' or 'refine', got {cfg.data.kind!r}")
    if cfg.test.method not in ("top", "nms"):
        raise ConfigError(f"{source}: test.method must be 'top' or 'nms', got {cfg.test.method!r}")
    if cfg.test.score not in ("fg", "quality"):
        raise ConfigError(f"{source}: test.score must be 'fg' or 'quality', got {cfg.test.score!r}")
    loss = cfg.loss
    if len(loss.box2d_occlusion_weights) != 4:
        raise ConfigError(f"{source}: loss.box2d_occlusion_weights needs 4 entries (KITTI occlusion 0..3)")
    if len(loss.box2d_truncation_weights) != len(loss.box2d_truncation_edges) + 1:
        raise ConfigError(f"{source}: loss.box2d_truncation_weights needs len(loss.box2d_truncation_edges) + 1 "
                          f"entries")
    if list(loss.box2d_truncation_edges) != sorted(loss.box2d_truncation_edges):
        raise ConfigError(f"{source}: loss.box2d_truncation_edges must be increasing")
    if any(w < 0 for w in [*loss.box2d_occlusion_weights, *loss.box2d_truncation_weights]):
        raise ConfigError(f"{source}: loss.box2d_*_weights must be >= 0")
    if cfg.data.window_band < 0:
        raise ConfigError(f"{source}: data.window_band must be >= 0")
    if cfg.train.batch_size < 2:
        raise ConfigError(f"{source}: train.batch_size must be >= 2 (batch norm)")
    for key, value, least in (("train.epochs", cfg.train.epochs, 1), ("data.num_samples", cfg.data.num_samples, 1),
                              ("test.batch_size", cfg.test.batch_size, 1), ("train.workers", cfg.train.workers, 0)):
        if value < least:
            raise ConfigError(f"{source}: {key} must be >= {least}, got {value}")


def apply_override(raw: dict[str, Any], item: str, source: str = "command line") -> None:
    """Apply one ``dotted.key=value`` to a raw config mapping (value parsed with ``yaml.safe_load``)."""
    if "=" not in item:
        raise ConfigError(f"{source}: override {item!r} is not KEY=VALUE")
    key, text = item.split("=", 1)
    parts = key.strip().split(".")
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{source}: '{key}' does not name a config section")
    try:
        node[parts[-1]] = load_yaml(text)
    except yaml.YAMLError as exc:  # invalid YAML, or a tag (safe_load constructs no objects)
        reason = str(exc).splitlines()[0]
        raise ConfigError(f"{source}: override {item!r}: the value is not a plain YAML value ({reason})") from None


def config_from_dict(raw: dict[str, Any], source: str = "<dict>") -> Config:
    """A typed :class:`Config` from a raw mapping (missing keys take their defaults)."""
    cfg = build(Config, raw, source, SCHEMA)
    _validate(cfg, source)
    return cfg


def load_config(path: str | Path | None, overrides: Sequence[str] = ()) -> Config:
    """Read a YAML config (``None``: defaults = the paper's hyper-parameters) and apply ``KEY=VALUE`` overrides."""
    source = str(path) if path is not None else "<defaults>"
    raw = read_mapping(Path(path), SCHEMA) if path is not None else {}
    if not overrides:
        return config_from_dict(raw, source)
    config_from_dict(raw, source)  # the file's own errors blame the file, the overrides' errors the overrides
    for item in overrides:
        apply_override(raw, item)
    return config_from_dict(raw, f"{source} with the command-line override(s) {' '.join(overrides)}")


def dump_config(cfg: Config) -> str:
    """The resolved configuration as YAML text."""
    return yaml.safe_dump(cfg.to_dict(), sort_keys=False)
