"""Statistics of the real KITTI training labels (7,476 frames), the large-sample reference of the realism report.

The figures live in ``kitti_label_stats.json`` beside this module, derived from the KITTI object training label files
(not shipped: CC BY-NC-SA 3.0, see ``SOURCES.md`` in this folder for the citation). Regenerate them with

    python -m kitti.synthetic.kitti_stats --labels ../shared/kitti_labels/kitti_object_training_label2_calib.tgz

(``--labels`` also takes a directory of ``*.txt`` label files). Layout of the JSON::

    {"frames": F, "source": "...", "classes": {"Car": {"0-10 m": {"n": N, "truncated > 0.1": share,
                                                                "occluded >= 1": share, "occluded >= 2": share,
                                                                "height_2d x distance": median}, ...}},
     "small boxes": {"Car": {"occlusion 0": {"n": N, "area p1": px2}, ...}, ...},
     "DontCare": {"per frame": mean, "height p25/p50/p75": [px, px, px]},
     "Car headings": {"axis shares": {"0.6": share, "2": share, "5": share, "10": share}, "frames": N,
                      "frame direction percentiles": [deg x 101], "deviation beyond 5 deg": share,
                      "deviation tail percentiles": [deg x 101]},
     "Vehicles per frame": {"mean": N, "percentiles": [count x 101]},
     "Cars behind a nearer object": {"0-10 m": {"n": N, "share": share}, ...}}

``small boxes`` is the lower tail (1st percentile) of the 2D box area of the untruncated (truncation <= 0.1) objects
of each occlusion level: the smallest objects KITTI's annotators still labelled. For cars it grows with the occlusion
level about as the inverse of the visible share (the floor of the labelled cars is on their visible area), which
:data:`kitti.synthetic.annotate.MIN_VISIBLE_PIXELS` is derived from.

``Car headings`` (KITTI ``ry``, rect camera frame, degrees, taken mod 90 into (-45, 45]: a road and its cross streets
share a direction): ``axis shares`` is the share of all cars whose heading lies within 0.6 / 2 / 5 / 10 deg of a camera
axis. A frame has a *direction* when at least two well-seen cars (range < 25 m, occlusion <= 1) agree on it (mean
resultant length of ``4 ry`` >= 0.9): the road's direction relative to the ego car (curves, turns). ``frame direction
percentiles`` are the 0th..100th percentiles of those directions; every car of such a frame deviates from its
direction by ``ry - direction`` (mod 90), beyond 5 deg for a share ``deviation beyond 5 deg`` (angled parking, turning
cars), with those deviations' percentiles in ``deviation tail percentiles``. The world draws its road direction and
its cars' deviations from them (:mod:`kitti.synthetic.street`).

``Vehicles per frame`` counts the labelled Car, Van and Truck boxes of each frame (0th..100th percentiles over the
frames): the traffic of KITTI's drives, from empty roads to full parked rows, which the world draws per frame.
``Cars behind a nearer object`` is, per distance bin, the share of the cars whose 2D box lies more than half inside
the 2D box of one labelled object (any class but DontCare) nearer to the camera: the cars for which the labeller's
point claims matter (docs/results.md, "Traffic per frame from the KITTI label files (generator 1.5)").
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import tarfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from kitti.atomic import atomic_write_text
from kitti.errors import ArgumentError, cli
from kitti.eval.budget import DISTANCE_BINS
from kitti.eval.distance import bin_name

STATS_FILE = Path(__file__).with_name("kitti_label_stats.json")
CLASSES = ("Car", "Pedestrian", "Cyclist")
SOURCE = ("KITTI 3D object training labels, 7,476 frames (Geiger, Lenz, Urtasun, CVPR 2012; CC BY-NC-SA 3.0); "
          "see kitti/synthetic/SOURCES.md")


def _label_texts(path: Path) -> Iterator[str]:
    """Text of every ``label_2/*.txt`` in a directory or a ``.tgz``."""
    if path.is_dir():
        for file in sorted(path.rglob("*.txt")):
            if file.parent.name == "label_2" or path.name == "label_2":
                yield file.read_text()
        return
    if not tarfile.is_tarfile(path):
        raise ArgumentError(f"--labels {path}: neither a directory nor a tar archive of KITTI label files")
    with tarfile.open(path) as archive:
        for member in archive:
            handle = archive.extractfile(member) if member.isfile() else None
            if handle is not None and "/label_2/" in f"/{member.name}" and member.name.endswith(".txt"):
                yield io.TextIOWrapper(handle, encoding="utf-8").read()


#: the objects of ``small boxes``: truncation at most this; the lower-tail percentile of their 2D box area
SMALL_BOX_TRUNCATION = 0.1
SMALL_BOX_PERCENTILE = 1.0


def _small_boxes(cls: np.ndarray, trunc: np.ndarray, occ: np.ndarray, area: np.ndarray) -> dict[str, Any]:
    """Per class and occlusion level 0-2, untruncated objects: count and the 1st percentile of the 2D box area
    (px^2)."""
    out: dict[str, Any] = {}
    for c in CLASSES:
        out[c] = {}
        for level in range(3):
            m = (cls == c) & (trunc <= SMALL_BOX_TRUNCATION) & (occ == level)
            out[c][f"occlusion {level}"] = {
                "n": int(m.sum()),
                "area p1": round(float(np.percentile(area[m], SMALL_BOX_PERCENTILE)), 1) if m.any() else None}
    return out


#: heading statistics: axis-share thresholds (deg); well-seen cars (range m, occlusion); agreement; tail bound (deg)
AXIS_THRESHOLDS_DEG = (0.6, 2.0, 5.0, 10.0)
WELL_SEEN_RANGE_M, WELL_SEEN_OCCLUSION = 25.0, 1
AGREEMENT = 0.9
DEVIATION_TAIL_DEG = 5.0


def mod90_deg(angle_rad: np.ndarray) -> np.ndarray:
    """Angle (rad) taken mod 90 deg into (-45, 45] deg, in degrees."""
    return np.degrees(np.angle(np.exp(4j * np.asarray(angle_rad, float))) / 4)


def axis_shares(ry: np.ndarray) -> dict[str, float]:
    """Share of headings ``ry`` (rad) within each of :data:`AXIS_THRESHOLDS_DEG` of a camera axis."""
    off = np.abs(mod90_deg(ry))
    return {f"{t:g}": round(float(np.mean(off <= t)), 4) for t in AXIS_THRESHOLDS_DEG}


def heading_statistics(frames: Iterable[list[tuple[float, float, int]]]) -> dict[str, Any]:
    """``Car headings`` (module docstring) from each frame's cars ``(ry rad, range m, occlusion)``."""
    every: list[float] = []
    directions: list[float] = []
    deviations: list[float] = []
    for cars in frames:
        ry = np.array([c[0] for c in cars], float)
        every.extend(ry)
        well = np.array([c[0] for c in cars if c[1] < WELL_SEEN_RANGE_M and c[2] <= WELL_SEEN_OCCLUSION])
        if len(well) < 2:
            continue
        mean = np.mean(np.exp(4j * well))
        if abs(mean) < AGREEMENT:
            continue
        direction = np.angle(mean) / 4
        directions.append(np.degrees(direction))
        deviations.extend(mod90_deg(ry - direction))
    dev = np.array(deviations)
    tail = dev[np.abs(dev) > DEVIATION_TAIL_DEG]
    pct = lambda a: [round(float(v), 3) for v in np.percentile(a, np.arange(101))] if len(a) else None  # noqa: E731
    return {"axis shares": axis_shares(np.array(every)), "frames": len(directions),
            "frame direction percentiles": pct(directions),
            "deviation beyond 5 deg": round(len(tail) / len(dev), 4) if len(dev) else None,
            "deviation tail percentiles": pct(tail)}


def label_statistics(texts: Iterable[str]) -> dict[str, Any]:
    """Per class and distance bin: object count, truncated / occluded shares and the median 2D height x distance;
    the small boxes per class and occlusion level (module docstring); DontCare boxes per frame and their heights
    (px)."""
    rows, dont_care, frames, vehicles = [], [], 0, []
    cars: list[list[tuple[float, float, int]]] = []
    behind: list[tuple[float, bool]] = []
    for text in texts:
        frames += 1
        cars.append([])
        boxes: list[tuple[str, float, np.ndarray]] = []
        for line in text.splitlines():
            f = line.split()
            if len(f) >= 15 and f[0] != "DontCare":
                boxes.append((f[0], float(np.hypot(float(f[11]), float(f[13]))), np.array(f[4:8], float)))
            if len(f) >= 15 and f[0] == "Car":
                cars[-1].append((float(f[14]), float(np.hypot(float(f[11]), float(f[13]))), int(float(f[2]))))
            if len(f) >= 15 and f[0] in CLASSES:
                rows.append((f[0], float(f[1]), int(float(f[2])), float(f[7]) - float(f[5]),
                             float(np.hypot(float(f[11]), float(f[13]))), float(f[6]) - float(f[4])))
            elif len(f) >= 8 and f[0] == "DontCare":
                dont_care.append(float(f[7]) - float(f[5]))
        vehicles.append(sum(b[0] in ("Car", "Van", "Truck") for b in boxes))
        behind += [(dist, any(inside_share(box, other) > 0.5 for _, d, other in boxes if d < dist))
                   for name, dist, box in boxes if name == "Car"]
    cls = np.array([r[0] for r in rows])
    trunc, occ, h2d, dist, w2d = (np.array([r[k] for r in rows], float) for k in range(1, 6))
    out: dict[str, Any] = {"frames": frames, "source": SOURCE, "classes": {}}
    for c in CLASSES:
        entry = {}
        for bounds in DISTANCE_BINS:
            m = (cls == c) & (dist >= bounds[0]) & (dist < bounds[1])
            n = int(m.sum())
            total = int((cls == c).sum())
            entry[bin_name(bounds)] = {
                "n": n, "share of the class in bin": round(n / total, 4) if total else None,
                "truncated > 0.1": round(float(np.mean(trunc[m] > 0.1)), 4) if n else None,
                "occluded >= 1": round(float(np.mean(occ[m] >= 1)), 4) if n else None,
                "occluded >= 2": round(float(np.mean(occ[m] >= 2)), 4) if n else None,
                "height_2d x distance": round(float(np.median(h2d[m] * dist[m])), 1) if n else None}
        out["classes"][c] = entry
    out["small boxes"] = _small_boxes(cls, trunc, occ, h2d * w2d)
    out["DontCare"] = {"per frame": round(len(dont_care) / frames, 3) if frames else None,
                       "height p25/p50/p75": [round(float(v), 1) for v in np.percentile(dont_care, [25, 50, 75])]
                       if dont_care else None}
    out["Car headings"] = heading_statistics(cars)
    out["Vehicles per frame"] = {"mean": round(float(np.mean(vehicles)), 3),
                                 "percentiles": [round(float(v), 2) for v in np.percentile(vehicles, np.arange(101))]}
    out["Cars behind a nearer object"] = behind_shares(behind)
    return out


def inside_share(box: np.ndarray, other: np.ndarray) -> float:
    """Share of the area of 2D box ``box`` (x1, y1, x2, y2 px) that lies inside 2D box ``other``."""
    w = min(box[2], other[2]) - max(box[0], other[0])
    h = min(box[3], other[3]) - max(box[1], other[1])
    area = (box[2] - box[0]) * (box[3] - box[1])
    return float(w * h / area) if w > 0 and h > 0 and area > 0 else 0.0


def behind_shares(cars: list[tuple[float, bool]]) -> dict[str, dict[str, Any]]:
    """Per distance bin (m from the camera): the number of cars and the share of them behind a nearer object, from
    each car's ``(distance m, behind)``."""
    dist = np.array([c[0] for c in cars], float)
    flag = np.array([c[1] for c in cars], bool)
    out: dict[str, dict[str, Any]] = {}
    for bounds in DISTANCE_BINS:
        m = (dist >= bounds[0]) & (dist < bounds[1])
        out[bin_name(bounds)] = {"n": int(m.sum()), "share": round(float(flag[m].mean()), 4) if m.any() else None}
    return out


@lru_cache(maxsize=1)
def _load() -> dict[str, Any]:
    return json.loads(STATS_FILE.read_text())


def load_reference() -> dict[str, Any]:
    """Per class and distance bin the shares of the committed statistics (``{cls: {bin: {name: share}}}``)."""
    return _load()["classes"]


def load_headings() -> dict[str, Any]:
    """The committed ``Car headings`` (module docstring)."""
    return _load()["Car headings"]


def load_vehicles_per_frame() -> dict[str, Any]:
    """The committed ``Vehicles per frame`` (``{"mean": N, "percentiles": [count x 101]}``)."""
    return _load()["Vehicles per frame"]


def load_small_boxes() -> dict[str, Any]:
    """The committed ``small boxes`` (``{cls: {"occlusion L": {"n": N, "area p1": px^2}}}``)."""
    return _load()["small boxes"]


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kitti.synthetic.kitti_stats", description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", required=True, type=Path, help="KITTI label_2 directory or .tgz of label files")
    parser.add_argument("--out", type=Path, default=STATS_FILE, help=f"JSON to write (default {STATS_FILE})")
    args = parser.parse_args(argv)
    if not args.labels.exists():
        raise ArgumentError(f"--labels {args.labels}: not found")
    stats = label_statistics(_label_texts(args.labels))
    if not stats["frames"]:
        raise ArgumentError(f"--labels {args.labels}: no label_2/*.txt files in it")
    atomic_write_text(args.out, json.dumps(stats, indent=1) + "\n")
    print(f"{args.out}: {stats['frames']} frames")
    return 0


if __name__ == "__main__":
    sys.exit(main())
