"""The summary's first section: the label sets of the train frames against ground truth, one row per class and set,
and one line naming what limits the final pseudo-labels (input layout: :mod:`train.pipeline.label_quality`)."""
from __future__ import annotations

from typing import Any, Mapping

from kitti.eval.protocol import EVAL_CLASSES, MIN_OVERLAP

_HEADER = ["class", "labels", "3D AP R40 strict", "BEV AP R40 strict", "3D AP R40 loose", "coverage",
           "3D IoU median", "3D IoU >= 0.7 / 0.5", "depth m: median (abs)", "l / w / h ratio",
           "heading abs err deg: mod 180 / full", "Spearman score vs IoU"]


def _ap(ap: Mapping[str, Any], overlap: str, cls: str, metric: str) -> str:
    try:
        return " / ".join(f"{v:.1f}" for v in ap[overlap][cls][metric]["R40"])
    except KeyError:
        return "-"


def _number(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _row(cls: str, label_set: Mapping[str, Any]) -> list[str]:
    ap = label_set["ap"]
    entry = label_set["budget"]["classes"].get(cls)
    cells = [cls, label_set["name"], _ap(ap, "strict", cls, "3d"), _ap(ap, "strict", cls, "bev"),
             _ap(ap, "loose", cls, "3d")]
    if entry is None:
        return cells + ["-"] * (len(_HEADER) - len(cells))
    group = entry["all"]
    iou, errors = group["iou_3d"], group["errors"]
    depth = errors["depth_m"]
    return cells + [
        _number(group["coverage"], ".2f"),
        _number(iou["median"], ".2f"),
        f"{_number(iou['share_ge_0.7'], '.2f')} / {_number(iou['share_ge_0.5'], '.2f')}",
        f"{_number(depth['median'], '+.2f')} ({_number(depth['median_abs'], '.2f')})",
        " / ".join(_number(errors[k]["median"], ".2f") for k in ("l_ratio", "w_ratio", "h_ratio")),
        " / ".join(_number(errors[k]["median_abs"], ".1f") for k in ("heading_mod_pi_deg", "heading_deg")),
        _number(entry["spearman_score_iou_3d"], "+.2f"),
    ]


def _ceiling_line(ceiling: Mapping[str, Any]) -> str:
    cells = ", ".join(f"{cls} {_ap(ceiling, 'strict', cls, '3d')}" for cls in EVAL_CLASSES if cls in ceiling["strict"])
    return (f"AP ceiling of these frames (perfect labels, 3D R40 strict): {cells}. The protocol caps AP at "
            f"(n - 1) / 40 where a class has n <= 40 boxes of a difficulty.")


def product_section(quality: Mapping[str, Any] | None) -> list[str]:
    """Markdown lines of the section (a note when the train frames have no 3D ground truth)."""
    title = "## The product: final pseudo-labels of the train frames against ground truth"
    if quality is None:
        return [title, "", "The train frames have no 3D ground truth: the labels cannot be scored.", ""]
    strict = ", ".join(f"{c} {MIN_OVERLAP['strict']['3d'][c]:g}" for c in EVAL_CLASSES)
    loose = ", ".join(f"{c} {MIN_OVERLAP['loose']['3d'][c]:g}" for c in EVAL_CLASSES)
    lines = [f"{title} ({quality['frames']} frames)", "",
             f"AP strict: 3D / BEV IoU {strict}; loose: {loose}. Coverage: share of ground-truth boxes (any "
             f"difficulty) with a label paired at 2D IoU >= 0.7; IoU, errors (label minus ground truth) and the "
             f"Spearman correlation are over the paired boxes.", "",
             "| " + " | ".join(_HEADER) + " |", "|" + "---|" * len(_HEADER)]
    for cls in EVAL_CLASSES:
        for label_set in quality["label_sets"]:
            lines.append("| " + " | ".join(_row(cls, label_set)) + " |")
    lines += ["", _ceiling_line(quality["ap_ceiling"]), "", f"**What limits the labels:** {quality['limits']}", "",
              "Full error budgets (by distance, occlusion and truncation): `summary.json` (`label_quality`), or "
              "`python -m kitti.eval.diagnose --gt-dir <label_2> --pred-dir <labels> --split <train split>`.", ""]
    return lines
