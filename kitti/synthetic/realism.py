"""The realism report: a synthetic world and real KITTI frames side by side.

    python -m kitti.synthetic.realism --world W --real R [--json OUT] [--work DIR] [--workers K] [--draws N]
                                      [--no-labeller]

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
* last, the error budget of the geometric labeller (:mod:`kitti.eval.budget`) on both: per class, over all
  distances and per distance bin, the median 3D IoU, the shares >= 0.7 / 0.5 of the paired boxes, the coverage, the
  median absolute depth error, the median width ratio and the median absolute heading error (mod 180 degrees)
  (:mod:`kitti.synthetic.realism_budget`).

Tolerances: a KS statistic is held to the two-sample critical value at the 5 % level,
``1.36 sqrt((n + m) / (n m))`` (a distance the sample sizes cannot tell from none); a share to
``max(0.05, 1.96 sqrt(p (1 - p) (1/n + 1/m)))`` (``p`` the pooled share); a ratio of medians to
:data:`RATIO_TOLERANCE`; the labeller's figures to the targets of issue 23 or to their sampling noise (a bootstrap
over frames; :mod:`kitti.synthetic.realism_budget`). Rows with fewer than :data:`MIN_SAMPLES` values on a side say
``few`` instead of ``ok`` / ``off``. An ``off`` row that the table of known differences
(:mod:`kitti.synthetic.known_differences`) covers says ``known``: the world differs there for a stated cause, with a
measured effect on the labels, which the report prints after the tables.

The labeller writes into ``--work`` (default: a temporary directory), one resumable label set per root
(:func:`kitti.geometric.run.label_split`), so a second report on the same roots does not label again.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kitti import geometry as g
from kitti.atomic import atomic_write_text
from kitti.errors import ArgumentError, KittiFormatError, cli
from kitti.eval.budget import DISTANCE_BINS
from kitti.eval.distance import bin_name
from kitti.io.dataset import KittiDataset
from kitti.io.image import image_size
from kitti.outputs import check_report_file
from kitti.synthetic.known_differences import KnownDifferences, load_known_differences, mark_known
from kitti.synthetic.realism_budget import BOOTSTRAP_DRAWS, budget_rows, target_gaps
from kitti.synthetic.realism_stats import (
    MIN_SAMPLES,
    compare_distributions,
    compare_means,
    compare_medians,
    compare_shares,
)

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
TRUNCATED = 0.1


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


# --- the whole report ---------------------------------------------------------------------------------------------
def realism_report(world: str | Path, real: str | Path, work: str | Path | None = None, workers: int = 1,
                   labeller: bool = True, reference: dict[str, Any] | None = None,
                   known: KnownDifferences | None = None, draws: int = BOOTSTRAP_DRAWS) -> dict[str, Any]:
    """The report as a JSON-ready dict: ``tables`` (name -> rows), ``budget`` rows, ``targets``, the known
    differences that covered a row (``known``: id -> cause, why, effect; the committed table unless ``known`` is
    given) and the ``verdicts`` counted; ``draws`` bootstrap draws give the budget's sampling noise."""
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
            report["budget"] = budget_rows(real, world, Path(work) if work is not None else Path(tmp), workers, draws)
        report["targets"] = target_gaps(report["budget"])
    known = load_known_differences() if known is None else known
    rows = {**report["tables"], **({"budget": report["budget"]} if labeller else {})}
    used = mark_known(rows, known)
    report["known"] = {"version": known.version, "generator": known.generator,
                       "differences": {e.id: {"cause": e.cause, "why": e.why, "effect": e.effect}
                                       for e in known.differences if e.id in used}}
    verdicts = [row["verdict"] for table in rows.values() for row in table]
    report["verdicts"] = {v: verdicts.count(v) for v in ("ok", "known", "off", "few")}
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
                       f"  {row['verdict']}" + (f" ({row['known']})" if "known" in row else "")
                     + (f"   (KITTI labels {_fmt(row['kitti_labels'])})" if row.get("kitti_labels") is not None
                        else ""))
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
        lines += ["", "the geometric labeller's error budget (paired boxes; |real - synthetic| against the issue's "
                      "target, or its sampling noise when larger)",
                  *_lines([row for row in report["budget"] if row["n_real"] or row["n_syn"]], ("class", "group"),
                          ".2f"),
                  "", "targets (issue 23): " + ", ".join(f"{k} gap {_fmt(v)}" for k, v in report["targets"].items())]
    known = report["known"]
    if known["differences"]:
        lines += ["", f"known differences (kitti/synthetic/known_differences.yaml, version {known['version']}, "
                      f"measured on generator {known['generator']}):"]
        for name, entry in known["differences"].items():
            lines += textwrap.wrap(f"* {name} ({entry['cause']}): {entry['why']}", 118, subsequent_indent="  ")
            lines += textwrap.wrap(f"effect on the labels: {entry['effect']}", 118, initial_indent="  ",
                                   subsequent_indent="  ")
    v = report["verdicts"]
    lines += ["", f"verdicts: {v['ok']} ok, {v['known']} known, {v['off']} off, {v['few']} with fewer than "
                  f"{MIN_SAMPLES} values on a side"]
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
    parser.add_argument("--draws", type=int, default=BOOTSTRAP_DRAWS,
                        help=f"bootstrap draws of the budget's sampling noise (default {BOOTSTRAP_DRAWS})")
    args = parser.parse_args(argv)
    if args.json:
        check_report_file(args.json, (args.world, args.real))
    report = realism_report(_checked_root(args.world, "world"), _checked_root(args.real, "real"), args.work,
                            args.workers, not args.no_labeller, draws=args.draws)
    if args.json:
        atomic_write_text(args.json, json.dumps(report, indent=2, allow_nan=False) + "\n")
    print(format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
