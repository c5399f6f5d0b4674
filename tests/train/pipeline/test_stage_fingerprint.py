"""Changing a data-side tunable changes the fingerprint of exactly the pipeline stages it affects (so those, and
only those, rebuild): table-driven over every tunable of the data config, for each point source."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from kitti.frustum.options import DataOptions
from train.pipeline.manifest import fingerprint
from train.pipeline.stages import RunOptions

REPO = Path(__file__).resolve().parents[3]
STAGES = ("step_0", "step_1", "step_2", "refinement")
STEPS = STAGES[:3]
LATER = STAGES[1:3]
DEPTH_SOURCES = ("depth", "lidar+depth")

#: (section.key, changed value, {point source: stages whose fingerprint must change})
TABLE: list[tuple[str, object, dict[str, tuple[str, ...]]]] = [
    ("frustums.copies", 3, dict.fromkeys(("lidar", *DEPTH_SOURCES), STEPS)),
    ("frustums.min_height_px", 30.0, dict.fromkeys(("lidar", *DEPTH_SOURCES), STEPS)),
    ("frustums.min_points", 8, dict.fromkeys(("lidar", *DEPTH_SOURCES), STEPS)),
    ("frustums.min_depth", 3.0, dict.fromkeys(("lidar", *DEPTH_SOURCES), STEPS)),
    ("frustums.drop_claimed", False, dict.fromkeys(("lidar", *DEPTH_SOURCES), STEPS)),
    ("library.min_score", 0.5, dict.fromkeys(("lidar", *DEPTH_SOURCES), LATER)),
    ("library.min_iou", 0.3, dict.fromkeys(("lidar", *DEPTH_SOURCES), LATER)),
    ("library.min_points", 10, dict.fromkeys(("lidar", *DEPTH_SOURCES), LATER)),
    ("library.depth_range", [5.0, 40.0], dict.fromkeys(("lidar", *DEPTH_SOURCES), LATER)),
    ("refine.copies", 2, dict.fromkeys(("lidar", *DEPTH_SOURCES), ("refinement",))),
    ("refine.enlarge", 1.5, dict.fromkeys(("lidar", *DEPTH_SOURCES), ("refinement",))),
    ("refine.jitter", 0.1, dict.fromkeys(("lidar", *DEPTH_SOURCES), ("refinement",))),
]
for _key, _value in [("depth_range", [2.0, 60.0]), ("max_height", 2.0), ("max_relative_gradient", 0.2),
                     ("sky_threshold", 0.7), ("beam_top_deg", 3.0), ("beam_spacing_deg", 0.5), ("beam_rows", 32),
                     ("azimuth_columns", 256), ("azimuth_fov_deg", 80.0)]:
    TABLE.append((f"points.{_key}", _value, {"lidar": (), "depth": STAGES, "lidar+depth": STAGES}))
for _key, _value in [("align_model", "scale_shift_inv"), ("combine_min_depth", 20.0), ("combine_cell_px", 4)]:
    TABLE.append((f"points.{_key}", _value, {"lidar": (), "depth": (), "lidar+depth": STAGES}))


def _fingerprints(opts: RunOptions) -> dict[str, str]:
    inputs = {"label_2": "same content hashes"}  # the inputs on disk do not change here
    return {stage: fingerprint(opts.parameters(stage), inputs) for stage in STAGES}


def test_table_covers_every_tunable() -> None:
    defaults = DataOptions()
    tunables = {f"{section}.{name}" for section in ("frustums", "library", "refine")
                for name in dataclasses.asdict(getattr(defaults, section))}
    tunables |= {f"points.{name}" for name in dataclasses.asdict(defaults.points)} - {"points.beams64",
                                                                                      "points.depth_dir"}
    assert {key for key, _, _ in TABLE} == tunables


@pytest.mark.parametrize("points", ("lidar", *DEPTH_SOURCES))
@pytest.mark.parametrize("key, value, affected", TABLE, ids=[row[0] for row in TABLE])
def test_a_tunable_changes_exactly_the_stages_it_affects(tmp_path: Path, key: str, value: object,
                                                         affected: dict[str, tuple[str, ...]], points: str) -> None:
    section, name = key.split(".")
    changed = tmp_path / "changed.yaml"
    changed.write_text(f"_base_: {REPO / 'configs/data/default.yaml'}\n" + yaml.safe_dump({section: {name: value}}))
    common = dict(data=tmp_path, output=tmp_path / "out", config=Path("configs/demo.yaml"),
                  refine_config=Path("configs/demo_refine.yaml"), points=points)
    before = _fingerprints(RunOptions(**common, data_config=REPO / "configs/data/default.yaml"))
    assert before == _fingerprints(RunOptions(**common))  # the default file = the built-in defaults
    after = _fingerprints(RunOptions(**common, data_config=changed))
    assert {stage for stage in STAGES if before[stage] != after[stage]} == set(affected[points])
