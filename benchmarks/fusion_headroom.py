"""Where the fused final labels lose AP: per source, and what each source would add if it were perfect (evaluation
only).

    python benchmarks/fusion_headroom.py --gt-dir DATA/training/label_2 --labels OUTPUT/label_2_pseudo \\
        --split DATA/ImageSets/train.txt [--fits OUTPUT/geometric_labels [--below 0.1 0.3 0.5]]

The fused labels carry a ``<frame>.source.json`` sidecar (``geometric`` or ``alpi`` per line,
:mod:`train.pipeline.fusion`). For each class this prints the boxes per source with their median 3D IoU and share
at the strict IoU (each box paired with the ground-truth object whose 2D box it matches at IoU >= 0.7), then the
3D AP R40 moderate (strict) of:

- the labels as published;
- ``learned oracle``: every ``alpi`` box replaced by its ground-truth box (same score): the most a better learned path
  can add on top of the confident fits;
- ``fits oracle``: every ``geometric`` box replaced by its ground-truth box;
- with ``--fits``: the geometric labeller's own labels, the baseline the product is compared with, and for each
  ``--below`` score ``s``: those labels with every box scoring below ``s`` replaced by its ground-truth box, over all
  boxes and per group of the ground truth (far: >= 40 m; occluded: level >= 2; truncated: >= 0.3). This bounds what
  any learned box can add where the fit is poor: fusion replaces only fits scoring below ``--fusion-min-score``.

With ``--fits`` alone (no run), only the labeller's rows are printed.

Ground-truth 3D boxes are read here for reporting only; nothing is selected with them.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

import ops
from kitti.errors import ArgumentError
from kitti.eval import annos_from_labels, evaluate
from kitti.eval.pairing import pair_by_2d_iou
from kitti.eval.protocol import MIN_OVERLAP
from kitti.io.dataset import read_split
from kitti.io.labels import ObjectLabel, read_labels
from kitti.priors import CLASSES


def _pair(label: ObjectLabel, gt: Sequence[ObjectLabel]) -> ObjectLabel | None:
    """The ground-truth object of the label's class whose 2D box matches it (IoU >= 0.7, the error budget's
    pairing), or None."""
    same = [obj for obj in gt if obj.type == label.type]
    _, paired = pair_by_2d_iou(np.array([label.box2d], np.float64),
                               np.array([obj.box2d for obj in same], np.float64).reshape(-1, 4))
    return same[int(paired[0])] if len(paired) else None


def _moderate_ap(gt_annos: list, labels: list[list[ObjectLabel]], cls: str) -> float:
    result = evaluate(gt_annos, [annos_from_labels(frame) for frame in labels], [cls], metrics=("3d",))
    return float(result["strict"][cls]["3d"]["R40"][1])


#: ground-truth groups of the ``--below`` rows
GROUPS: dict[str, Callable[[ObjectLabel], bool]] = {
    "all": lambda obj: True,
    "far (>= 40 m)": lambda obj: float(np.hypot(obj.location[0], obj.location[2])) >= 40.0,
    "occluded (level >= 2)": lambda obj: obj.occlusion >= 2,
    "truncated (>= 0.3)": lambda obj: obj.truncation >= 0.3,
}


def replaced_by_truth(label_sets: list[list[ObjectLabel]], gt: list[list[ObjectLabel]],
                     wanted: Callable[[int, int, ObjectLabel], bool],
                     group: Callable[[ObjectLabel], bool] = GROUPS["all"]) -> tuple[list[list[ObjectLabel]], int]:
    """``label_sets`` (per frame) with every label that is ``wanted(frame index, line index, label)`` and whose paired
    ground truth is in ``group`` replaced by that ground truth (its score kept), and how many were replaced."""
    out, count = [], 0
    for f, (labels, truth) in enumerate(zip(label_sets, gt)):
        frame = []
        for i, label in enumerate(labels):
            match = _pair(label, truth) if wanted(f, i, label) else None
            if match is not None and group(match):
                frame.append(replace(match, score=label.score))
                count += 1
            else:
                frame.append(label)
        out.append(frame)
    return out, count


def replaced_below(fits: list[list[ObjectLabel]], gt: list[list[ObjectLabel]], score: float,
                   group: Callable[[ObjectLabel], bool]) -> tuple[list[list[ObjectLabel]], int]:
    """:func:`replaced_by_truth` of the fits scoring below ``score``."""
    return replaced_by_truth(fits, gt, lambda f, i, label: (label.score or 0.0) < score, group)


def _read_frames(folder: Path, frames: Sequence[int]) -> list[list[ObjectLabel]]:
    return [read_labels(folder / f"{f:06d}.txt", inverted_ok=True) if (folder / f"{f:06d}.txt").is_file() else []
            for f in frames]


def _published(folder: Path, frames: Sequence[int]) -> tuple[list[list[ObjectLabel]], list[list[str]]]:
    """The fused labels of ``frames`` and the source of each line (its sidecar)."""
    published, sources = [], []
    for f in frames:
        path = folder / f"{f:06d}.txt"
        labels = read_labels(path, inverted_ok=True) if path.is_file() else []
        sidecar = path.with_suffix(".source.json")
        tags = json.loads(sidecar.read_text()) if sidecar.is_file() else ["alpi"] * len(labels)
        if len(tags) != len(labels):
            raise ArgumentError(f"{sidecar}: {len(tags)} sources for {len(labels)} label lines")
        published.append(labels)
        sources.append(tags)
    return published, sources


def _source_rows(cls: str, published: list[list[ObjectLabel]], sources: list[list[str]],
                 gt: list[list[ObjectLabel]], gt_annos: list) -> None:
    strict = MIN_OVERLAP["strict"]["3d"][cls]
    for source in ("geometric", "alpi"):
        ious = []
        for labels, tags, truth in zip(published, sources, gt):
            for label, tag in zip(labels, tags):
                if label.type != cls or tag != source:
                    continue
                match = _pair(label, truth)
                if match is not None:
                    ious.append(float(np.asarray(ops.iou_3d(label.box3d[None], match.box3d[None]))[0, 0]))
        if ious:
            print(f"  {source:9s} boxes paired {len(ious):4d}   median 3D IoU {np.median(ious):.2f}   "
                  f"share >= {strict:g} {np.mean(np.array(ious) >= strict):.2f}")
        else:
            print(f"  {source:9s} boxes paired    0")

    def oracle(source: str) -> list[list[ObjectLabel]]:
        return replaced_by_truth(published, gt, lambda f, i, label: sources[f][i] == source)[0]

    for name, label_set in (("published", published), ("learned oracle", oracle("alpi")),
                            ("fits oracle", oracle("geometric"))):
        print(f"  3D AP R40 moderate, {name:18s} {_moderate_ap(gt_annos, label_set, cls):6.1f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gt-dir", type=Path, required=True, help="ground-truth label_2 directory")
    parser.add_argument("--labels", type=Path, help="fused labels with <frame>.source.json sidecars")
    parser.add_argument("--split", type=Path, required=True, help="file of frame ids (the labelled frames)")
    parser.add_argument("--fits", type=Path, help="the geometric labeller's labels (baseline row)")
    parser.add_argument("--below", type=float, nargs="*", default=[],
                        help="with --fits: scores below which the fits are replaced by their ground truth")
    args = parser.parse_args(argv)
    if args.labels is None and args.fits is None:
        parser.error("give --labels, --fits or both")
    if args.below and args.fits is None:
        parser.error("--below needs --fits")
    frames = read_split(args.split)
    gt = [read_labels(args.gt_dir / f"{f:06d}.txt") for f in frames]
    gt_annos = [annos_from_labels(frame) for frame in gt]
    try:
        fused = _published(args.labels, frames) if args.labels is not None else None
    except ArgumentError as err:
        parser.error(str(err))
    fits = _read_frames(args.fits, frames) if args.fits is not None else None
    for cls in CLASSES:
        if not any(obj.type == cls for frame in gt for obj in frame):
            continue
        print(f"{cls} (strict 3D IoU {MIN_OVERLAP['strict']['3d'][cls]:g})")
        if fused is not None:
            _source_rows(cls, *fused, gt, gt_annos)
        if fits is None:
            continue
        print(f"  3D AP R40 moderate, {'geometric labeller':18s} {_moderate_ap(gt_annos, fits, cls):6.1f}")
        for score in args.below:
            for name, group in GROUPS.items():
                labels, count = replaced_below(fits, gt, score, group)
                print(f"    fits below {score:g} in {name:22s} -> ground truth ({count:4d} boxes): "
                      f"{_moderate_ap(gt_annos, labels, cls):6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
