"""Readable tables of an error budget (layout: :mod:`kitti.eval.budget`) and its JSON file."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from kitti.atomic import atomic_write_text
from kitti.eval.budget import Budget

#: error columns: (key, header, format of the median, show the median absolute error too)
_ERROR_COLUMNS: tuple[tuple[str, str, str, bool], ...] = (
    ("depth_m", "depth m", "+.2f", True), ("lateral_m", "lateral m", "+.2f", True),
    ("height_m", "height m", "+.2f", True), ("l_ratio", "l/gt", ".2f", False), ("w_ratio", "w/gt", ".2f", False),
    ("h_ratio", "h/gt", ".2f", False), ("heading_mod_pi_deg", "head mod180 deg", "+.1f", True),
    ("heading_deg", "heading deg", "+.1f", True),
)


def _number(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _rows(budget: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    return ([("all", budget["all"])] + list(budget["by_distance"].items())
            + [(f"occlusion {level}", group) for level, group in budget["by_occlusion"].items()]
            + [(f"trunc {name}", group) for name, group in budget["by_truncation"].items()])


def _iou_table(budget: Mapping[str, Any]) -> list[str]:
    header = (f"  {'group':<16}{'GT':>6}{'paired':>8}{'cover':>7}  {'3D med':>7}{'>=0.7':>7}{'>=0.5':>7}"
              f"  {'BEV med':>8}{'>=0.7':>7}{'>=0.5':>7}  {'dir ok':>6}")
    lines = [header, "  " + "-" * (len(header) - 2)]
    for name, group in _rows(budget):
        cells = f"  {name:<16}{group['n_gt']:>6}{group['n_matched']:>8}{_number(group['coverage'], '.2f'):>7}"
        for metric, width in (("iou_3d", 7), ("iou_bev", 8)):
            iou = group[metric]
            cells += (f"  {_number(iou['median'], '.2f'):>{width}}{_number(iou['share_ge_0.7'], '.2f'):>7}"
                      f"{_number(iou['share_ge_0.5'], '.2f'):>7}")
        lines.append(cells + f"  {_number(group['direction_right'], '.2f'):>6}")
    return lines


def _error_cell(stats: Mapping[str, Any], spec: str, with_abs: bool) -> str:
    if stats["median"] is None:
        return "-"
    text = format(stats["median"], spec)
    return f"{text} ({format(stats['median_abs'], spec.lstrip('+'))})" if with_abs else text


def _error_table(budget: Mapping[str, Any]) -> list[str]:
    widths = [max(len(header), 15 if with_abs else 6) + 2 for _, header, _, with_abs in _ERROR_COLUMNS]
    header = f"  {'group':<16}{'n':>6}" + "".join(f"{h:>{w}}" for (_, h, _, _), w in zip(_ERROR_COLUMNS, widths))
    lines = [header, "  " + "-" * (len(header) - 2)]
    for name, group in _rows(budget):
        errors = group["errors"]
        cells = [_error_cell(errors[key], spec, with_abs) for key, _, spec, with_abs in _ERROR_COLUMNS]
        lines.append(f"  {name:<16}{group['n_matched']:>6}" + "".join(f"{c:>{w}}" for c, w in zip(cells, widths)))
    return lines


def format_budget(budget: Budget) -> str:
    """The budget as text: per class a summary line, the limit, a coverage / IoU table and a signed-error table
    (median, with the median absolute error in brackets), rows = all, distance bins, occlusion levels."""
    lines = [f"error budget of {budget['frames']} frames (labels paired with ground truth at 2D IoU >= "
             f"{budget['pair_min_iou']:g}; errors = label minus ground truth, medians over paired boxes)"]
    if not budget["classes"]:
        lines.append("(no class with ground truth in the evaluated frames)")
    for cls, entry in budget["classes"].items():
        rho = entry["spearman_score_iou_3d"]
        lines += ["", f"{cls}: {entry['n_gt']} ground-truth boxes, {entry['n_pred']} labels, {entry['n_matched']} "
                      f"paired ({entry['n_unmatched_pred']} labels unpaired); Spearman(score, 3D IoU) "
                      f"{_number(rho, '+.2f')}",
                  f"  limit: {entry['limits']['text']}", "", *_iou_table(entry), "", *_error_table(entry)]
    return "\n".join(lines)


def limits_line(budget: Budget) -> str:
    """One line naming what limits each class of the label set (the classes' limit texts, ``; ``-separated)."""
    texts = [entry["limits"]["text"] for entry in budget["classes"].values()]
    return "; ".join(texts) if texts else "no class with ground truth"


def write_budget_json(path: str | Path, budget: Budget) -> None:
    """Write the budget as JSON, atomically."""
    atomic_write_text(path, json.dumps(budget, indent=2, allow_nan=False) + "\n")
