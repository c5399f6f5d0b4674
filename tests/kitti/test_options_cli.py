"""Options declared once (kitti.options_cli): the flags written by ``to_argv`` parse back to the same dataclass."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from kitti.data_args import DataArgs, FrameArgs, InjectionArgs, PseudoArgs
from kitti.options_cli import OptionError, add_arguments, from_args, to_argv


def _round_trip(options: object) -> object:
    parser = argparse.ArgumentParser()
    add_arguments(parser, type(options))
    return from_args(type(options), parser.parse_args(to_argv(options)))


@pytest.mark.parametrize("options", [
    FrameArgs(output=Path("out"), workers=3),
    DataArgs(output=Path("out"), points="depth", depth_dir="DA3_depth_results", beams64=True, seed=4,
             trusted_dir="fits", trusted_min_score=0.25, data_config=Path("configs/data/default.yaml")),
    PseudoArgs(output=Path("out"), pseudo_dir="pseudo", supervision="full", force=True),
    InjectionArgs(output=Path("out"), pseudo_dir="pseudo", step=2, ratio=55),
])
def test_to_argv_parses_back_to_the_same_options(options: object) -> None:
    assert _round_trip(options) == options


def test_to_argv_leaves_out_none_and_false() -> None:
    argv = to_argv(DataArgs(output=Path("out")))
    assert "--trusted-dir" not in argv and "--data-config" not in argv and "--beams64" not in argv
    assert argv[argv.index("--supervision") + 1] == "weak"


def test_a_value_outside_the_choices_names_its_flag() -> None:
    with pytest.raises(OptionError, match="--points 'radar'"):
        FrameArgs(output=Path("out"), points="radar")
