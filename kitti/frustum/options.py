"""Data-side tunables: one validated YAML data config (``configs/data/default.yaml``), loaded once per command.

The file has four sections, each a frozen dataclass whose defaults are the published values:

* ``frustums`` (:class:`FrustumOptions`): real frustums and injected proxies of the step sets
  (:mod:`kitti.frustum.engine`);
* ``library`` (:class:`LibraryOptions`): which pseudo-boxes enter the instance library of steps >= 1
  (:mod:`kitti.frustum.library_builder`);
* ``refine`` (:class:`RefineOptions`): the refinement regions (:mod:`kitti.frustum.refine_regions`);
* ``points`` (:class:`kitti.depth.point_source.DepthOptions` without ``beams64`` and ``depth_dir``, which are run
  options): pseudo-LiDAR conversion and the LiDAR + depth combination.

The file is read by the project's typed YAML loader (:mod:`kitti.typed_yaml`, also used by the detector config):
``_base_: other.yaml`` (a path relative to the file) inherits another data config, the file's own keys overriding the
base's key by key. A missing section or key takes its default; an unknown key, a wrong type or a bad value is
a :class:`kitti.errors.KittiFormatError` naming the file and the dotted key; every number has a finite range
(:data:`RANGES`), which command-line overrides of the extractors pass too (:func:`check_options`). The resolved
options are hashed into the stage fingerprint (:meth:`DataOptions.stage_parameters`), so a changed tunable rebuilds
the stages it affects.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kitti.depth.alignment import ALIGN_MODELS
from kitti.depth.point_source import DepthOptions
from kitti.errors import KittiFormatError
from kitti.priors import MIN_DEPTH, MIN_HEIGHT_PX, MIN_POINTS
from kitti.typed_yaml import Schema, check_ranges, load

#: run options of :class:`DepthOptions` (set from the command line, never from the data config)
RUN_DEPTH_FIELDS = ("beams64", "depth_dir")
#: DepthOptions fields that only the ``lidar+depth`` source uses
COMBINE_FIELDS = ("align_model", "combine_min_depth", "combine_cell_px")


@dataclass(frozen=True)
class FrustumOptions:
    """Step frustum sets. Pixels for 2D heights, metres for depths."""

    #: jittered copies of every training object (val / pseudo sets: always 1)
    copies: int = 5
    #: minimum annotated 2D box height (pixels) of an object to make a frustum
    min_height_px: float = MIN_HEIGHT_PX
    #: minimum frustum points inside the weak depth window (also the proxy placement / assembly minimum)
    min_points: int = MIN_POINTS
    #: smallest 2D-only depth estimate (metres) of a used object
    min_depth: float = MIN_DEPTH
    #: leave out of an object's frustum the points the geometric labeller's claims give to the labelled objects in
    #: front of it (:func:`kitti.geometric.labeller.label_frame_and_claims`): an occluded object's 2D box is full of
    #: its occluder's returns, on which the detector otherwise places the box (not in the published code)
    drop_claimed: bool = True


@dataclass(frozen=True)
class LibraryOptions:
    """Instance library filters on step-P pseudo-boxes."""

    min_score: float = 0.3
    #: IoU of the 2D box and the projection of the 3D box (2D/3D consistency)
    min_iou: float = 0.5
    #: scene points inside the pseudo-box
    min_points: int = MIN_POINTS
    #: ``(near, far)`` rect z of the box (metres), exclusive
    depth_range: tuple[float, float] = (10.0, 35.0)


@dataclass(frozen=True)
class RefineOptions:
    """Refinement regions around pseudo-boxes."""

    #: jittered copies of every pseudo-box (train set; val / pseudo sets: 1)
    copies: int = 5
    #: the region is the pseudo-box with h, w, l scaled by this about its centre
    enlarge: float = 1.2
    #: scale of the region jitter (:func:`kitti.frustum.augmentation.random_shift_rotate_box3d`)
    jitter: float = 0.05


@dataclass(frozen=True)
class DataOptions:
    """The whole data config."""

    frustums: FrustumOptions = field(default_factory=FrustumOptions)
    library: LibraryOptions = field(default_factory=LibraryOptions)
    refine: RefineOptions = field(default_factory=RefineOptions)
    points: DepthOptions = field(default_factory=DepthOptions)

    def depth_options(self, beams64: bool, depth_dir: str) -> DepthOptions:
        """The point-source settings with the run's ``beams64`` and ``depth_dir``."""
        return dataclasses.replace(self.points, beams64=beams64, depth_dir=depth_dir)

    def stage_parameters(self, stage: str, points: str) -> dict[str, Any]:
        """The tunables a pipeline stage depends on (for its fingerprint), given its point source.

        ``stage`` is ``step_<S>`` or ``refinement``. Steps use ``frustums`` and, from step 1 on, ``library``; the
        refinement uses ``refine``. ``points`` settings count only for depth-based sources (the combination ones only
        for ``lidar+depth``)."""
        out: dict[str, Any] = {}
        if stage == "refinement":
            out["refine"] = dataclasses.asdict(self.refine)
        elif stage.startswith("step_"):
            step = int(stage[len("step_"):])
            out["frustums"] = dataclasses.asdict(self.frustums)
            if step > 0:
                out["library"] = dataclasses.asdict(self.library)
        else:
            raise ValueError(f"unknown stage {stage!r}; expected step_<S> or refinement")
        if points != "lidar":
            settings = {k: v for k, v in dataclasses.asdict(self.points).items() if k not in RUN_DEPTH_FIELDS}
            if points == "depth":
                settings = {k: v for k, v in settings.items() if k not in COMBINE_FIELDS}
            out["points"] = settings
        return out


#: the range ``(low, high)`` (inclusive) of every number of the data config, by dotted key (tuple items share
#: their field's range); every number must also be finite
RANGES: dict[str, tuple[float, float]] = {
    "frustums.copies": (1, 100), "frustums.min_height_px": (0, 1000), "frustums.min_points": (1, 10_000),
    "frustums.min_depth": (0, 200),
    "library.min_score": (0, 1), "library.min_iou": (0, 1), "library.min_points": (1, 10_000),
    "library.depth_range": (0, 200),
    "refine.copies": (1, 100), "refine.enlarge": (1, 10), "refine.jitter": (0, 1),
    "points.depth_range": (0, 1000), "points.max_height": (-10, 100), "points.max_relative_gradient": (0, 100),
    "points.sky_threshold": (0, 1), "points.beam_top_deg": (-90, 90), "points.beam_spacing_deg": (0.001, 10),
    "points.beam_rows": (1, 1024), "points.azimuth_columns": (1, 100_000), "points.azimuth_fov_deg": (1, 360),
    "points.combine_min_depth": (0, 1000), "points.combine_cell_px": (1, 1000),
}


def _format_error(source: str, message: str) -> Exception:
    return KittiFormatError(source, message)


#: the data config's schema for :mod:`kitti.typed_yaml` (``beams64`` and ``depth_dir`` are run options)
SCHEMA = Schema(DataOptions, "data config", _format_error, {"points": RUN_DEPTH_FIELDS})


def check_options(opts: DataOptions, source: str, flags: dict[str, str] | None = None) -> None:
    """Value checks beyond the types: every number finite and within :data:`RANGES`, then the relations between
    values. A bad value set by a command-line flag (``flags``: dotted key -> flag) is an
    :class:`~kitti.errors.ArgumentError` naming the flag, else a :class:`KittiFormatError` naming ``source``."""
    check_ranges(opts, RANGES, source, _format_error, flags)
    lib, pts = opts.library, opts.points
    problems = [
        (lib.depth_range[0] < lib.depth_range[1], "library.depth_range: expected [near, far] with near < far"),
        (pts.depth_range[0] < pts.depth_range[1], "points.depth_range: expected [near, far], 0 <= near < far"),
        (pts.align_model in ALIGN_MODELS, f"points.align_model must be one of {ALIGN_MODELS}"),
    ]
    for ok, message in problems:
        if not ok:
            raise KittiFormatError(source, message)


def load_data_options(path: str | Path | None) -> DataOptions:
    """The validated data config at ``path`` (``None``: the defaults, identical to ``configs/data/default.yaml``)."""
    if path is None:
        return DataOptions()
    opts: DataOptions = load(path, SCHEMA)
    check_options(opts, str(path))
    return opts
