"""benchmarks/fusion_headroom.py: the fits-below-a-score oracle rows, on hand-made labels whose figures are known."""
from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.fusion_headroom import GROUPS, main, replaced_below
from kitti.io.labels import ObjectLabel, write_labels


def _car(slot: int, z: float, occlusion: int = 0, score: float | None = None, dx: float = 0.0) -> ObjectLabel:
    return ObjectLabel("Car", 0.0, occlusion, (10.0 + 100 * slot, 150.0, 90.0 + 100 * slot, 210.0), alpha=0.0,
                       dims=(1.5, 1.6, 3.9), location=(dx, 1.7, z), ry=0.0, score=score)


#: ground truth: a near car, a far one, an occluded one; fits: the near one right and confident, the far and the
#: occluded ones 1 m off with low scores
GT = [_car(0, 10.0), _car(1, 45.0), _car(2, 20.0, occlusion=2)]
FITS = [_car(0, 10.0, score=0.9), _car(1, 45.0, score=0.05, dx=1.0), _car(2, 20.0, occlusion=2, score=0.25, dx=1.0)]


def test_replaced_below_counts_per_group() -> None:
    counts = {name: replaced_below([FITS], [GT], 0.3, group)[1] for name, group in GROUPS.items()}
    assert counts == {"all": 2, "far (>= 40 m)": 1, "occluded (level >= 2)": 1, "truncated (>= 0.3)": 0}
    assert replaced_below([FITS], [GT], 0.1, GROUPS["all"])[1] == 1
    labels, _ = replaced_below([FITS], [GT], 0.3, GROUPS["all"])
    assert labels[0][1].location == GT[1].location and labels[0][1].score == pytest.approx(0.05)


def test_fits_only_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, labels in (("gt", GT), ("fits", FITS)):
        (tmp_path / name).mkdir()
        write_labels(tmp_path / name / "000000.txt", labels)
    (tmp_path / "split.txt").write_text("0\n")
    assert main(["--gt-dir", str(tmp_path / "gt"), "--split", str(tmp_path / "split.txt"),
                 "--fits", str(tmp_path / "fits"), "--below", "0.3"]) == 0
    out = capsys.readouterr().out
    assert "fits below 0.3 in all" in out and "(   2 boxes)" in out
    with pytest.raises(SystemExit):
        main(["--gt-dir", str(tmp_path / "gt"), "--split", str(tmp_path / "split.txt"), "--below", "0.3"])
