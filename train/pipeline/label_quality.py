"""The quality of the product: label sets of the labelled (train) frames against their ground truth, when it exists.

Each label set (the run's final pseudo-labels, and the geometric labeller's labels when ``<output>/geometric_labels/``
exists) gets the KITTI AP (R40/R11, BEV and 3D, strict and loose: :func:`kitti.eval.evaluate`) and the error budget
(:mod:`kitti.eval.budget`). Layout (also ``summary.json["label_quality"]``)::

    {"frames": F, "gt_dir": "...", "limits": "Car: ...; Pedestrian: ...", "ap_ceiling": Result,
     "label_sets": [{"name": "ALPI final pseudo-labels", "dir": "...", "ap": Result, "budget": Budget}, ...]}

``limits`` names what limits the first set (the product); ``ap_ceiling`` is the 3D strict AP of perfect labels on
these frames (:func:`kitti.eval.evaluate.ap_ceiling`: below 100 for a class with n <= 40 boxes). Ground truth is read in full here: this is reporting,
nothing on the labelling path reads it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from kitti.eval.annos import load_dirs
from kitti.eval.budget import budget_from_annos
from kitti.eval.budget_report import limits_line
from kitti.eval.evaluate import ap_ceiling, evaluate
from kitti.eval.protocol import EVAL_CLASSES

#: the geometric labeller's output under the run's output root (KITTI label_2 files of the train frames)
GEOMETRIC_LABELS_DIR = "geometric_labels"
PRODUCT_NAME = "ALPI final pseudo-labels"
GEOMETRIC_NAME = "geometric labeller"


def label_sets(output: Path, final_labels: Path, name: str = PRODUCT_NAME) -> list[tuple[str, Path]]:
    """The label sets to report: the final pseudo-labels (``name``: the latest stage's when the run has no final
    labels yet), then the geometric labeller's when its directory exists."""
    sets = [(name, final_labels)]
    if (output / GEOMETRIC_LABELS_DIR).is_dir():
        sets.append((GEOMETRIC_NAME, output / GEOMETRIC_LABELS_DIR))
    return sets


def has_3d_ground_truth(gt_annos: Sequence[Mapping[str, np.ndarray]]) -> bool:
    """True when some object of an evaluated class has a real 3D box (all of ``h, w, l`` positive); label files
    whose 3D fields are placeholders (zeros) hold 2D ground truth only."""
    classes = [c.lower() for c in EVAL_CLASSES]
    return any((np.isin(np.char.lower(a["name"]), classes) & (a["dimensions"] > 0).all(axis=1)).any()
               for a in gt_annos)


def label_quality(gt_dir: Path, split: Path, sets: Sequence[tuple[str, Path]]) -> dict[str, Any] | None:
    """AP and error budget of each ``(name, label directory)`` on the frames of ``split`` against ``gt_dir``;
    None when those frames have no 3D ground truth (layout in the module docstring). A frame without a label file
    has no labels."""
    entries = []
    frames = 0
    for name, directory in sets:
        ids, gt, pred = load_dirs(gt_dir, directory, split)
        if not has_3d_ground_truth(gt):
            return None
        frames = len(ids)
        entries.append({"name": name, "dir": str(directory),
                        "ap": evaluate(gt, pred, metrics=("bev", "3d")), "budget": budget_from_annos(gt, pred)})
    if not entries:
        return None
    return {"frames": frames, "gt_dir": str(gt_dir), "limits": limits_line(entries[0]["budget"]),
            "ap_ceiling": ap_ceiling(gt), "label_sets": entries}
