"""The data config (kitti.frustum.options): defaults = configs/data/default.yaml, `_base_` inheritance, and errors
naming the file and the key."""
from __future__ import annotations

from pathlib import Path

import pytest

from kitti.errors import KittiFormatError
from kitti.frustum.options import DataOptions, load_data_options

REPO = Path(__file__).resolve().parents[3]
DEFAULT = REPO / "configs" / "data" / "default.yaml"


def test_default_file_holds_the_built_in_defaults() -> None:
    assert load_data_options(DEFAULT) == DataOptions() == load_data_options(None)


def test_base_inheritance_overrides_single_keys(tmp_path: Path) -> None:
    (tmp_path / "mid.yaml").write_text(f"_base_: {DEFAULT}\nlibrary:\n  min_score: 0.5\n")
    (tmp_path / "top.yaml").write_text("_base_: mid.yaml\nlibrary:\n  min_iou: 0.3\nrefine:\n  jitter: 0.1\n")
    opts = load_data_options(tmp_path / "top.yaml")
    assert (opts.library.min_score, opts.library.min_iou, opts.refine.jitter) == (0.5, 0.3, 0.1)
    assert opts.library.depth_range == (10.0, 35.0) and opts.frustums == DataOptions().frustums


@pytest.mark.parametrize("text, message", [
    ("frustums:\n  copiez: 3\n", "unknown key 'frustums.copiez'"),
    ("frustum:\n  copies: 3\n", "unknown key 'frustum'"),
    ("points:\n  beams64: true\n", "unknown key 'points.beams64'"),  # a run option, not a tunable
    ("frustums:\n  copies: 2.5\n", "frustums.copies: expected an integer"),
    ("library:\n  depth_range: [10]\n", "library.depth_range: expected a list of 2"),
    ("library:\n  depth_range: [35, 10]\n", "library.depth_range"),
    ("points:\n  align_model: cubic\n", "align_model"),
    ("refine:\n  copies: 0\n", "refine"),
    ("_base_: missing.yaml\n", "missing.yaml: data config file not found"),
    ("- 1\n", "expected a mapping"),
])
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(KittiFormatError) as info:
        load_data_options(path)
    assert message in str(info.value)
    if "missing.yaml" not in message:
        assert str(path) in str(info.value)


def test_base_loop_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("_base_: b.yaml\n")
    (tmp_path / "b.yaml").write_text("_base_: a.yaml\n")
    with pytest.raises(KittiFormatError, match="loops"):
        load_data_options(tmp_path / "a.yaml")
