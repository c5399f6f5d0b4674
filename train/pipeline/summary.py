"""The run summary: ``summary.json``, ``summary.md``, ``ap_by_stage.png`` (plot) and a few rendered examples.

The summary leads with the product: the final pseudo-labels of the labelled (train) frames against their ground truth
when it exists (AP, coverage, per-box IoU, highlights of the error budget, one line naming what limits them; the
geometric labeller as a baseline row when it ran: :mod:`train.pipeline.label_quality`). The val AP per stage (the
annotator on val frames with ground-truth 2D boxes) and the per-stage train pseudo-label AP follow. Nothing on the
training path reads any of these figures."""
from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from kitti.atomic import atomic_write_bytes, atomic_write_text, read_json_or_none
from kitti.priors import CLASSES
from train.pipeline.product_table import product_section

DIFFICULTIES = ("easy", "moderate", "hard")
THRESHOLDS = {"strict": "IoU Car 0.7, Ped/Cyc 0.5", "loose": "IoU Car 0.5, Ped/Cyc 0.25"}

Metrics = dict[str, Any]


def _cell(metrics: Metrics | None, overlap: str, cls: str, metric: str, recall: str) -> str:
    try:
        values = metrics[overlap][cls][metric][recall]  # type: ignore[index]
    except (KeyError, TypeError):
        return "-"
    return " / ".join(f"{v:.1f}" for v in values)


def _table(stages: Sequence[tuple[str, Metrics | None]], overlap: str, recall: str) -> list[str]:
    header = ["stage"] + [f"{cls} {m.upper()}" for cls in CLASSES for m in ("bev", "3d")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, metrics in stages:
        cells = [_cell(metrics, overlap, cls, m, recall) for cls in CLASSES for m in ("bev", "3d")]
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return lines


def plot_ap(stages: Sequence[tuple[str, Metrics | None]], path: Path, title: str) -> None:
    """Moderate 3D and BEV AP R40 per class across the stages (strict and loose thresholds), as a PNG."""
    names = [name for name, _ in stages]
    figure, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for axis, overlap in zip(axes, ("strict", "loose")):
        for cls, colour in zip(CLASSES, ("tab:green", "tab:blue", "tab:purple")):
            for metric, style in (("3d", "-"), ("bev", "--")):
                values = []
                for _, metrics in stages:
                    try:
                        values.append(metrics[overlap][cls][metric]["R40"][1])  # type: ignore[index]
                    except (KeyError, TypeError):
                        values.append(float("nan"))
                axis.plot(names, values, style, marker="o", color=colour, label=f"{cls} {metric.upper()}")
        axis.set_title(f"{overlap}: {THRESHOLDS[overlap]}")
        axis.set_ylim(0, 100)
        axis.grid(alpha=0.3)
        axis.set_xlabel("stage")
    axes[0].set_ylabel("moderate AP R40 (%)")
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    figure.suptitle(title)
    figure.tight_layout()
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    atomic_write_bytes(path, buffer.getvalue())


def _distance_table(by_distance: Sequence[tuple[str, dict[str, Metrics]]]) -> list[str]:
    bins = list(dict.fromkeys(b for _, result in by_distance for b in result))
    header = ["stage"] + [f"{b} {overlap}" for b in bins for overlap in ("strict", "loose")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, result in by_distance:
        cells = []
        for b in bins:
            for overlap in ("strict", "loose"):
                try:
                    cells.append(f"{result[b][overlap]['Car']['3d']['R40'][1]:.1f}")
                except KeyError:
                    cells.append("-")
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return lines


def stage_timings(stages: Sequence[tuple[str, Path]]) -> list[tuple[str, dict[str, float]]]:
    """Seconds per phase of each stage that recorded them (``timings_s`` of its ``manifest.json``)."""
    out = []
    for name, directory in stages:
        manifest = read_json_or_none(directory / "manifest.json")
        timings = manifest.get("timings_s") if isinstance(manifest, dict) else None
        if isinstance(timings, dict) and timings:
            out.append((name, {phase: float(seconds) for phase, seconds in timings.items()}))
    return out


def timing_section(timings: Sequence[tuple[str, dict[str, float]]]) -> list[str]:
    """Markdown lines: seconds per stage and phase, each stage's share of the total (the last build of each stage;
    a stage skipped by a rerun keeps the time of the run that built it)."""
    if not timings:
        return []
    total = sum(sum(phases.values()) for _, phases in timings)
    lines = ["## Where the time goes", "",
             "Seconds per stage as recorded in each stage's `manifest.json` (the run that built it).", "",
             "| stage | phases (s) | total (s) | share |", "|---|---|---|---|"]
    for name, phases in timings:
        spent = sum(phases.values())
        detail = ", ".join(f"{phase} {seconds:.0f}" for phase, seconds in phases.items())
        lines.append(f"| {name} | {detail} | {spent:.0f} | {spent / max(total, 1e-9):.0%} |")
    lines += [f"| all stages | | {total:.0f} | 100% |", ""]
    return lines


def write_summary(output: Path, run: dict[str, Any], stages: Sequence[tuple[str, Path]],
                  val_metrics: str, pseudo_metrics: str, renders: Sequence[Path] = (),
                  val_by_distance: Sequence[dict[str, Metrics]] = (), label_quality: Metrics | None = None,
                  timings: Sequence[tuple[str, dict[str, float]]] = (), realism_lines: Sequence[str] = (),
                  realism: dict[str, Any] | None = None) -> str:
    """Write ``summary.json``, ``summary.md`` and ``ap_by_stage.png`` into ``output``; returns the Markdown.

    ``stages`` are (name, stage directory); ``val_metrics`` / ``pseudo_metrics`` the metrics files' paths relative
    to a stage directory (evaluator JSON shape); ``val_by_distance`` per stage the Car results by distance bin
    (:func:`kitti.eval.distance.evaluate_by_distance`); ``label_quality`` the train frames' label sets against
    ground truth (:func:`train.pipeline.label_quality.label_quality`; None: no 3D ground truth); ``timings`` the
    seconds per stage and phase (:func:`stage_timings`); ``realism_lines`` a Markdown section placed after the
    product table and ``realism`` its figures (:mod:`train.pipeline.realism_gap`)."""
    val = [(name, read_json_or_none(directory / val_metrics)) for name, directory in stages]
    pseudo = [(name, read_json_or_none(directory / pseudo_metrics)) for name, directory in stages]
    by_distance = list(zip((name for name, _ in stages), val_by_distance))
    atomic_write_text(output / "summary.json", json.dumps(
        {"run": run, "label_quality": label_quality,
         "stages": [{"name": name, "dir": str(directory), "val": v, "train_pseudo_labels": p,
                     "val_car_by_distance": dict(by_distance).get(name)}
                    for (name, directory), (_, v), (_, p) in zip(stages, val, pseudo)],
         "timings_s": dict(timings), "realism": realism}, indent=2) + "\n")
    plot_ap(val, output / "ap_by_stage.png", "val AP by stage (ground-truth 2D boxes)")
    lines = ["# ALPI run summary", ""]
    lines += [f"- {key}: {value}" for key, value in run.items()]
    lines += ["", "AP cells are in percent, easy / moderate / hard.", "", *product_section(label_quality)]
    lines += realism_lines
    for overlap in ("strict", "loose"):
        lines += [f"## Val AP R40, {overlap} ({THRESHOLDS[overlap]})", "", *_table(val, overlap, "R40"), ""]
    lines += [f"## Val AP R11, strict ({THRESHOLDS['strict']})", "", *_table(val, "strict", "R11"), ""]
    if by_distance:
        lines += ["## Val Car 3D AP R40 (moderate) by distance", "", *_distance_table(by_distance), ""]
    lines += ["## Train pseudo-labels per stage against ground truth, R40, strict", "",
              *_table(pseudo, "strict", "R40"), ""]
    lines += ["## Train pseudo-labels per stage against ground truth, R11, strict", "",
              *_table(pseudo, "strict", "R11"), ""]
    lines += timing_section(timings)
    lines += ["[Label review page](review/index.html)", ""] if (output / "review" / "index.html").is_file() else []
    lines += ["![AP by stage](ap_by_stage.png)", ""]
    lines += [f"![{path.stem}]({path.relative_to(output)})" for path in renders]
    markdown = "\n".join(lines) + "\n"
    atomic_write_text(output / "summary.md", markdown)
    return markdown
