"""The demo summary's realism section: the labeller on the world beside real frames, or a note without them."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.worlds import synthetic_world
from train.pipeline.realism_gap import REAL_ENV, TITLE, realism_gap, realism_section


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_world(tmp_path_factory.mktemp("realism_world"), frames=3, seed=16)


def test_world_against_itself_has_no_gap(tiny_world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REAL_ENV, str(tiny_world))  # any KITTI root with 3D labels stands in for the real frames
    gap = realism_gap(tiny_world)
    assert gap is not None and gap["real"] == str(tiny_world)
    assert gap["targets"] and all(value == 0.0 for value in gap["targets"].values())
    lines = realism_section(gap)
    assert lines[0] == TITLE and "| Car | median_iou_3d |" in "\n".join(lines)
    assert not list(tiny_world.rglob("*geometric_manifest.json"))  # the world itself is never written


def test_without_real_frames_the_section_says_how_to_get_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REAL_ENV, str(tmp_path / "missing"))
    assert realism_gap(tmp_path) is None
    assert REAL_ENV in "\n".join(realism_section(None))
