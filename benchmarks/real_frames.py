"""The real-frame table: label quality on real KITTI frames, the geometric labeller beside FGR and a run's labels.

    .venv/bin/python benchmarks/real_frames.py [--real ../shared/kitti_real] [--fgr DIR] [--labels NAME=DIR ...]

Labels every frame of ``--real`` (a KITTI ``training/`` folder with image_2, calib, velodyne, label_2) with the
geometric labeller (2D boxes only, timed), then scores it and every other label set given (FGR's boxes of these
frames by default, and any ``--labels NAME=DIR``, e.g. a pipeline run's ``label_2_pseudo``) against the frames' 3D
ground truth: per class AP R40 3D strict moderate with its ceiling (the ground truth scored as labels; below 100
with fewer than 40 boxes), coverage, median 3D IoU of the labelled boxes, share of all ground-truth boxes labelled
at 3D IoU >= 0.7 / 0.5 (an unlabelled box is a miss), share of labelled boxes pointing the right way (heading error
< 90 deg). Prints a markdown table;
``--json`` writes the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from kitti.atomic import atomic_write_text
from kitti.eval.quality import Quality, label_quality
from kitti.geometric.run import LabelConfig, label_split
from kitti.io.dataset import write_split
from kitti.outputs import check_report_file

REPO = Path(__file__).resolve().parents[1]
CLASSES = ("Car", "Pedestrian", "Cyclist")


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(rows: dict[str, Quality], ceiling: dict[str, float], seconds: float) -> str:
    """The markdown table of :func:`kitti.eval.quality.label_quality` rows (one per label set)."""
    head = ("| labels | Car AP 3D @0.7 (ceiling {car:.1f}) | coverage | median IoU | share of GT >= 0.7 | direction | "
            "Ped AP @0.5 (ceiling {ped:.1f}) | Ped share >= 0.5 | Cyc AP @0.5 (ceiling {cyc:.1f}) | "
            "Cyc share >= 0.5 |").format(car=ceiling["Car"], ped=ceiling["Pedestrian"], cyc=ceiling["Cyclist"])
    lines = [head, "|" + "---|" * 10]
    for name, q in rows.items():
        car, ped, cyc = q["Car"], q["Pedestrian"], q["Cyclist"]
        lines.append(f"| {name} | {car['ap']:.1f} | {_cell(car['coverage'])} | {_cell(car['median_iou'])} | "
                     f"{_cell(car['share_0.7'])} | {_cell(car['direction'])} | {ped['ap']:.1f} | "
                     f"{_cell(ped['share_0.5'])} | {cyc['ap']:.1f} | {_cell(cyc['share_0.5'])} |")
    lines.append(f"\nGeometric labeller: {seconds:.2f} s per frame (wall, loading included).")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", type=Path, default=REPO.parent / "shared" / "kitti_real",
                        help="KITTI root of real frames (training/...)")
    parser.add_argument("--fgr", type=Path, default=REPO.parent / "shared" / "peers_labels" / "fgr_strict_kitti_real",
                        help="FGR's boxes of these frames (skipped when absent)")
    parser.add_argument("--labels", nargs="*", default=[], metavar="NAME=DIR", help="more label sets to score")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    if args.json:
        check_report_file(args.json, [args.real, *(spec.split("=", 1)[-1] for spec in args.labels)])
    gt_dir = args.real / "training" / "label_2"
    frames = sorted(int(p.stem) for p in gt_dir.glob("*.txt"))
    if not frames:
        parser.error(f"{gt_dir}: no label files")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        (root / "training").symlink_to(args.real.resolve() / "training")
        write_split(root / "ImageSets" / "train.txt", frames)
        started = time.perf_counter()
        label_split(LabelConfig(str(root), "train", output=str(Path(tmp) / "labels")), args.workers, force=True)
        seconds = (time.perf_counter() - started) / len(frames)
        rows = {"geometric labeller": label_quality(gt_dir, Path(tmp) / "labels", frames, CLASSES)}
    if args.fgr.is_dir():
        rows["FGR (strict, Car only)"] = label_quality(gt_dir, args.fgr, frames, CLASSES)
    for spec in args.labels:
        name, _, path = spec.partition("=")
        rows[name] = label_quality(gt_dir, Path(path), frames, CLASSES)
    ceiling = {cls: rows["geometric labeller"][cls]["ceiling"] for cls in CLASSES}
    print(f"{len(frames)} real frames of {args.real}")
    print(table(rows, ceiling, seconds))
    if args.json:
        atomic_write_text(args.json, json.dumps({"frames": frames, "ceiling": ceiling, "seconds_per_frame": seconds,
                                                 "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
