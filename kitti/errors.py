"""One exception type for malformed KITTI input, carrying the file and line it came from."""
from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Callable, Optional, Sequence


class KittiFormatError(ValueError):
    """Bad input file: names the file (and line, 1-based, when known) and says what was expected."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


MainFunction = Callable[[Optional[Sequence[str]]], int]


def exit_on_input_errors(*errors: type[BaseException]) -> Callable[[MainFunction], MainFunction]:
    """Decorator for command-line ``main(argv) -> int`` functions: a :class:`KittiFormatError` (and any of
    ``errors``) prints ``error: <message>`` to stderr and returns exit status 2, without a traceback."""
    caught = (KittiFormatError, *errors)

    def decorate(main: MainFunction) -> MainFunction:
        @functools.wraps(main)
        def wrapped(argv: Sequence[str] | None = None) -> int:
            try:
                return main(argv)
            except caught as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
        return wrapped
    return decorate
