"""Fixtures of the review page tests: a 3-frame synthetic world, a fake run on it and its built page."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kitti.io.labels import ObjectLabel
from kitti.review.build import build_review
from tests.kitti.review.fake_run import make_fake_run
from tests.worlds import synthetic_world


@pytest.fixture(scope="session")
def review_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_world(tmp_path_factory.mktemp("review_world"), frames=3, seed=16)


@pytest.fixture(scope="session")
def built_run(review_world: Path,
              tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, list[ObjectLabel]]]:
    """(run directory with review/ built, the fake labels per frame). Read-only: copy it to change it."""
    run = tmp_path_factory.mktemp("review_run")
    labels = make_fake_run(review_world, run, seed=3)
    build_review(run, review_world, workers=1)
    return run, labels


@pytest.fixture
def run_copy(built_run: tuple[Path, dict[int, list[ObjectLabel]]], review_world: Path, tmp_path: Path) -> Path:
    """A private run with the same labels and its own freshly built review page."""
    run = tmp_path / "run"
    shutil.copytree(built_run[0] / "label_2_pseudo", run / "label_2_pseudo")
    build_review(run, review_world, workers=1)
    return run
