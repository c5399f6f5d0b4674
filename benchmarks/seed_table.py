"""Mean and spread over world seeds of pipeline runs: the product figures of each run's ``summary.json``.

    python benchmarks/seed_table.py --group default=output/d0,output/d1,output/d2 \\
        --group full=output/f0,output/f1,output/f2 [--baseline geometric]

Per group (one run per world seed, the same options) it prints, as a Markdown table, the mean and the range
(min-max) of the final pseudo-labels of the train frames: 3D AP R40 moderate (Car @0.7 and @0.5, Pedestrian and
Cyclist @0.5), Car median 3D IoU and share >= 0.7, the Car depth and width errors, the worst median depth error of
any distance bin per class (the issue's +-0.15 m target), and the Car @0.7 AP of each stage's train pseudo-labels.
``--baseline geometric`` adds a row for the geometric labeller's labels of the same runs (the second label set of
the summary). A second table gives each group's mean seconds per stage (``timings_s``).

Reads only the run summaries (evaluation output); nothing here feeds back into a run.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

Summary = dict[str, Any]


def _ap(label_set: Summary, overlap: str, cls: str) -> float:
    return float(label_set["ap"][overlap][cls]["3d"]["R40"][1])


def _errors(label_set: Summary, cls: str) -> Summary:
    return label_set["budget"]["classes"][cls]["all"]["errors"]


def _worst_depth_bin(label_set: Summary, cls: str) -> float:
    """The distance bin median depth error (metres) farthest from zero, over bins with at least 5 paired boxes."""
    bins = label_set["budget"]["classes"][cls]["by_distance"].values()
    medians = [b["errors"]["depth_m"]["median"] for b in bins
               if b["errors"]["depth_m"]["median"] is not None and b["errors"]["depth_m"]["n"] >= 5]
    return max(medians, key=abs) if medians else float("nan")


#: (column, value of one label set)
COLUMNS: list[tuple[str, Callable[[Summary], float]]] = [
    ("Car 3D @0.7", lambda s: _ap(s, "strict", "Car")),
    ("Car 3D @0.5", lambda s: _ap(s, "loose", "Car")),
    ("Ped 3D @0.5", lambda s: _ap(s, "strict", "Pedestrian")),
    ("Cyc 3D @0.5", lambda s: _ap(s, "strict", "Cyclist")),
    ("Car median IoU", lambda s: s["budget"]["classes"]["Car"]["all"]["iou_3d"]["median"]),
    ("Car share >= 0.7", lambda s: s["budget"]["classes"]["Car"]["all"]["iou_3d"]["share_ge_0.7"]),
    ("Car depth median m", lambda s: _errors(s, "Car")["depth_m"]["median"]),
    ("Car w ratio", lambda s: _errors(s, "Car")["w_ratio"]["median"]),
    ("worst bin depth m Car", lambda s: _worst_depth_bin(s, "Car")),
    ("Ped", lambda s: _worst_depth_bin(s, "Pedestrian")),
    ("Cyc", lambda s: _worst_depth_bin(s, "Cyclist")),
]


def _cell(values: Sequence[float], spec: str) -> str:
    array = np.array(values, dtype=np.float64)
    if len(array) == 1:
        return format(array[0], spec)
    return f"{format(array.mean(), spec)} ({format(array.min(), spec)}..{format(array.max(), spec)})"


def _stage_aps(summary: Summary) -> list[float]:
    out = []
    for stage in summary["stages"]:
        try:
            out.append(float(stage["train_pseudo_labels"]["strict"]["Car"]["3d"]["R40"][1]))
        except (KeyError, TypeError):
            out.append(float("nan"))
    return out


def group_rows(name: str, summaries: Sequence[Summary], baseline: bool) -> list[str]:
    """Markdown rows of one group (and of its geometric baseline)."""
    rows = []
    sets = [(name, [s["label_quality"]["label_sets"][0] for s in summaries])]
    if baseline and all(len(s["label_quality"]["label_sets"]) > 1 for s in summaries):
        sets.append((f"{name}: geometric labeller", [s["label_quality"]["label_sets"][1] for s in summaries]))
    for row_name, label_sets in sets:
        cells = []
        for column, value in COLUMNS:
            spec = ".1f" if "@" in column else ("+.2f" if "depth" in column or column in ("Ped", "Cyc") else ".2f")
            cells.append(_cell([value(s) for s in label_sets], spec))
        if row_name == name:
            stages = np.array([_stage_aps(s) for s in summaries])
            cells.append(" / ".join(f"{v:.1f}" for v in stages.mean(axis=0)))
        else:
            cells.append("")
        rows.append(f"| {row_name} ({len(label_sets)}) | " + " | ".join(cells) + " |")
    return rows


def timing_rows(name: str, summaries: Sequence[Summary]) -> list[str]:
    """Mean seconds per stage of a group (stages recorded by every run)."""
    timings = [s.get("timings_s") or {} for s in summaries]
    stages = [stage for stage in timings[0] if all(stage in t for t in timings)]
    cells = [f"{stage} {np.mean([sum(t[stage].values()) for t in timings]):.0f}" for stage in stages]
    total = np.mean([sum(sum(phases.values()) for phases in t.values()) for t in timings])
    return [f"| {name} | " + ", ".join(cells) + f" | {total:.0f} |"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--group", action="append", required=True, metavar="NAME=RUN[,RUN...]",
                        help="a row: run output directories (each with summary.json), one per world seed")
    parser.add_argument("--baseline", choices=("geometric",), help="add the geometric labeller's row per group")
    args = parser.parse_args(argv)
    groups = []
    for item in args.group:
        name, _, runs = item.partition("=")
        if not runs:
            parser.error(f"--group {item!r}: expected NAME=RUN[,RUN...]")
        summaries = []
        for run in runs.split(","):
            path = Path(run) / "summary.json"
            if not path.is_file():
                parser.error(f"{path}: no run summary (has the run finished?)")
            summary = json.loads(path.read_text())
            if not summary.get("label_quality"):
                parser.error(f"{path}: the run's train frames have no 3D ground truth to score")
            summaries.append(summary)
        groups.append((name, summaries))
    header = ["labels (runs)"] + [c for c, _ in COLUMNS] + ["train pseudo-labels Car 3D @0.7 per stage"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, summaries in groups:
        print("\n".join(group_rows(name, summaries, args.baseline == "geometric")))
    print("\n| runs | mean seconds per stage | total |\n|---|---|---|")
    for name, summaries in groups:
        print("\n".join(timing_rows(name, summaries)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
