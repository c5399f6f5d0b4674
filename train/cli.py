"""Command-line plumbing shared by the entry points: ``error: ...`` + exit status 2 on input errors."""
from __future__ import annotations

import functools
import sys
from typing import Callable, Sequence

from kitti.errors import KittiFormatError
from train.config import ConfigError

INPUT_ERRORS = (KittiFormatError, ConfigError, FileNotFoundError, ValueError)


def cli(main: Callable[[Sequence[str] | None], int]) -> Callable[[Sequence[str] | None], int]:
    """Wrap a ``main``: input errors (missing files, bad config, bad set) print ``error: ...`` and return 2."""
    @functools.wraps(main)
    def wrapped(argv: Sequence[str] | None = None) -> int:
        try:
            return main(argv)
        except INPUT_ERRORS as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return wrapped
