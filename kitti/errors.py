"""The one error model of the project: every problem caused by the user's input is an :class:`InputError`, and
every command-line entry point runs through :func:`cli`, which prints such an error as one ``error: ...`` line and
exits with status 2. Any other exception is a bug and keeps its traceback.

Subclasses (all picklable, so that they cross process boundaries, e.g. from a worker pool):

- :class:`FileInputError`: a bad input file, naming the file (and the 1-based line, when known);
  :class:`KittiFormatError` (malformed KITTI-format data: labels, calib, point clouds, images, depth maps, sets)
  and :class:`CheckpointError` (a refused or unreadable checkpoint) refine it;
- :class:`ArgumentError`: a bad command-line argument value;
- :class:`OutputDirError`: an output directory that may not be written (it holds the user's data, or is a file);
- elsewhere: ``train.config.ConfigError``, ``kitti.depth.da3_model.ModelError``, ``train.pipeline.lock.
  LockHeldError`` and ``train.pipeline.runner.StageFailed`` (a stage command failed on its inputs).
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar, cast


class InputError(Exception):
    """Bad input given by the user (a file, an argument, a config, the state of a directory). The message says
    what is wrong and what was expected; entry points print it as ``error: <message>`` and exit with status 2."""


class FileInputError(InputError):
    """A bad input file: names the file (and line, 1-based, when known) and says what was expected."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        # the default pickling would call cls(formatted message), which does not match __init__
        return type(self), (self.path, self.reason, self.line)


class KittiFormatError(FileInputError):
    """Malformed KITTI-format data (labels, calibration, point clouds, images, depth maps, splits, frustum sets)."""


class CheckpointError(FileInputError):
    """A checkpoint that is refused (it needs pickle) or does not fit (not a checkpoint, config vs. weights)."""


class ArgumentError(InputError):
    """A command-line argument with a bad value; the message names the flag."""


class OutputDirError(FileInputError):
    """An output location that must not be written: a regular file, a read-only directory, or a directory that
    holds data this command did not create."""


#: a command-line ``main(argv: Sequence[str] | None = None) -> int``
MainFunction = TypeVar("MainFunction", bound=Callable[..., int])


def cli(main: MainFunction) -> MainFunction:
    """Decorator for every command-line ``main(argv) -> int``: an :class:`InputError` prints one
    ``error: <message>`` line on stderr and returns exit status 2 (no traceback); anything else propagates."""

    @functools.wraps(main)
    def wrapped(argv: Sequence[str] | None = None) -> int:
        try:
            return main(argv)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return cast(MainFunction, wrapped)
