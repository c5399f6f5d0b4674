"""Final-label fusion: confident geometric fits replace the learned boxes they match, scores keep one ranking."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kitti.io.labels import ObjectLabel, read_labels, write_labels
from train.pipeline.fusion import fuse_frame, publish_fused


def label(kind: str, box2d: tuple[float, float, float, float], z: float, score: float) -> ObjectLabel:
    return ObjectLabel(kind, 0.0, 0, box2d, "x", 1, dims=(1.5, 1.6, 3.9), location=(0.0, 1.6, z), ry=0.0,
                       score=score)


LEARNED = [label("Car", (100, 100, 200, 180), 20.0, 0.8), label("Car", (400, 100, 480, 160), 30.0, 0.6),
           label("Pedestrian", (600, 90, 630, 170), 12.0, 0.4)]
FITS = [label("Car", (101, 100, 200, 181), 21.0, 0.9),   # confident, matches the first car
        label("Car", (400, 100, 480, 160), 33.0, 0.3),   # not confident: the learned box stays
        label("Cyclist", (600, 90, 630, 170), 9.0, 0.95)]  # another class: added, the pedestrian stays


def test_fuse_frame_replaces_matches_and_ranks_fits_first() -> None:
    fused = fuse_frame(LEARNED, FITS, min_fit_score=0.6)
    got = sorted((lab.type, lab.location[2], round(lab.score, 4), src) for lab, src in fused)
    assert got == [("Car", 21.0, 0.95, "geometric"), ("Car", 30.0, 0.3, "alpi"),
                   ("Cyclist", 9.0, 0.975, "geometric"), ("Pedestrian", 12.0, 0.2, "alpi")]
    assert min(lab.score for lab, src in fused if src == "geometric") >= 0.5 > max(
        lab.score for lab, src in fused if src == "alpi")


def test_a_fit_replaces_only_the_learned_box_of_its_own_2d_box() -> None:
    """Two overlapping 2D boxes (a car partly behind another, 2D IoU 0.63): the confident fit of one must not
    displace the learned box of the other."""
    learned = [label("Car", (655, 176, 674, 196), 55.0, 0.2), label("Car", (659, 177, 674, 199), 48.0, 0.3)]
    fits = [label("Car", (659, 177, 674, 199), 47.8, 0.7), label("Car", (655, 176, 674, 196), 55.2, 0.05)]
    fused = fuse_frame(learned, fits, min_fit_score=0.2)
    got = sorted((lab.location[2], src) for lab, src in fused)
    assert got == [(47.8, "geometric"), (55.0, "alpi")]


def test_a_2d_box_without_learned_box_keeps_its_fit() -> None:
    fits = [label("Car", (100, 100, 200, 180), 21.0, 0.1), label("Car", (400, 100, 480, 160), 33.0, 0.1)]
    fused = fuse_frame(LEARNED[:1], fits, min_fit_score=0.6)
    got = sorted((lab.location[2], round(lab.score, 4), src) for lab, src in fused)
    assert got == [(20.0, 0.4, "alpi"), (33.0, 0.05, "geometric")]  # weak fit: in the learned band


def test_fuse_frame_without_confident_fits_keeps_the_learned_boxes() -> None:
    fused = fuse_frame(LEARNED, FITS, min_fit_score=0.99)
    assert [(lab.location[2], src) for lab, src in fused] == [(20.0, "alpi"), (30.0, "alpi"), (12.0, "alpi"),
                                                                (9.0, "geometric")]  # the cyclist has no learned box
    assert fused[-1][0].score == pytest.approx(0.475)


@pytest.mark.parametrize("with_fits", [True, False])
def test_publish_fused_writes_labels_and_sources(tmp_path: Path, with_fits: bool) -> None:
    learned, fits, target = tmp_path / "learned", tmp_path / "fits", tmp_path / "final"
    for directory, labels in ((learned, LEARNED), (fits, FITS)):
        directory.mkdir()
        write_labels(directory / "000007.txt", labels)
    write_labels(learned / "000001.txt", LEARNED)
    write_labels(fits / "000001.txt", FITS)
    publish_fused(learned, fits if with_fits else None, target, 0.6)
    (learned / "000001.txt").unlink()  # a file an earlier publish wrote is stale now: removed
    counts = publish_fused(learned, fits if with_fits else None, target, 0.6)
    assert sorted(p.name for p in target.glob("*.txt")) == ["000007.txt"]
    written = read_labels(target / "000007.txt")
    sources = json.loads((target / "000007.source.json").read_text())
    assert len(written) == len(sources) == sum(counts.values())
    assert counts == ({"alpi": 2, "geometric": 2} if with_fits else {"alpi": 3, "geometric": 0})


def test_agreement_rescores_fits_of_the_chosen_classes() -> None:
    """A fit that disagrees with the learned box of its 2D box (BEV IoU 0) keeps half its score; one that agrees
    exactly keeps all of it; classes outside the agreement set are left alone."""
    learned = [label("Car", (100, 100, 200, 180), 20.0, 0.5), label("Car", (400, 100, 480, 160), 30.0, 0.5),
               label("Pedestrian", (600, 90, 630, 170), 12.0, 0.5)]
    fits = [label("Car", (100, 100, 200, 180), 20.0, 0.8), label("Car", (400, 100, 480, 160), 40.0, 0.8),
            label("Pedestrian", (600, 90, 630, 170), 15.0, 0.8)]
    fused = {(lab.type, lab.location[2]): lab.score for lab, src in fuse_frame(learned, fits, 0.2, ("Car",))
             if src == "geometric"}
    assert fused[("Car", 20.0)] == pytest.approx(0.5 + 0.5 * 0.8)
    assert fused[("Car", 40.0)] == pytest.approx(0.5 + 0.5 * 0.4)
    assert fused[("Pedestrian", 15.0)] == pytest.approx(0.5 + 0.5 * 0.8)
