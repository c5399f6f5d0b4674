"""The quality of the product: label sets of the labelled (train) frames against their ground truth, when it exists.

Each label set (the run's final pseudo-labels, and the geometric labeller's labels when ``<output>/geometric_labels/``
exists) gets the KITTI AP (R40/R11, BEV and 3D, strict and loose: :func:`kitti.eval.evaluate`) and the error budget
(:mod:`kitti.eval.budget`). Layout (also ``summary.json["label_quality"]``)::

    {"frames": F, "gt_dir": "...", "limits": "Car: ...; Pedestrian: ...", "ap_ceiling": Result,
     "label_sets": [{"name": "final labels (geometric 96 %, learned 4 %)", "dir": "...", "ap": Result,
                     "budget": Budget}, ...]}

``limits`` names what limits the first set (the product); ``ap_ceiling`` is the 3D strict AP of perfect labels on
these frames (:func:`kitti.eval.evaluate.ap_ceiling`: below 100 for a class with n <= 40 boxes). Ground truth is
read in full here: this is reporting, nothing on the labelling path reads it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from kitti.eval.annos import load_dirs
from kitti.eval.budget import budget_from_annos
from kitti.eval.budget_report import limits_line
from kitti.eval.evaluate import ap_ceiling, evaluate
from kitti.eval.quality import annos_have_3d
from kitti.review.export import source_shares
from train.pipeline.layout import GEOMETRIC_DIR

GEOMETRIC_NAME = "geometric labeller"


def product_name(labels: Path) -> str:
    """The final labels' row name, by what produced their boxes: ``final labels (geometric 96 %, learned 4 %)``
    from the per-line sources of the fused label files' sidecars; ``learned pseudo-labels (ALPI)`` without sidecars
    (``--final-labels alpi``). A sidecar that is not a JSON list of strings is not counted."""
    counts: dict[str, int] = {}
    for sidecar in sorted(labels.glob("*.source.json")):
        try:
            sources = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(sources, list):
            for source in sources:
                if isinstance(source, str):
                    counts[source] = counts.get(source, 0) + 1
    shares = source_shares(counts)
    return f"final labels ({shares})" if shares else "learned pseudo-labels (ALPI)"


def label_sets(output: Path, final_labels: Path, name: str | None = None) -> list[tuple[str, Path]]:
    """The label sets to report: the final pseudo-labels (``name``, default :func:`product_name`; the latest
    stage's when the run has no final labels yet), then the geometric labeller's when its directory exists."""
    sets = [(name or product_name(final_labels), final_labels)]
    if (output / GEOMETRIC_DIR).is_dir():
        sets.append((GEOMETRIC_NAME, output / GEOMETRIC_DIR))
    return sets


def label_quality(gt_dir: Path, split: Path, sets: Sequence[tuple[str, Path]]) -> dict[str, Any] | None:
    """AP and error budget of each ``(name, label directory)`` on the frames of ``split`` against ``gt_dir``;
    None when those frames have no 3D ground truth (layout in the module docstring). A frame without a label file
    has no labels."""
    entries = []
    frames = 0
    for name, directory in sets:
        ids, gt, pred = load_dirs(gt_dir, directory, split)
        if not annos_have_3d(gt):
            return None
        frames = len(ids)
        entries.append({"name": name, "dir": str(directory),
                        "ap": evaluate(gt, pred, metrics=("bev", "3d")), "budget": budget_from_annos(gt, pred)})
    if not entries:
        return None
    return {"frames": frames, "gt_dir": str(gt_dir), "limits": limits_line(entries[0]["budget"]),
            "ap_ceiling": ap_ceiling(gt), "label_sets": entries}
