"""Command-line plumbing shared by the entry points: ``error: ...`` + exit status 2 on input errors."""
from __future__ import annotations

from kitti.errors import exit_on_input_errors
from train.config import ConfigError

#: ``@cli`` on a ``main``: missing files, bad configs and bad sets print ``error: ...`` and return 2
cli = exit_on_input_errors(ConfigError, FileNotFoundError, ValueError)
