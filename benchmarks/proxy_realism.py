"""How scan-like the step-0 proxies are, against the real objects of the same frames (evaluation: reads the 3D
labels of the real objects, never on the labelling path).

    python benchmarks/proxy_realism.py --data D [--split train] [--frames 100] [--workers 2] [--class Car]
                                       [--unoccluded] [--points lidar]

``D`` is a KITTI-format world, e.g. the demo world ``python -m kitti.synthetic --out D --frames 100 --seed 0``, or
real KITTI frames (``--split all``: every frame; nothing is written into ``D``). The step-0 training samples of the
split are built in memory (:func:`kitti.frustum.engine.process_frame`, default configuration, ``--points``) and, per
distance bin of the box centre (rect z, metres), printed for proxies and for the real objects of the class (points
inside the GT box of the real frustum); ``--unoccluded`` keeps only objects labelled fully visible (occlusion 0) and
their proxies:

* object points per sample: raw median, and the expected median after resampling the frustum to
  :data:`RESAMPLED` points (``n_obj * min(1, RESAMPLED / n_frustum)``);
* the extent of the object's points over its box along the length and the width (medians, samples with >= 20
  object points; for real objects 0.97-1.0 is typical);
* for proxies: stray points of the replaced real object (points of the proxy sample inside that object's GT box,
  outside the proxy box and more than :data:`GROUND_LEVEL` above the GT box's bottom, i.e. not ground), the share of
  samples with >= 20 of them, and the error of the proxy's bottom height against the replaced object's (metres,
  median absolute).
"""
from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

from kitti import geometry as g
from kitti.depth.point_source import POINT_SOURCES
from kitti.frustum.engine import ExtractConfig, process_frame
from kitti.frustum.store import KIND_PROXY, KIND_REAL
from kitti.io.dataset import KittiDataset
from kitti.priors import CLASS_ID
from kitti.runner import run_frames

BINS = (0.0, 10.0, 20.0, 30.0, 40.0, np.inf)
RESAMPLED = 1024
MIN_EXTENT_POINTS = 20
STRAY_LIMIT = 20
#: points up to this height above a GT box's bottom (metres) are ground, not strays
GROUND_LEVEL = 0.15


def extent(points: np.ndarray, box: np.ndarray) -> tuple[float, float]:
    """Extent of ``points`` along the box length and width, over ``l`` and ``w``."""
    c, s = np.cos(box[6]), np.sin(box[6])
    dx, dz = points[:, 0] - box[0], points[:, 2] - box[2]
    return float(np.ptp(c * dx - s * dz) / box[5]), float(np.ptp(s * dx + c * dz) / box[4])


def collect(cfg: ExtractConfig, frames: list[int], workers: int, class_name: str,
            unoccluded: bool) -> dict[str, list[tuple]]:
    """Per kind: rows ``(depth, n_obj, n_obj_resampled, ext_l, ext_w, strays, bottom_error)``."""
    dataset = KittiDataset(cfg.data)
    rows: dict[str, list[tuple]] = {"real": [], "proxy": []}
    for frame, result in zip(frames, run_frames(process_frame, cfg, frames, workers, "step-0 samples")):
        gt = {label.line: label for label in dataset.labels(frame)}
        real_box, keep = None, True
        for sample in result.samples:
            if sample.class_id != CLASS_ID[class_name]:
                continue
            if sample.kind == KIND_REAL:
                real_box, keep = gt[sample.label_line].box3d, not unoccluded or gt[sample.label_line].occlusion == 0
                box, inside = real_box, g.points_in_boxes_mask(sample.points, real_box[None])[:, 0]
                strays, bottom = np.nan, np.nan
            elif sample.kind == KIND_PROXY:
                box, inside = sample.box3d.astype(np.float64), sample.seg == 1
                in_real = g.points_in_boxes_mask(sample.points, real_box[None])[:, 0]
                strays = int((in_real & ~inside & (sample.points[:, 1] < real_box[1] - GROUND_LEVEL)).sum())
                bottom = abs(float(box[1] - real_box[1]))
            else:
                continue
            if not keep:
                continue
            n, total = int(inside.sum()), len(sample.points)
            ext = extent(sample.points[inside], box) if n >= MIN_EXTENT_POINTS else (np.nan, np.nan)
            rows["real" if sample.kind == KIND_REAL else "proxy"].append(
                (float(box[2]), n, n * min(1.0, RESAMPLED / max(total, 1)), *ext, strays, bottom))
    return rows


def report(rows: dict[str, list[tuple]]) -> None:
    print(f"{'bin (m)':>9} {'kind':>6} {'n':>6} {'pts raw':>8} {'pts@1024':>9} {'ext l':>6} {'ext w':>6} "
          f"{'strays>=20':>10} {'|dy| m':>7}")
    for lo, hi in zip(BINS[:-1], BINS[1:]):
        for kind in ("real", "proxy"):
            a = np.array([r for r in rows[kind] if lo <= r[0] < hi], dtype=np.float64).reshape(-1, 7)
            if not len(a):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (no extent, reals' strays)
                med = np.nanmedian(a, axis=0)
            ext = f"{med[3]:6.2f} {med[4]:6.2f}"
            tail = (f"{np.mean(a[:, 5] >= STRAY_LIMIT):10.1%} {med[6]:7.2f}" if kind == "proxy"
                    else f"{'':>10} {'':>7}")
            print(f"{f'{lo:.0f}-{hi:.0f}':>9} {kind:>6} {len(a):6d} {med[1]:8.0f} {med[2]:9.0f} {ext} {tail}")
    for kind in ("real", "proxy"):
        a = np.array(rows[kind], dtype=np.float64).reshape(-1, 7)
        line = (f"all {kind}: {len(a)} samples, median points {np.median(a[:, 1]):.0f} raw / "
                f"{np.median(a[:, 2]):.0f} after resampling, extent l {np.nanmedian(a[:, 3]):.3f} "
                f"w {np.nanmedian(a[:, 4]):.3f}")
        if kind == "proxy":
            line += (f"; strays >= {STRAY_LIMIT} in {np.mean(a[:, 5] >= STRAY_LIMIT):.1%} of samples "
                     f"(mean {np.mean(a[:, 5]):.1f}); bottom |dy| median {np.median(a[:, 6]):.3f} m")
        print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="KITTI-format root (training/, ImageSets/)")
    parser.add_argument("--split", default="train", help="ImageSets split, or 'all' for every frame")
    parser.add_argument("--frames", type=int, default=100, help="first N frames of the split")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--class", dest="class_name", default="Car", choices=tuple(CLASS_ID))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--unoccluded", action="store_true", help="only objects labelled fully visible")
    parser.add_argument("--points", choices=POINT_SOURCES, default="lidar", help="scene point source")
    args = parser.parse_args()
    dataset = KittiDataset(args.data)
    frames = dataset.frame_ids(None if args.split == "all" else args.split)[:args.frames]
    cfg = ExtractConfig(data=str(args.data), seed=args.seed, classes=(args.class_name,), points=args.points)
    print(f"{args.class_name}, {len(frames)} frames of {args.data} ({args.split}), step 0, {args.points}"
          f"{', fully visible objects' if args.unoccluded else ''}")
    report(collect(cfg, frames, args.workers, args.class_name, args.unoccluded))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
