"""Text table and JSON output of an evaluation result (layout: :mod:`kitti.eval.evaluate`)."""
from __future__ import annotations

import json
from pathlib import Path

from kitti.atomic import atomic_write_text
from kitti.eval.evaluate import Result


def format_table(result: Result) -> str:
    """A compact table: one row per threshold set, class and metric; R40 and R11 AP (percent) for E/M/H."""
    header = (f"{'set':<7}{'class':<12}{'metric':<7}{'R40 easy':>9}{'mod':>7}{'hard':>7}"
              f"  {'R11 easy':>9}{'mod':>7}{'hard':>7}")
    lines = [header, "-" * len(header)]
    for overlap_set, per_class in result.items():
        for cls, per_metric in per_class.items():
            for metric, ap in per_metric.items():
                r40 = "".join(f"{v:>{w}.2f}" for v, w in zip(ap["R40"], (9, 7, 7)))
                r11 = "".join(f"{v:>{w}.2f}" for v, w in zip(ap["R11"], (9, 7, 7)))
                lines.append(f"{overlap_set:<7}{cls:<12}{metric:<7}{r40}  {r11}")
    if len(lines) == 2:
        lines.append("(no class with ground truth in the evaluated frames)")
    return "\n".join(lines)


def write_json(path: str | Path, result: Result) -> None:
    """Write the result as JSON, atomically."""
    atomic_write_text(path, json.dumps(result, indent=2, allow_nan=False) + "\n")
