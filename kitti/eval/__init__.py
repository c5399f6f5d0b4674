"""KITTI object evaluation: AP R11/R40 (percent) for 2D, BEV, 3D and AOS, Easy/Moderate/Hard, strict and loose
overlap thresholds, reproducing the official protocol (devkit ``evaluate_object.cpp`` as restated by the
second.pytorch / OpenPCDet ``kitti_object_eval_python``).

Modules: :mod:`~kitti.eval.protocol` (constants), :mod:`~kitti.eval.annos` (input layout and readers),
:mod:`~kitti.eval.difficulty` (difficulty filter), :mod:`~kitti.eval.overlaps` (2D / BEV / 3D overlaps),
:mod:`~kitti.eval.matching` (matching and precision curves), :mod:`~kitti.eval.ap` (R11 / R40),
:mod:`~kitti.eval.evaluate` (API) and :mod:`~kitti.eval.report` (table, JSON). CLI: ``python -m kitti.eval``.

The error budget of a label set (coverage, per-box IoU, signed errors, ranking, the limiting error):
:mod:`~kitti.eval.diagnose` (API and CLI ``python -m kitti.eval.diagnose``), built from :mod:`~kitti.eval.pairing`,
:mod:`~kitti.eval.box_errors`, :mod:`~kitti.eval.budget`, :mod:`~kitti.eval.limits` and
:mod:`~kitti.eval.budget_report`.
"""
from kitti.eval.annos import Anno, annos_from_labels, check_anno, empty_anno, load_dirs, read_gt_file, read_pred_file
from kitti.eval.evaluate import ALL_METRICS, Result, ap_ceiling, evaluate, evaluate_dirs
from kitti.eval.protocol import DIFFICULTIES, EVAL_CLASSES
from kitti.eval.report import format_table, write_json

__all__ = [
    "ALL_METRICS", "Anno", "DIFFICULTIES", "EVAL_CLASSES", "Result", "annos_from_labels", "ap_ceiling", "check_anno",
    "empty_anno", "evaluate", "evaluate_dirs", "format_table", "load_dirs", "read_gt_file", "read_pred_file",
    "write_json",
]
