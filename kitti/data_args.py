"""The data-side commands' options, declared once (:mod:`kitti.options_cli`): each command's flags are generated
from one of these dataclasses.

* :class:`FrameArgs`: a labelling run over the frames of a split (the geometric labeller);
* :class:`DataArgs`: adds the data config, the supervision mode and the trusted fits (the step-0 frustum sets and
  the refinement sets);
* :class:`PseudoArgs`: adds a pseudo-label directory (the refinement sets);
* :class:`StepArgs`: adds the step P of those pseudo-labels (the instance library);
* :class:`InjectionArgs`: adds ``--ratio`` (:class:`RatioArgs`; the training sets of steps >= 1).

The options that the pipeline (:class:`train.pipeline.options.RunOptions`) shares with them are declared here once
(:func:`points_option`, :func:`depth_dir_option`, :func:`supervision_option`, :func:`trusted_min_score_option`,
:func:`ratio_option`), with their one default, type and check.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kitti.depth.point_source import DEPTH_DIRS, POINT_SOURCES, DepthOptions
from kitti.frustum.options import DataOptions, load_data_options
from kitti.io.labels import SUPERVISION
from kitti.options_cli import between, check_fields, option

#: default lowest fit quality (0..1) of a trusted geometric fit
TRUSTED_MIN_SCORE = 0.6
#: default percentage of injected objects that are synthetic proxies at steps >= 1 (the published runs' 30)
RATIO = 30


def points_option() -> Any:
    return option("lidar", "scene points: velodyne LiDAR, pseudo-LiDAR from depth maps, or LiDAR densified by "
                  "LiDAR-aligned depth points (kitti.depth.point_source)", POINT_SOURCES)


def depth_dir_option() -> Any:
    return option("depth_2", "depth maps of --points depth|lidar+depth: depth_2 (synthetic/rendered) or "
                  "DA3_depth_results (kitti.depth.generate)", DEPTH_DIRS)


def supervision_option() -> Any:
    return option("weak", "weak: ALPI, 2D labels only; full: 3D ground truth of real objects (the upper bound)",
                  SUPERVISION)


def trusted_min_score_option() -> Any:
    return option(TRUSTED_MIN_SCORE, "minimum fit quality of a trusted geometric fit", check=between(0.0, 1.0))


def ratio_option() -> Any:
    return option(RATIO, "percentage of injected objects that are synthetic proxies at steps >= 1 (the rest are "
                  "instances pasted from the library)", check=between(0, 100))


@dataclass(frozen=True, kw_only=True)
class FrameArgs:
    """A run over the frames of a split (paths as given; ``output`` must not lie inside the data set)."""

    output: Path = option(help="directory receiving the outputs: a new one, or one this command wrote (outside the "
                               "data set)")
    data: str = option("data/kitti", "KITTI root holding training/ and ImageSets/")
    split: str = option("train", "split of the frames (ImageSets/<split>.txt)")
    points: str = points_option()
    depth_dir: str = depth_dir_option()
    workers: int = option(os.cpu_count() or 1, "frame-parallel processes", check=between(1))
    force: bool = option(False, "redo the work even if an up-to-date output exists")

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True, kw_only=True)
class DataArgs(FrameArgs):
    """A frustum or refinement set: adds the data config, the supervision and the trusted fits."""

    beams64: bool = option(False, "thin pseudo-LiDAR to a virtual 64-beam scan")
    supervision: str = supervision_option()
    trusted_dir: str | None = option(None, "geometric-labeller label directory (kitti.geometric_labeller): fits "
                                     "whose score reaches --trusted-min-score become 3D targets of real training "
                                     "objects (weak mode)")
    trusted_min_score: float = trusted_min_score_option()
    seed: int = option(0, "seed of the jitter and the injected objects", check=between(0))
    data_config: Path | None = option(None, "data-side tunables (YAML, kitti.frustum.options; default: "
                                      "configs/data/default.yaml's values)")

    def data_options(self) -> tuple[DataOptions, DepthOptions]:
        """The data config (loaded once) and the point-source settings of this run."""
        options = load_data_options(self.data_config)
        return options, options.depth_options(self.beams64, self.depth_dir)


@dataclass(frozen=True, kw_only=True)
class PseudoArgs(DataArgs):
    """Built from pseudo-labels (our own predictions, KITTI files with a score: their 3D fields may be read)."""

    pseudo_dir: str = option(help="pseudo-label directory (%06d.txt with scores)")


@dataclass(frozen=True, kw_only=True)
class StepArgs(PseudoArgs):
    """Built from the step-P pseudo-labels (``--pseudo-dir``)."""

    step: int = option(help="step P whose pseudo-labels are used (the set trains step P + 1)", check=between(0))


@dataclass(frozen=True, kw_only=True)
class RatioArgs:
    """The proxy share of the injected objects (recorded by the detector's training, used by the injection)."""

    ratio: int = ratio_option()

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True, kw_only=True)
class InjectionArgs(StepArgs, RatioArgs):
    """The training set of step P + 1: real frustums, proxies and pasted instances."""
