"""The detector commands' options, declared once (:mod:`kitti.options_cli`): the command lines of
:mod:`train.train_net_det`, :mod:`train.test_net_det` and :mod:`train.gen_pseudo` are generated from these
dataclasses, and the pipeline (:mod:`train.pipeline.stages`) writes its calls of them from the same classes
(:func:`kitti.options_cli.to_argv`). No torch import here: the pipeline reads this module.

* :class:`TrainArgs`: training on a frustum or refinement set;
* :class:`PredictArgs`: predictions for the frames of a split (:class:`PseudoLabelArgs` for the train frames,
  :class:`EvalArgs` for the validation frames, which adds ``--method``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kitti.data_args import ratio_option
from kitti.io.labels import SUPERVISION
from kitti.options_cli import check_fields, option

#: ``--method`` choices of :class:`EvalArgs`
METHODS: tuple[str, ...] = ("top", "nms")


def gpu_option() -> Any:
    return option(0, "CUDA device (falls back to CPU); -1 forces CPU")


@dataclass(frozen=True, kw_only=True)
class TrainArgs:
    """``python -m train.train_net_det``: one training run into ``output``."""

    config: Path | None = option(None, "YAML config (default: built-in paper hyper-parameters)")
    step: int = option(0, "pseudo-labelling step S (0, 1, 2, ...)")
    ratio: int = ratio_option()  # recorded in the checkpoints' meta
    output: Path = option(help="step directory receiving checkpoints and logs")
    frustums: Path | None = option(None, "training frustum set (default <output>/frustums_train.npz, "
                                   "refine_train.npz for data.kind refine)")
    supervision: str | None = option(None, "weak: 2D labels + proxies (ALPI); full: 3D boxes on every object "
                                     "(default: weak, full for data.kind refine: the pseudo-boxes are the "
                                     "refinement labels)", SUPERVISION)
    resume: bool = option(False, "continue from <output>/model_last.pth")
    gpu: int = gpu_option()
    overrides: tuple[str, ...] = option(tuple, "config overrides, e.g. train.epochs=2", positional="KEY=VALUE")

    def __post_init__(self) -> None:
        object.__setattr__(self, "overrides", tuple(self.overrides))
        check_fields(self)


@dataclass(frozen=True, kw_only=True)
class PredictArgs:
    """Predictions of a checkpoint for the frustums of a split's frames, written into ``output``."""

    weights: Path = option(help="checkpoint (model_final.pth / model_last.pth)")
    frustums: Path = option(help="frustum set (.npz) of the split's 2D boxes")
    data: Path = option(help="KITTI root holding training/ and ImageSets/")
    split: str = option("train", "frames: ImageSets/<split>.txt")
    output: Path = option(help="directory receiving data/ and the report")
    gpu: int = gpu_option()

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True, kw_only=True)
class PseudoLabelArgs(PredictArgs):
    """``python -m train.gen_pseudo``: pseudo-labels of the train frames."""


@dataclass(frozen=True, kw_only=True)
class EvalArgs(PredictArgs):
    """``python -m train.test_net_det``: predictions for the validation frames, evaluated."""

    split: str = option("val", "frames: ImageSets/<split>.txt")
    method: str | None = option(None, "one box per 2D box, or NMS over slices", METHODS)
