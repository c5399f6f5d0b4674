"""Run options declared once (train.pipeline.options): the command line is generated from RunOptions, the demo
and full-supervision defaults, and the checks."""
from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from train.pipeline.options import DEMO_DEFAULTS, RunOptions, add_run_arguments, options_from_args


def _parse(*argv: str) -> RunOptions:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    return options_from_args(parser.parse_intermixed_args(argv))


def test_defaults_come_from_the_dataclass() -> None:
    opts = _parse()
    assert opts == RunOptions()
    assert (opts.data, opts.output, opts.ratio, opts.points) == (Path("data/kitti"), Path("output"), 30, "lidar")


def test_demo_and_full_supervision_defaults() -> None:
    demo = _parse("--demo")
    assert (demo.data, demo.output, demo.config, demo.refine_config) == tuple(DEMO_DEFAULTS.values())
    assert _parse("--demo", "--supervision", "full").output == Path("output/demo_full")
    assert _parse("--supervision", "full").output == Path("output_full")
    assert _parse("--demo", "--output", "elsewhere", "--supervision", "full").output == Path("elsewhere")


def test_given_values_and_overrides() -> None:
    opts = _parse("--ratio", "30", "--gpu", "-1", "--points", "lidar+depth", "train.epochs=1", "--seed", "4")
    assert (opts.ratio, opts.gpu, opts.points, opts.seed, opts.overrides) == (30, -1, "lidar+depth", 4,
                                                                              ("train.epochs=1",))


@pytest.mark.parametrize("kwargs, message", [
    ({"ratio": 101}, "--ratio"), ({"gpu": -2}, "--gpu"), ({"seed": -1}, "--seed"), ({"workers": 0}, "--workers"),
    ({"points": "radar"}, "--points"), ({"supervision": "none"}, "--supervision"),
    ({"depth_dir": "depth_3"}, "--depth-dir"), ({"overrides": ("epochs",)}, "KEY=VALUE"),
    ({"fusion_min_score": 1.5}, "--fusion-min-score"), ({"fusion_agreement": "Car,Truck"}, "--fusion-agreement"),
])
def test_bad_values_name_the_option(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunOptions(**kwargs)


def test_fusion_agreement_classes() -> None:
    assert RunOptions(fusion_agreement="none").agreement_classes == ()
    assert RunOptions(fusion_agreement="Car, Cyclist").agreement_classes == ("Car", "Cyclist")
