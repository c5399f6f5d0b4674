"""The detector commands' options (train.args): generated flags, defaults, and the flags the pipeline writes."""
from __future__ import annotations

from pathlib import Path

import pytest

from kitti.options_cli import OptionError, from_args, to_argv
from train import gen_pseudo, test_net_det, train_net_det
from train.args import EvalArgs, PseudoLabelArgs, TrainArgs


def test_train_flags_round_trip_with_overrides() -> None:
    args = TrainArgs(config=Path("configs/demo.yaml"), step=2, ratio=40, output=Path("out"), supervision="full",
                     resume=True, gpu=-1, overrides=("train.epochs=2", "data.num_samples=64"))
    parsed = from_args(TrainArgs, train_net_det.build_parser().parse_args(to_argv(args)))
    assert parsed == args and to_argv(args)[-2:] == ["train.epochs=2", "data.num_samples=64"]


def test_train_defaults() -> None:
    parsed = from_args(TrainArgs, train_net_det.build_parser().parse_args(["--output", "out"]))
    assert parsed == TrainArgs(output=Path("out"))
    assert (parsed.step, parsed.ratio, parsed.supervision, parsed.gpu, parsed.overrides) == (0, 30, None, 0, ())
    with pytest.raises(OptionError, match="--ratio 101"):
        TrainArgs(output=Path("out"), ratio=101)


@pytest.mark.parametrize("cls, module, split", [(EvalArgs, test_net_det, "val"),
                                                (PseudoLabelArgs, gen_pseudo, "train")])
def test_prediction_flags(cls: type, module: object, split: str) -> None:
    args = cls(weights=Path("w.pth"), frustums=Path("f.npz"), data=Path("d"), output=Path("o"))
    assert args.split == split
    parser = test_net_det.build_parser("prog", "doc", cls)
    assert from_args(cls, parser.parse_args(to_argv(args))) == args
    assert ("--method" in parser.format_help()) == (cls is EvalArgs)


def test_method_none_by_default_else_one_of_its_choices() -> None:
    given = {"weights": Path("w"), "frustums": Path("f"), "data": Path("d"), "output": Path("o")}
    assert EvalArgs(**given).method is None and EvalArgs(**given, method="nms").method == "nms"
    with pytest.raises(OptionError, match="--method 'best'"):
        EvalArgs(**given, method="best")
