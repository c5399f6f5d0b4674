"""Checks of a pipeline run's inputs before anything is written: a typo in a config, an override, a split file or
the output path fails the run with one ``error:`` line while every existing stage directory stays untouched."""
from __future__ import annotations

import os
from pathlib import Path

from kitti.errors import KittiFormatError, OutputDirError
from kitti.io.dataset import KittiDataset, read_split
from kitti.outputs import check_output_dir
from train.config import load_config


def _check_output(output: Path, data: Path) -> None:
    """``output`` must be (or be creatable as) a writable directory outside the data set, holding no symbolic
    link (:mod:`kitti.outputs`: none of the pipeline's own folders and files is ever a link)."""
    if output.exists() and not output.is_dir():
        raise OutputDirError(output, "is not a directory (expected the directory of the stage directories)")
    resolved, data_root = output.resolve(), data.resolve()
    if resolved == data_root or data_root in resolved.parents:
        raise OutputDirError(output, f"lies inside the data set {data}: the stage directories would be written among "
                                     f"the data; use an --output outside it")
    existing = next(p for p in (resolved, *resolved.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise OutputDirError(existing, "is not writable (the stage directories cannot be written there)")
    check_output_dir(output, data, "--output", any_link=True)  # no link may lead a write or a delete elsewhere


def _check_splits(data: Path, splits: tuple[str, ...]) -> None:
    dataset = KittiDataset(data)
    for split in dict.fromkeys(splits):
        path = dataset.split_path(split)
        if not read_split(path):
            raise KittiFormatError(path, "the split lists no frames (expected one frame id per line)")


def check_run(data: Path, output: Path, configs: tuple[Path, ...], overrides: tuple[str, ...],
              splits: tuple[str, ...]) -> None:
    """Raise an :class:`~kitti.errors.InputError` for the first bad input of a run: each config with the
    overrides applied (unknown keys, bad values, invalid YAML), the data set and its ``splits`` (readable and
    non-empty), and the output directory (see :func:`_check_output`)."""
    for config in configs:
        load_config(config, overrides)
    _check_splits(data, splits)
    _check_output(output, data)
