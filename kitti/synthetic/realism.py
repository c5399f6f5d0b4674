"""The realism report: a synthetic world and real KITTI frames side by side.

    python -m kitti.synthetic.realism --world W --real R [--json OUT] [--work DIR] [--workers K] [--no-labeller]

``W`` and ``R`` are KITTI roots (``training/{calib,image_2,label_2,velodyne}``); every frame with a calibration file
is used (no split file is needed, nothing is written into either root). Each table row gives the real and the
synthetic figure, a distance and the tolerance it is held to, and ``ok`` when the distance lies within it:

* per class and distance bin: LiDAR points per object (points in the ground-truth box; KS statistic);
* per class: the share of an object's points in each third of its height (difference of mean shares);
* per class: clutter, the non-ground points within :data:`CLUTTER_MARGIN` outside the box, as a fraction of the
  object's points (KS), and the ground residual, the ground height around the box minus its bottom (KS);
* per class: how much of the box the points span along its length and width (KS; objects with >=
  :data:`MIN_EXTENT_POINTS` points): annotators' boxes are looser than the points, synthetic boxes are tight;
* per class and distance bin: truncated (> 0.1) and occluded (level >= 1, >= 2) shares, and the 2D box height
  times the distance (px m; ratio of medians); with, beside them, the same shares over the 7,476 KITTI training label
  files (:mod:`kitti.synthetic.kitti_stats`, the large-sample reference);
* per range ring: points in the camera image per frame (ratio of medians);
* last, the error budget of the geometric labeller (:func:`kitti.eval.diagnose.diagnose`) on both: per class the
  median 3D IoU and the shares >= 0.7 / 0.5 of the paired boxes, and per distance bin the median absolute depth,
  the median width ratio and the median absolute heading error (mod 180 degrees).

Tolerances: a KS statistic is held to the two-sample critical value at the 5 % level,
``1.36 sqrt((n + m) / (n m))`` (a distance the sample sizes cannot tell from none); a share to
``max(0.05, 1.96 sqrt(p (1 - p) (1/n + 1/m)))`` (``p`` the pooled share); a ratio of medians to
:data:`RATIO_TOLERANCE`; the labeller's figures to :data:`BUDGET_TOLERANCE` (the targets of issue 23). Rows with
fewer than :data:`MIN_SAMPLES` values on a side say ``few`` instead of ``ok`` / ``off``.

The labeller writes into ``--work`` (default: a temporary directory), one resumable label set per root
(:func:`kitti.geometric.run.label_split`), so a second report on the same roots does not label again.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from kitti import geometry as g
from kitti.atomic import atomic_write_text
from kitti.errors import ArgumentError, KittiFormatError, cli
from kitti.eval.budget import DISTANCE_BINS
from kitti.eval.distance import bin_name
from kitti.io.dataset import KittiDataset, write_split
from kitti.io.image import image_size
from kitti.outputs import check_report_file

CLASSES = ("Car", "Pedestrian", "Cyclist")
#: horizontal range rings (metres) of the per-frame point counts
RANGE_RINGS: tuple[tuple[float, float], ...] = ((0.0, 10.0), (10.0, 20.0), (20.0, 40.0), (40.0, 80.0))
#: points at most this high above a box's bottom are ground (metres)
GROUND_LEVEL = 0.15
#: clutter: non-ground points at most this far outside a box (metres)
CLUTTER_MARGIN = 0.5
#: ground residual: points in this band (metres) around the box footprint and within GROUND_BAND of its bottom
GROUND_RING = (0.3, 2.0)
GROUND_BAND = 0.5
#: fewest object points for the extent statistics and the height bands
MIN_EXTENT_POINTS = 30
MIN_BAND_POINTS = 10
#: fewest values on each side for a verdict
MIN_SAMPLES = 5
RATIO_TOLERANCE = (0.8, 1.25)
#: the labeller's figures: largest absolute difference real - synthetic
BUDGET_TOLERANCE = {"median_iou_3d": 0.05, "share_ge_0.7": 0.08, "share_ge_0.5": 0.12, "coverage": 0.10,
                    "depth_abs_m": 0.15, "w_ratio": 0.05, "heading_abs_deg": 3.0}
#: budget rows of the summary (class, IoU key) the issue sets targets on
TARGETS = (("Car", "median_iou_3d"), ("Car", "share_ge_0.7"), ("Pedestrian", "share_ge_0.5"))
TRUNCATED = 0.1


# --- distances --------------------------------------------------------------------------------------------------
def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic (largest gap between the empirical CDFs)."""
    a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, side="right") / a.size
                               - np.searchsorted(b, grid, side="right") / b.size)))


def ks_tolerance(n: int, m: int) -> float:
    """The two-sample KS critical value at the 5 % level."""
    return float(1.36 * np.sqrt((n + m) / (n * m)))


def share_tolerance(p_real: float, n: int, p_syn: float, m: int) -> float:
    pooled = (p_real * n + p_syn * m) / (n + m)
    return float(max(0.05, 1.96 * np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))))


def _median(values: np.ndarray) -> float | None:
    values = np.asarray(values, float)
    return float(np.median(values)) if values.size else None


def _verdict(n: int, m: int, ok: bool) -> str:
    return "few" if min(n, m) < MIN_SAMPLES else ("ok" if ok else "off")


def compare_distributions(name: str, real: np.ndarray, syn: np.ndarray) -> dict[str, Any]:
    """A row comparing two samples: medians, KS statistic and its 5 % tolerance."""
    real, syn = np.asarray(real, float), np.asarray(syn, float)
    row: dict[str, Any] = {"statistic": name, "kind": "ks", "n_real": int(real.size), "n_syn": int(syn.size),
                           "real": _median(real), "syn": _median(syn), "distance": None, "tolerance": None}
    if real.size and syn.size:
        row["distance"] = ks_statistic(real, syn)
        row["tolerance"] = ks_tolerance(real.size, syn.size)
    row["verdict"] = _verdict(real.size, syn.size, row["distance"] is not None
                              and row["distance"] <= row["tolerance"])
    return row


def _difference_row(name: str, kind: str, real: np.ndarray, syn: np.ndarray,
                    tolerance: float | Callable[[float, float], float]) -> dict[str, Any]:
    """A row comparing the means of two samples by their absolute difference; ``tolerance`` is fixed, or a function
    of the two means."""
    row: dict[str, Any] = {"statistic": name, "kind": kind, "n_real": int(real.size), "n_syn": int(syn.size),
                           "real": float(real.mean()) if real.size else None,
                           "syn": float(syn.mean()) if syn.size else None, "distance": None,
                           "tolerance": None if callable(tolerance) else tolerance}
    if real.size and syn.size:
        row["distance"] = abs(row["real"] - row["syn"])
        if callable(tolerance):
            row["tolerance"] = tolerance(row["real"], row["syn"])
    row["verdict"] = _verdict(real.size, syn.size, row["distance"] is not None
                              and row["distance"] <= row["tolerance"])
    return row


def compare_shares(name: str, real: np.ndarray, syn: np.ndarray) -> dict[str, Any]:
    """A row comparing the share of True in two boolean samples."""
    real, syn = np.asarray(real, bool), np.asarray(syn, bool)
    return _difference_row(name, "share", real, syn, lambda r, s: share_tolerance(r, real.size, s, syn.size))


def compare_means(name: str, real: np.ndarray, syn: np.ndarray, tolerance: float = 0.05) -> dict[str, Any]:
    """A row comparing the means of two samples of fractions (absolute difference, fixed tolerance)."""
    return _difference_row(name, "mean", np.asarray(real, float), np.asarray(syn, float), tolerance)


def compare_medians(name: str, real: np.ndarray, syn: np.ndarray) -> dict[str, Any]:
    """A row comparing two samples by the ratio of their medians (synthetic / real)."""
    real, syn = np.asarray(real, float), np.asarray(syn, float)
    row: dict[str, Any] = {"statistic": name, "kind": "ratio", "n_real": int(real.size), "n_syn": int(syn.size),
                           "real": _median(real), "syn": _median(syn), "distance": None,
                           "tolerance": list(RATIO_TOLERANCE)}
    if row["real"] and row["syn"] is not None:
        row["distance"] = row["syn"] / row["real"]
    ok = row["distance"] is not None and RATIO_TOLERANCE[0] <= row["distance"] <= RATIO_TOLERANCE[1]
    row["verdict"] = _verdict(real.size, syn.size, ok)
    return row


# --- per object and per frame measurements -----------------------------------------------------------------------
OBJECT_FIELDS = ("cls", "distance", "truncation", "occlusion", "height_2d", "points", "band_low", "band_mid",
                 "band_top", "clutter", "ground_residual", "extent_l", "extent_w")


def _box_frame(points: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of rect ``points`` along the box length and across it."""
    c, s = np.cos(box[6]), np.sin(box[6])
    dx, dz = points[:, 0] - box[0], points[:, 2] - box[2]
    return c * dx - s * dz, s * dx + c * dz


def object_measurements(points_rect: np.ndarray, box: np.ndarray) -> dict[str, float]:
    """Point statistics of one ground-truth box ``(x, y_bottom, z, h, w, l, ry)`` (rect frame) in a scan."""
    x, y, z, h, w, l, ry = box
    along, across = _box_frame(points_rect, box)
    height = y - points_rect[:, 1]  # above the box bottom (rect y points down)
    in_bev = (np.abs(along) <= l / 2) & (np.abs(across) <= w / 2)
    inside = in_bev & (height >= 0) & (height <= h)
    obj = inside & (height > GROUND_LEVEL)
    near_bev = (np.abs(along) <= l / 2 + CLUTTER_MARGIN) & (np.abs(across) <= w / 2 + CLUTTER_MARGIN)
    clutter = near_bev & ~in_bev & (height > GROUND_LEVEL) & (height <= h + CLUTTER_MARGIN)
    # distance outside the footprint (0 inside), for the ground ring
    outside = np.hypot(np.maximum(np.abs(along) - l / 2, 0.0), np.maximum(np.abs(across) - w / 2, 0.0))
    ring = (outside >= GROUND_RING[0]) & (outside <= GROUND_RING[1]) & (np.abs(height) <= GROUND_BAND)
    n = int(inside.sum())
    out = {"points": float(n), "clutter": float(clutter.sum()) / max(int(obj.sum()) + int(clutter.sum()), 1),
           "ground_residual": float(np.median(height[ring])) if ring.sum() >= 5 else np.nan,
           "band_low": np.nan, "band_mid": np.nan, "band_top": np.nan, "extent_l": np.nan, "extent_w": np.nan}
    if n >= MIN_BAND_POINTS:
        band = np.clip((height[inside] / h * 3).astype(int), 0, 2)
        for k, key in enumerate(("band_low", "band_mid", "band_top")):
            out[key] = float(np.mean(band == k))
    if obj.sum() >= MIN_EXTENT_POINTS:
        out["extent_l"] = float(np.ptp(along[obj]) / l)
        out["extent_w"] = float(np.ptp(across[obj]) / w)
    return out


def frame_measurements(dataset: KittiDataset, frame: int) -> tuple[list[dict[str, Any]], list[int]]:
    """Per labelled object of :data:`CLASSES` its measurements (:data:`OBJECT_FIELDS`), and the points in the
    camera image per range ring."""
    calib = dataset.calib(frame)
    scan = dataset.velodyne(frame)
    height, width = image_size(dataset.path("image_2", frame))
    fov = g.image_fov_mask(scan, calib, width, height)
    rng_h = np.hypot(scan[fov, 0], scan[fov, 1])
    rings = [int(((rng_h >= lo) & (rng_h < hi)).sum()) for lo, hi in RANGE_RINGS]
    front = scan[scan[:, 0] > 0.0]
    rect = g.velo_to_rect(front, calib)
    rows = []
    for label in dataset.labels(frame):
        if label.type not in CLASSES:
            continue
        box = np.asarray(label.box3d, float)
        row = {"cls": label.type, "distance": float(np.hypot(box[0], box[2])), "truncation": label.truncation,
               "occlusion": label.occlusion, "height_2d": float(label.box2d[3] - label.box2d[1])}
        row.update(object_measurements(rect, box))
        rows.append(row)
    return rows, rings


def measure_root(root: str | Path) -> dict[str, Any]:
    """Measurements of every frame (with a calibration file) of a KITTI root: ``objects`` (column arrays of
    :data:`OBJECT_FIELDS`) and ``rings`` (frames x rings)."""
    dataset = KittiDataset(root)
    frames = dataset.frame_ids(None)
    if not frames:
        raise KittiFormatError(dataset.dir / "calib", "no calibration files: not a KITTI root with frames")
    objects: list[dict[str, Any]] = []
    rings = []
    for frame in frames:
        rows, ring = frame_measurements(dataset, frame)
        objects += rows
        rings.append(ring)
    columns = {key: np.array([row[key] for row in objects]) for key in OBJECT_FIELDS}
    if not objects:
        columns = {key: np.zeros(0, dtype=str if key == "cls" else float) for key in OBJECT_FIELDS}
    return {"frames": frames, "objects": columns, "rings": np.array(rings, dtype=float).reshape(-1, len(RANGE_RINGS))}


# --- the tables ---------------------------------------------------------------------------------------------------
def _bins() -> list[tuple[str, tuple[float, float]]]:
    return [(bin_name(b), b) for b in DISTANCE_BINS]


def _select(objects: dict[str, np.ndarray], cls: str, bounds: tuple[float, float] | None = None) -> np.ndarray:
    mask = objects["cls"] == cls
    if bounds is not None:
        mask &= (objects["distance"] >= bounds[0]) & (objects["distance"] < bounds[1])
    return mask


def _finite(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, float)
    return values[np.isfinite(values)]


def scene_tables(real: dict[str, Any], syn: dict[str, Any], reference: dict[str, Any] | None = None
                 ) -> dict[str, list[dict[str, Any]]]:
    """The statistics of the report (every table but the labeller's), as lists of rows."""
    ro, so = real["objects"], syn["objects"]
    tables: dict[str, list[dict[str, Any]]] = {"points_per_object": [], "height_bands": [], "clutter": [],
                                               "ground_residual": [], "extent": [], "truncation_occlusion": [],
                                               "height_2d": [], "points_per_ring": []}
    for cls in CLASSES:
        for name, bounds in _bins():
            r, s = _select(ro, cls, bounds), _select(so, cls, bounds)
            tables["points_per_object"].append(
                {"class": cls, "bin": name, **compare_distributions("points", ro["points"][r], so["points"][s])})
            tables["height_2d"].append(
                {"class": cls, "bin": name, **compare_medians("2D height x distance (px m)",
                                                              ro["height_2d"][r] * ro["distance"][r],
                                                              so["height_2d"][s] * so["distance"][s])})
            all_r, all_s = _select(ro, cls), _select(so, cls)
            row = {"class": cls, "bin": name, **compare_shares("share of the class in bin", r[all_r], s[all_s])}
            if reference is not None:
                row["kitti_labels"] = reference.get(cls, {}).get(name, {}).get("share of the class in bin")
            tables["truncation_occlusion"].append(row)
            for what, threshold, column in (("truncated > 0.1", TRUNCATED, "truncation"),
                                            ("occluded >= 1", 1, "occlusion"), ("occluded >= 2", 2, "occlusion")):
                compare = (ro[column][r] > threshold) if column == "truncation" else (ro[column][r] >= threshold)
                syn_values = (so[column][s] > threshold) if column == "truncation" else (so[column][s] >= threshold)
                row = {"class": cls, "bin": name, **compare_shares(what, compare, syn_values)}
                if reference is not None:
                    row["kitti_labels"] = reference.get(cls, {}).get(name, {}).get(what)
                tables["truncation_occlusion"].append(row)
        r, s = _select(ro, cls), _select(so, cls)
        for key in ("band_low", "band_mid", "band_top"):
            tables["height_bands"].append({"class": cls, **compare_means(key.replace("band_", "share in ") + " third",
                                                                          _finite(ro[key][r]), _finite(so[key][s]))})
        tables["clutter"].append({"class": cls, **compare_distributions("clutter fraction", _finite(ro["clutter"][r]),
                                                                        _finite(so["clutter"][s]))})
        tables["ground_residual"].append({"class": cls, **compare_distributions(
            "ground - box bottom (m)", _finite(ro["ground_residual"][r]), _finite(so["ground_residual"][s]))})
        for key in ("extent_l", "extent_w"):
            tables["extent"].append({"class": cls, **compare_distributions(
                f"points span / box {'length' if key == 'extent_l' else 'width'}", _finite(ro[key][r]),
                _finite(so[key][s]))})
    for k, (lo, hi) in enumerate(RANGE_RINGS):
        tables["points_per_ring"].append({"ring": f"{lo:g}-{hi:g} m", **compare_medians(
            "image points per frame", real["rings"][:, k], syn["rings"][:, k])})
    return tables


# --- the labeller's error budget ----------------------------------------------------------------------------------
def _view(root: Path, work: Path) -> tuple[Path, list[int]]:
    """A KITTI root in ``work`` whose ``training`` is a link to ``root``'s and whose ``ImageSets/all.txt`` lists
    every frame with a calibration file (the roots themselves are never written)."""
    dataset = KittiDataset(root)
    frames = dataset.frame_ids(None)
    view = work / "view"
    view.mkdir(parents=True, exist_ok=True)
    link = view / "training"
    target = dataset.dir.resolve()
    if link.is_symlink() and Path(os.readlink(link)) != target:
        link.unlink()
    if not link.exists():
        link.symlink_to(target, target_is_directory=True)
    write_split(view / "ImageSets" / "all.txt", frames)
    return view, frames


def labeller_budget(root: str | Path, work: str | Path, workers: int = 1) -> dict[str, Any]:
    """Label every frame of ``root`` with the geometric labeller (into ``work``, resumable) and return its error
    budget (:mod:`kitti.eval.budget`)."""
    from kitti.eval.diagnose import diagnose
    from kitti.geometric.run import LabelConfig, label_split

    work = Path(work)
    view, frames = _view(Path(root), work)
    labels = work / "labels"
    label_split(LabelConfig(str(view), "all", "lidar", output=str(labels)), workers)
    return diagnose(view / "training" / "label_2", labels, frames)


def _budget_figures(entry: dict[str, Any] | None, group: str = "all") -> dict[str, float | None]:
    if entry is None:
        return {key: None for key in BUDGET_TOLERANCE}
    row = entry["all"] if group == "all" else entry["by_distance"][group]
    errors = row["errors"]
    return {"median_iou_3d": row["iou_3d"]["median"], "share_ge_0.7": row["iou_3d"]["share_ge_0.7"],
            "share_ge_0.5": row["iou_3d"]["share_ge_0.5"], "coverage": row["coverage"],
            "depth_abs_m": errors["depth_m"]["median_abs"], "w_ratio": errors["w_ratio"]["median"],
            "heading_abs_deg": errors["heading_mod_pi_deg"]["median_abs"], "n_matched": row["n_matched"]}


def budget_table(real: dict[str, Any], syn: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows (class, group, figure) of the labeller's budget on both, with the difference and its tolerance."""
    rows = []
    for cls in CLASSES:
        r_entry, s_entry = real["classes"].get(cls), syn["classes"].get(cls)
        for group in ["all"] + [name for name, _ in _bins()]:
            rf, sf = _budget_figures(r_entry, group), _budget_figures(s_entry, group)
            for key, tolerance in BUDGET_TOLERANCE.items():
                distance = None if rf[key] is None or sf[key] is None else abs(rf[key] - sf[key])
                n, m = rf["n_matched"] or 0, sf["n_matched"] or 0
                rows.append({"class": cls, "group": group, "statistic": key, "real": rf[key], "syn": sf[key],
                             "n_real": n, "n_syn": m, "distance": distance, "tolerance": tolerance,
                             "verdict": _verdict(n, m, distance is not None and distance <= tolerance)})
    return rows


def target_gaps(table: Iterable[dict[str, Any]]) -> dict[str, float | None]:
    """The three gaps the issue sets targets on (absolute real - synthetic, all distances)."""
    out: dict[str, float | None] = {}
    for row in table:
        if row["group"] == "all" and (row["class"], row["statistic"]) in TARGETS:
            out[f"{row['class']} {row['statistic']}"] = row["distance"]
    return out


# --- the whole report ---------------------------------------------------------------------------------------------
def realism_report(world: str | Path, real: str | Path, work: str | Path | None = None, workers: int = 1,
                   labeller: bool = True, reference: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report as a JSON-ready dict: ``tables`` (name -> rows), ``budget`` rows, ``targets`` and counts."""
    world, real = Path(world), Path(real)
    syn_m, real_m = measure_root(world), measure_root(real)
    if reference is None:
        from kitti.synthetic.kitti_stats import load_reference
        reference = load_reference()
    report: dict[str, Any] = {"world": str(world), "real": str(real), "frames": {"syn": len(syn_m["frames"]),
                                                                                 "real": len(real_m["frames"])},
                              "objects": {side: {cls: int((m["objects"]["cls"] == cls).sum()) for cls in CLASSES}
                                          for side, m in (("syn", syn_m), ("real", real_m))},
                              "tables": scene_tables(real_m, syn_m, reference)}
    if labeller:
        with tempfile.TemporaryDirectory(prefix="realism-") as tmp:
            base = Path(work) if work is not None else Path(tmp)
            real_budget = labeller_budget(real, base / "real", workers)
            syn_budget = labeller_budget(world, base / "world", workers)
        report["budget"] = budget_table(real_budget, syn_budget)
        report["targets"] = target_gaps(report["budget"])
    return report


def _fmt(value: Any, spec: str = ".2f") -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "-".join(format(v, spec) for v in value)
    return format(value, spec)


def _lines(rows: Sequence[dict[str, Any]], keys: Sequence[str], spec: str = ".2f") -> list[str]:
    head = "".join(f"{k:<12}" for k in keys) + f"{'statistic':<30}{'real':>9}{'syn':>9}{'n real':>8}{'n syn':>7}" \
        f"{'dist':>8}{'tol':>11}  verdict"
    lines = [head, "-" * len(head)]
    for row in rows:
        lines.append("".join(f"{str(row[k]):<12}" for k in keys)
                     + f"{row['statistic']:<30}{_fmt(row['real'], spec):>9}{_fmt(row['syn'], spec):>9}"
                       f"{row['n_real']:>8}{row['n_syn']:>7}{_fmt(row['distance']):>8}{_fmt(row['tolerance']):>11}"
                       f"  {row['verdict']}" + (f"   (KITTI labels {_fmt(row['kitti_labels'])})"
                                                if row.get("kitti_labels") is not None else ""))
    return lines


_TITLES = {
    "points_per_object": ("LiDAR points per object (in the ground-truth box; medians, KS)", ("class", "bin"), ".0f"),
    "height_bands": ("share of an object's points per third of its height (means)", ("class",), ".2f"),
    "clutter": ("clutter: non-ground points <= 0.5 m outside the box / object points (medians, KS)", ("class",),
                ".2f"),
    "ground_residual": ("ground height 0.3-2 m around the box minus its bottom, m (medians, KS)", ("class",), ".2f"),
    "extent": ("span of the object's points over the box size (medians, KS)", ("class",), ".2f"),
    "truncation_occlusion": ("distance mix, truncation and occlusion shares by distance", ("class", "bin"), ".2f"),
    "height_2d": ("2D box height x distance, px m (medians, synthetic / real)", ("class", "bin"), ".0f"),
    "points_per_ring": ("points in the camera image per frame by horizontal range (medians, synthetic / real)",
                        ("ring",), ".0f"),
}


def format_report(report: dict[str, Any]) -> str:
    """The report as text tables (real beside synthetic)."""
    lines = [f"realism report: world {report['world']} ({report['frames']['syn']} frames) against "
             f"{report['real']} ({report['frames']['real']} frames)",
             "objects: " + ", ".join(f"{cls} {report['objects']['real'][cls]} real / {report['objects']['syn'][cls]} "
                                     f"synthetic" for cls in CLASSES)]
    for name, rows in report["tables"].items():
        title, keys, spec = _TITLES[name]
        lines += ["", title, *_lines(rows, keys, spec)]
    if "budget" in report:
        lines += ["", "the geometric labeller's error budget (paired boxes; |real - synthetic| against the tolerance)",
                  *_lines([row for row in report["budget"] if row["n_real"] or row["n_syn"]], ("class", "group"),
                          ".2f"),
                  "", "targets (issue 23): " + ", ".join(f"{k} gap {_fmt(v)}" for k, v in report["targets"].items())]
    counted = [row for rows in report["tables"].values() for row in rows] + report.get("budget", [])
    verdicts = [row["verdict"] for row in counted]
    lines += ["", f"verdicts: {verdicts.count('ok')} ok, {verdicts.count('off')} off, {verdicts.count('few')} with "
                  f"fewer than {MIN_SAMPLES} values on a side"]
    return "\n".join(lines)


def summary_table(report: dict[str, Any]) -> str:
    """The report's last table in Markdown: the labeller's figures per class, synthetic beside real."""
    lines = ["| class | figure | synthetic | real | gap | tolerance |", "|---|---|---|---|---|---|"]
    for row in report.get("budget", []):
        if row["group"] == "all" and row["statistic"] in ("median_iou_3d", "share_ge_0.7", "share_ge_0.5"):
            lines.append(f"| {row['class']} | {row['statistic']} | {_fmt(row['syn'])} | {_fmt(row['real'])} | "
                         f"{_fmt(row['distance'])} | {_fmt(row['tolerance'])} |")
    return "\n".join(lines)


def _checked_root(path: str, what: str) -> Path:
    root = Path(path)
    if not (root / "training" / "calib").is_dir():
        raise ArgumentError(f"--{what} {root}: not a KITTI root (expected {root / 'training' / 'calib'}/)")
    return root


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kitti.synthetic.realism", description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", required=True, help="synthetic KITTI root (python -m kitti.synthetic --out W)")
    parser.add_argument("--real", required=True, help="real KITTI root, e.g. ../shared/kitti_real")
    parser.add_argument("--json", help="write the report as JSON here (atomically)")
    parser.add_argument("--work", help="directory for the labeller's label sets (resumable; default: temporary)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="labeller processes")
    parser.add_argument("--no-labeller", action="store_true", help="skip the labeller's error budget")
    args = parser.parse_args(argv)
    if args.json:
        check_report_file(args.json, (args.world, args.real))
    report = realism_report(_checked_root(args.world, "world"), _checked_root(args.real, "real"), args.work,
                            args.workers, not args.no_labeller)
    if args.json:
        atomic_write_text(args.json, json.dumps(report, indent=2, allow_nan=False) + "\n")
    print(format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
