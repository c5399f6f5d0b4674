"""A fake run for the review page (tests and benchmarks/review_bench.py): ``<run>/label_2_pseudo/`` made from a
data set's ground truth with noise and a score column, no training. Reads 3D ground truth: test data only."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from kitti.io.dataset import KittiDataset
from kitti.io.labels import ObjectLabel, write_labels
from kitti.priors import CLASSES

SOURCES = ("alpi", "geometric", "prior")


def fake_labels(gt: list[ObjectLabel], rng: np.random.Generator) -> list[ObjectLabel]:
    """Car / Pedestrian / Cyclist ground truth moved (0.3 m), resized (5 %), turned (0.1 rad), scored 0.05-0.99."""
    out = []
    for obj in gt:
        if obj.type not in CLASSES:
            continue
        location = tuple(float(v) for v in np.asarray(obj.location) + rng.normal(0, 0.3, 3) * (1, 0.2, 1))
        dims = tuple(float(v) for v in np.asarray(obj.dims) * rng.uniform(0.95, 1.05, 3))
        out.append(ObjectLabel(obj.type, obj.truncation, obj.occlusion, obj.box2d, alpha=obj.alpha, dims=dims,
                               location=location, ry=float(obj.ry + rng.normal(0, 0.1)),
                               score=float(rng.uniform(0.05, 0.99))))
    return out


def make_fake_run(data: Path, run: Path, seed: int = 0) -> dict[int, list[ObjectLabel]]:
    """Write ``run/label_2_pseudo/%06d.txt`` for every frame of ``data`` (and a source sidecar on odd frames);
    returns the labels written per frame."""
    rng = np.random.default_rng(seed)
    dataset = KittiDataset(data)
    labels_dir = run / "label_2_pseudo"
    written = {}
    for frame in dataset.frame_ids():
        labels = fake_labels(dataset.labels(frame), rng)
        write_labels(labels_dir / f"{frame:06d}.txt", labels)
        if frame % 2:
            sources = [SOURCES[i % len(SOURCES)] for i in range(len(labels))]
            (labels_dir / f"{frame:06d}.source.json").write_text(json.dumps(sources))
        written[frame] = labels
    return written
