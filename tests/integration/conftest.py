"""Fixtures of the integration tests: one tiny synthetic world per session (shared by the pipeline smoke test and
the bad-input corpus)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.worlds import synthetic_world


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6-frame synthetic KITTI root (seed 11; ImageSets train / val / trainval). Read-only for the tests."""
    return synthetic_world(tmp_path_factory.mktemp("pipeline_world"), frames=6, seed=11, workers=2)
