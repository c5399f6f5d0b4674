"""The headline table of README.md and docs/results.md, regenerated from measurements.

    python -m benchmarks.results_tables --gt-dir ROOT/training/label_2 --split ROOT/ImageSets/S.txt \\
        --labels "geometric labeller=out/geometric" [--labels NAME=DIR ...] [--frames "14 real KITTI"]
    python -m benchmarks.results_tables --runs "final labels=output/w0,output/w1,output/w2" [--set 1]

Two sources of rows, printed as Markdown rows of one table:

* ``--labels NAME=DIR``: a label folder scored against ``--gt-dir`` on the frames of ``--split`` (the AP, its
  ceiling and the error budget of :func:`train.pipeline.label_quality.label_quality`), e.g. the geometric
  labeller's labels of the real frames;
* ``--runs NAME=RUN[,RUN...]``: pipeline runs (one per world seed), read from each run's ``summary.json``
  (``label_quality``: label set ``--set``, 0 = the final labels, 1 = the geometric labeller's); several runs give
  the mean.

Columns (docs/results.md, "How to read the tables"): Car 3D AP R40 moderate at strict IoU 0.7, its ceiling (the
ground truth scored as labels), the share of ground-truth cars paired at 3D IoU >= 0.7, the median 3D IoU of the
paired cars, and the coverage. Reads evaluation output only; nothing here feeds back into a run.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from kitti.errors import ArgumentError, cli

HEADER = ("frames", "labels", "Car AP @0.7", "ceiling", "share of GT cars at IoU >= 0.7", "median 3D IoU",
          "coverage")
CLASS = "Car"
#: moderate difficulty in the evaluator's [easy, moderate, hard] lists
MODERATE = 1

Quality = Mapping[str, Any]


def row_values(quality: Quality, label_set: int = 0) -> dict[str, float]:
    """The headline figures of one label set of a ``label_quality`` record (``summary.json["label_quality"]``)."""
    entry = quality["label_sets"][label_set]
    car = entry["budget"]["classes"][CLASS]
    paired = car["all"]
    share_paired = paired["iou_3d"]["share_ge_0.7"]
    return {
        "ap": float(entry["ap"]["strict"][CLASS]["3d"]["R40"][MODERATE]),
        "ceiling": float(quality["ap_ceiling"]["strict"][CLASS]["3d"]["R40"][MODERATE]),
        "share": (share_paired or 0.0) * car["n_matched"] / car["n_gt"] if car["n_gt"] else float("nan"),
        "median_iou": float("nan") if paired["iou_3d"]["median"] is None else float(paired["iou_3d"]["median"]),
        "coverage": car["n_matched"] / car["n_gt"] if car["n_gt"] else float("nan"),
    }


def _ap_cell(value: float) -> str:
    return "100" if value == 100.0 else f"{value:.1f}"


def markdown_row(frames: str, name: str, values: Sequence[Mapping[str, float]]) -> str:
    """One table row: the mean of ``values`` (one dict of :func:`row_values` per run) over the runs."""
    mean = {key: float(np.mean([v[key] for v in values])) for key in values[0]}
    cells = [frames, name, _ap_cell(mean["ap"]), _ap_cell(mean["ceiling"]), f"{mean['share']:.2f}",
             f"{mean['median_iou']:.2f}", f"{mean['coverage']:.2f}"]
    return "| " + " | ".join(cells) + " |"


def header_rows() -> list[str]:
    return ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]


def label_dir_quality(gt_dir: Path, split: Path, name: str, labels: Path) -> Quality:
    """``label_quality`` of one label folder (raises :class:`ArgumentError` without 3D ground truth)."""
    from train.pipeline.label_quality import label_quality

    quality = label_quality(gt_dir, split, [(name, labels)])
    if quality is None:
        raise ArgumentError(f"{gt_dir}: the frames of {split} have no 3D ground truth to score labels against")
    return quality


def run_quality(run: Path) -> Quality:
    """``label_quality`` of a finished run's ``summary.json``."""
    path = run / "summary.json"
    if not path.is_file():
        raise ArgumentError(f"{path}: no run summary (has the run finished?)")
    quality = json.loads(path.read_text()).get("label_quality")
    if not quality:
        raise ArgumentError(f"{path}: the run's train frames have no 3D ground truth to score")
    return quality


def _named(item: str, flag: str) -> tuple[str, str]:
    name, _, value = item.partition("=")
    if not name or not value:
        raise ArgumentError(f"{flag} {item!r}: expected NAME=PATH")
    return name, value


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", action="append", default=[], metavar="NAME=DIR",
                        help="a row: a label folder scored against --gt-dir on --split")
    parser.add_argument("--gt-dir", type=Path, help="ground-truth label_2 folder (with --labels)")
    parser.add_argument("--split", type=Path, help="split file listing the frames (with --labels)")
    parser.add_argument("--frames", help="the first column of --labels rows (default: '<n> frames')")
    parser.add_argument("--runs", action="append", default=[], metavar="NAME=RUN[,RUN...]",
                        help="a row: pipeline run folders with summary.json, one per world seed (mean)")
    parser.add_argument("--set", type=int, default=0, help="label set of --runs rows: 0 final labels, 1 geometric")
    parser.add_argument("--no-header", action="store_true", help="print the rows only")
    args = parser.parse_args(argv)
    if not args.labels and not args.runs:
        parser.error("give --labels and/or --runs")
    if args.labels and (args.gt_dir is None or args.split is None):
        parser.error("--labels needs --gt-dir and --split")
    rows = [] if args.no_header else header_rows()
    for item in args.labels:
        name, directory = _named(item, "--labels")
        quality = label_dir_quality(args.gt_dir, args.split, name, Path(directory))
        rows.append(markdown_row(args.frames or f"{quality['frames']} frames", name, [row_values(quality)]))
    for item in args.runs:
        name, runs = _named(item, "--runs")
        qualities = [run_quality(Path(run)) for run in runs.split(",")]
        frames = f"{len(qualities)} x {qualities[0]['frames']} frames"
        rows.append(markdown_row(frames, name, [row_values(q, args.set) for q in qualities]))
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
