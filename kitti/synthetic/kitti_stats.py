"""Statistics of the real KITTI training labels (7,476 frames), the large-sample reference of the realism report.

The figures live in ``kitti_label_stats.json`` beside this module, derived from the KITTI object training label files
(not shipped: CC BY-NC-SA 3.0, see ``SOURCES.md`` in this folder for the citation). Regenerate them with

    python -m kitti.synthetic.kitti_stats --labels ../shared/kitti_labels/kitti_object_training_label2_calib.tgz

(``--labels`` also takes a directory of ``*.txt`` label files). Layout of the JSON::

    {"frames": F, "source": "...", "classes": {"Car": {"0-10 m": {"n": N, "truncated > 0.1": share,
                                                                "occluded >= 1": share, "occluded >= 2": share,
                                                                "height_2d x distance": median}, ...}},
     "small boxes": {"Car": {"occlusion 0": {"n": N, "area p1": px2}, ...}, ...},
     "DontCare": {"per frame": mean, "height p25/p50/p75": [px, px, px]}}

``small boxes`` is the lower tail (1st percentile) of the 2D box area of the untruncated (truncation <= 0.1) objects
of each occlusion level: the smallest objects KITTI's annotators still labelled. For cars it grows with the occlusion
level about as the inverse of the visible share (the floor of the labelled cars is on their visible area), which
:data:`kitti.synthetic.annotate.MIN_VISIBLE_PIXELS` is derived from.
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


def label_statistics(texts: Iterable[str]) -> dict[str, Any]:
    """Per class and distance bin: object count, truncated / occluded shares and the median 2D height x distance;
    the small boxes per class and occlusion level (module docstring); DontCare boxes per frame and their heights
    (px)."""
    rows, dont_care, frames = [], [], 0
    for text in texts:
        frames += 1
        for line in text.splitlines():
            f = line.split()
            if len(f) >= 15 and f[0] in CLASSES:
                rows.append((f[0], float(f[1]), int(float(f[2])), float(f[7]) - float(f[5]),
                             float(np.hypot(float(f[11]), float(f[13]))), float(f[6]) - float(f[4])))
            elif len(f) >= 8 and f[0] == "DontCare":
                dont_care.append(float(f[7]) - float(f[5]))
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
    return out


@lru_cache(maxsize=1)
def _load() -> dict[str, Any]:
    return json.loads(STATS_FILE.read_text())


def load_reference() -> dict[str, Any]:
    """Per class and distance bin the shares of the committed statistics (``{cls: {bin: {name: share}}}``)."""
    return _load()["classes"]


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
