"""The pipeline's run options, declared once: :class:`RunOptions` holds every option with its default, help text
and check; the command line of ``python -m train.pipeline`` is generated from it (:func:`add_run_arguments`,
:func:`options_from_args`), and the shell scripts in ``scripts/`` forward their flags to that command unchanged.

``--demo`` swaps in the demo defaults (:data:`DEMO_DEFAULTS`: the synthetic world, CPU-sized configs, ``output/demo``)
for the options not given; ``--supervision full`` appends ``_full`` to the default output directory, so that the
upper bound never rebuilds a weak run's stages.
"""
from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any

from kitti.data_args import (
    depth_dir_option,
    points_option,
    ratio_option,
    supervision_option,
    trusted_min_score_option,
)
from kitti.frustum.options import DataOptions, load_data_options
from kitti.geometric.score import PRIOR_SCALE
from kitti.options_cli import OptionError, add_arguments, between, check_fields, flag, option
from kitti.priors import CLASSES

REPO = Path(__file__).resolve().parents[2]
#: the options ``--demo`` changes when they are not given (the output directory also gets ``_full`` for
#: ``--supervision full``)
DEMO_DEFAULTS: dict[str, Path] = {
    "data": Path("data/synthetic"),
    "output": Path("output/demo"),
    "config": Path("configs/demo.yaml"),
    "refine_config": Path("configs/demo_refine.yaml"),
}
#: ``--trusted-fits`` and ``--final-labels`` choices
TRUSTED_FITS: tuple[str, ...] = ("geometric", "none")
FINAL_LABELS: tuple[str, ...] = ("fused", "alpi")
#: the demo world's size when ``--demo`` has to generate it
DEMO_FRAMES = 100


@dataclass(frozen=True)
class RunOptions:
    """Everything a stage depends on besides its inputs on disk (paths relative to the repository root)."""

    data: Path = option(Path("data/kitti"), "KITTI root with training/ and ImageSets/{train,val}.txt")
    output: Path = option(Path("output"), "root of the stage directories (a run with other parameters in the "
                           "same directory rebuilds its stages: give side-by-side runs their own --output)")
    config: Path = option(Path("configs/det_sample.yaml"), "detector config of the steps")
    refine_config: Path = option(Path("configs/refine_sample.yaml"), "refinement config")
    data_config: Path = option(REPO / "configs" / "data" / "default.yaml",
                                "data-side tunables (frustums, instance library, refinement regions, point "
                                "settings; kitti.frustum.options)")
    ratio: int = ratio_option()
    supervision: str = supervision_option()
    trusted_fits: str = option("geometric", "weak mode, beyond ALPI: geometric-labeller fits whose quality reaches "
                                "--trusted-min-score are 3D targets of real training objects and pasted instances "
                                "(geometric), or ALPI as published (none)", TRUSTED_FITS)
    trusted_min_score: float = trusted_min_score_option()
    final_labels: str = option("fused", "weak mode: final labels = the refinement's pseudo-labels with confident "
                                "geometric fits in place of the boxes they match (fused), or the pseudo-labels "
                                "alone (alpi)", FINAL_LABELS)
    fusion_min_score: float = option(PRIOR_SCALE, "fused final labels: a geometric box with at least this score "
                                      "replaces the learned box of its 2D box (0..1; lower = more geometric boxes; "
                                      "the default is the highest score of a box placed from the prior alone)",
                                     check=between(0.0, 1.0))
    fusion_agreement: str = option("none", "fused final labels: classes (comma-separated, or none) whose geometric "
                                    "boxes are rescored by their BEV IoU with the learned box of the same 2D box")
    points: str = points_option()
    depth_dir: str = depth_dir_option()
    da3_model: str = option("da3metric-large", "Depth Anything 3 model (registry name, local dir or hub id) "
                             "that generates missing DA3_depth_results maps")
    gpu: int = option(0, "CUDA device, -1 = CPU (a missing GPU falls back to CPU with a warning)", check=between(-1))
    seed: int = option(0, "seed of data generation and training (and of the demo world)", check=between(0))
    workers: int = option(2, "processes for data generation", check=between(1))
    train_split: str = option("train", "split of the training frames (ImageSets/<split>.txt)")
    val_split: str = option("val", "split of the validation frames")
    overrides: tuple[str, ...] = option(tuple, "detector config overrides KEY=VALUE (e.g. train.epochs=2)",
                                        positional="KEY=VALUE")

    def __post_init__(self) -> None:
        for name in ("data", "output", "config", "refine_config", "data_config"):
            object.__setattr__(self, name, Path(getattr(self, name)))
        object.__setattr__(self, "overrides", tuple(self.overrides))
        check_fields(self)
        problems = [
            (self.fusion_agreement == "none" or set(self.agreement_classes) <= set(CLASSES),
             f"--fusion-agreement takes none or classes of {', '.join(CLASSES)} separated by commas, "
             f"got {self.fusion_agreement!r}"),
            (all("=" in item for item in self.overrides), f"overrides must be KEY=VALUE, got {self.overrides}"),
        ]
        for ok, message in problems:
            if not ok:
                raise OptionError(message)

    @property
    def uses_trusted_fits(self) -> bool:
        """Trusted geometric fits shape the training sets (weak supervision with ``--trusted-fits geometric``)."""
        return self.supervision == "weak" and self.trusted_fits == "geometric"

    @property
    def agreement_classes(self) -> tuple[str, ...]:
        """The classes of ``--fusion-agreement`` (empty for ``none``)."""
        if self.fusion_agreement == "none":
            return ()
        return tuple(name.strip() for name in self.fusion_agreement.split(",") if name.strip())

    @property
    def fuses_final_labels(self) -> bool:
        """The final labels fuse confident geometric fits in (weak supervision with ``--final-labels fused``)."""
        return self.supervision == "weak" and self.final_labels == "fused"

    @cached_property
    def data_options(self) -> DataOptions:
        """The data config, loaded (and validated) once."""
        return load_data_options(self.data_config)

    def parameters(self, stage: str) -> dict[str, object]:
        """The options that change a stage's result (not the output path, the GPU index or the worker count):
        ``stage`` is ``step_<S>`` or ``refinement``. Of the data config only the resolved tunables that the stage
        uses count (:meth:`kitti.frustum.options.DataOptions.stage_parameters`), not its file name."""
        keep = asdict(self)
        ignored = ("output", "gpu", "workers", "data", "data_config") + (
            ("depth_dir", "da3_model") if self.points == "lidar" else ())
        for name in ignored:
            keep.pop(name)
        keep["config"] = str(self.config)
        keep["refine_config"] = str(self.refine_config)
        keep["data"] = str(self.data.resolve())
        keep["data_options"] = self.data_options.stage_parameters(stage, self.points)
        if stage != "refinement":
            keep.pop("final_labels")  # only the refinement stage publishes the final labels
        if stage != "refinement" or not self.fuses_final_labels:
            keep.pop("fusion_min_score")
            keep.pop("fusion_agreement")
        if not self.uses_trusted_fits:
            keep.pop("trusted_min_score")
        keep["stage"] = stage
        return keep


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """One command-line option per :class:`RunOptions` field (``overrides``: the positional ``KEY=VALUE``s) plus
    ``--demo`` and ``--frames``. Every option defaults to None (= not given), resolved by :func:`options_from_args`."""
    add_arguments(parser, RunOptions, defaults_none=True, shown_default=_shown_default)
    parser.add_argument("--demo", action="store_true",
                        help="the embedded demo: the synthetic KITTI world in data/synthetic (generated when missing) "
                             "with the CPU-sized configs; other defaults: " + ", ".join(
                                 f"{flag(k)} {v}" for k, v in DEMO_DEFAULTS.items()))
    parser.add_argument("--frames", type=int, default=DEMO_FRAMES,
                        help=f"frames of the demo world when --demo generates it (default {DEMO_FRAMES})")


def _shown_default(value: Any) -> Any:
    """A default path under the repository, shown relative to it."""
    return value.relative_to(REPO) if isinstance(value, Path) and value.is_absolute() else value


def options_from_args(args: argparse.Namespace) -> RunOptions:
    """:class:`RunOptions` from parsed arguments: given values, else the demo defaults (``--demo``), else the
    dataclass defaults. ``ValueError`` names the offending option."""
    given = {item.name: getattr(args, item.name) for item in fields(RunOptions)
             if getattr(args, item.name, None) is not None}
    full = given.get("supervision") == "full"
    defaults: dict[str, Any] = dict(DEMO_DEFAULTS) if args.demo else {}
    defaults["output"] = Path(str(defaults.get("output", RunOptions.output)) + ("_full" if full else ""))
    return RunOptions(**{**defaults, **given})
