"""One exception type for malformed KITTI input, carrying the file and line it came from."""
from __future__ import annotations

from pathlib import Path


class KittiFormatError(ValueError):
    """Bad input file: names the file (and line, 1-based, when known) and says what was expected."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")
