"""Final labels from two labellers (beyond ALPI): the learned pipeline's pseudo-labels and the geometric labeller's
fits (:mod:`kitti.geometric`), both computed from 2D boxes and points only.

Per 2D box, a confident geometric box (score >= ``min_fit_score``, the run's ``--fusion-min-score``) replaces the
learned box of the same class
whose 2D box it matches (IoU >= :data:`kitti.io.labels.PREV_MATCH_IOU`); every other learned box is kept.
Scores keep one ranking over the frame set: confident fits first (``0.5 + 0.5 * quality``), then the learned boxes
(``0.5 * score``), so a detector trained on the labels sees the most reliable boxes as the most confident.
With ``agreement_classes``, a geometric box of those classes that has a learned box for the same 2D box is first
rescored by their agreement, ``score * (1 - AGREEMENT_WEIGHT + AGREEMENT_WEIGHT * BEV IoU)``: two independent
estimates that agree are more likely right (the learned path's second opinion, worth it where its boxes are good).
Each published label file gets a sidecar ``<frame>.source.json``: the source of each line (``geometric`` or
``alpi``), which the review page shows; ``published.json`` records every file written and its hash.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Collection

import numpy as np

import ops
from kitti.atomic import atomic_write_text, ensure_dir, file_digest, read_json_or_none
from kitti.eval.pairing import pair_by_2d_iou
from kitti.io.labels import (
    PREDICTION_DECIMALS,
    PREV_MATCH_IOU,
    ObjectLabel,
    format_label_line,
    read_pseudo_labels,
)
from kitti.outputs import check_link_free, check_output_dir, frame_id, refuse_foreign

#: fused score bands: confident geometric fits in [0.5, 1], learned boxes in [0, 0.5]
FIT_BAND, LEARNED_BAND = 0.5, 0.5
#: share of a geometric box's score that depends on its agreement with the learned box
AGREEMENT_WEIGHT = 0.5


#: the record of the files :func:`publish_fused` wrote into the final label folder (the only ones it replaces or
#: deletes; :func:`final_labels_intact` checks them on a rerun)
PUBLISHED = "published.json"
#: the files it writes: labels and their source sidecars
PATTERNS = ("*.txt", "*.source.json")

#: columns of a KITTI box ``(x, y, z, h, w, l, ry)`` that make its BEV box ``(x, z, l, w, ry)``
BEV_COLUMNS = [0, 2, 5, 4, 6]


def agreement_rescored(learned: list[ObjectLabel], fits: list[ObjectLabel], pairs: dict[int, int],
                       classes: Collection[str]) -> list[ObjectLabel]:
    """``fits`` with the score of each fit of ``classes`` paired with a learned box scaled by their agreement
    (module docstring); the others unchanged."""
    partner = {j: i for i, j in pairs.items()}
    chosen = [j for j, fit in enumerate(fits) if fit.type in classes and j in partner and fit.score is not None]
    out = list(fits)
    if not chosen:
        return out
    agreement = ops.iou_bev_pairs(np.array([fits[j].box3d[BEV_COLUMNS] for j in chosen]),
                                  np.array([learned[partner[j]].box3d[BEV_COLUMNS] for j in chosen]))
    for j, a in zip(chosen, np.asarray(agreement, np.float64)):
        out[j] = replace(fits[j], score=fits[j].score * (1 - AGREEMENT_WEIGHT + AGREEMENT_WEIGHT * float(a)))
    return out


def _pairs(learned: list[ObjectLabel], fits: list[ObjectLabel]) -> dict[int, int]:
    """One-to-one pairs ``{learned index: fit index}`` of the same class whose 2D boxes overlap with IoU >=
    ``PREV_MATCH_IOU``, the most overlapping pairs first (:func:`kitti.eval.pairing.pair_by_2d_iou`): each box
    stands for its own 2D label, so a fit never displaces the learned box of a neighbouring, overlapping 2D box."""
    pairs: dict[int, int] = {}
    for cls in {label.type for label in learned}:
        mine = [i for i, label in enumerate(learned) if label.type == cls]
        theirs = [j for j, fit in enumerate(fits) if fit.type == cls]
        if not theirs:
            continue
        rows, cols = pair_by_2d_iou(np.array([learned[i].box2d for i in mine], np.float64).reshape(-1, 4),
                                    np.array([fits[j].box2d for j in theirs], np.float64).reshape(-1, 4),
                                    PREV_MATCH_IOU)
        pairs.update({mine[r]: theirs[c] for r, c in zip(rows, cols)})
    return pairs


def fuse_frame(learned: list[ObjectLabel], fits: list[ObjectLabel], min_fit_score: float,
               agreement_classes: Collection[str] = ()) -> list[tuple[ObjectLabel, str]]:
    """``(label, source)`` pairs of one frame: confident fits (score >= ``min_fit_score``) in place of the learned
    boxes of their 2D boxes, the other learned boxes with their score scaled into the lower band, and a fit of a 2D
    box that has no learned box kept whatever its score (in the band of its confidence). Scores of both inputs lie
    in [0, 1]. ``agreement_classes``: see the module docstring."""
    pairs = _pairs(learned, fits)
    fits = agreement_rescored(learned, fits, pairs, agreement_classes)
    confident = {j for j, fit in enumerate(fits) if fit.score is not None and fit.score >= min_fit_score}
    fused: list[tuple[ObjectLabel, str]] = []
    for i, label in enumerate(learned):
        if pairs.get(i) not in confident:
            fused.append((replace(label, score=LEARNED_BAND * float(label.score or 0.0)), "alpi"))
    paired = set(pairs.values())
    for j, fit in enumerate(fits):
        if j in confident:
            fused.append((replace(fit, score=FIT_BAND + (1 - FIT_BAND) * float(fit.score)), "geometric"))
        elif j not in paired:
            fused.append((replace(fit, score=LEARNED_BAND * float(fit.score or 0.0)), "geometric"))
    return fused


def _published(target: Path) -> dict[str, str | None]:
    """The files an earlier :func:`publish_fused` recorded in ``target/PUBLISHED`` (name -> sha256, None while it
    was publishing); empty without a readable record."""
    files = (read_json_or_none(target / PUBLISHED) or {}).get("files")
    if not isinstance(files, dict):
        return {}
    return {name: sha for name, sha in files.items() if isinstance(name, str) and "/" not in name
            and frame_id(name.split(".")[0]) is not None and name.endswith((".txt", ".source.json"))
            and isinstance(sha, (str, type(None)))}


def final_labels_intact(target: Path) -> bool:
    """True when ``target`` holds exactly the files the last finished :func:`publish_fused` recorded, with their
    recorded content (a deleted, added or edited label file means False: the labels are published again)."""
    record = read_json_or_none(target / PUBLISHED) or {}
    files = _published(target)
    if record.get("status") != "done" or not target.is_dir() or target.is_symlink():
        return False
    now = {p.name for pattern in PATTERNS for p in target.glob(pattern)}
    return now == set(files) and all(file_digest(target / name) == sha for name, sha in files.items())


def publish_fused(learned_dir: Path, fits_dir: Path | None, target: Path, min_fit_score: float,
                  agreement_classes: Collection[str] = (), adopt: Collection[str] = ()) -> dict[str, int]:
    """Write the final label files of every frame of ``learned_dir`` into ``target`` (atomically), fused with the
    fits in ``fits_dir`` when given; returns the count of boxes per source. ``target`` follows
    :mod:`kitti.outputs`: files are recorded in ``target/PUBLISHED`` before they are written, only recorded files
    are replaced or removed (stale ones), and a folder holding other label files, or a linked one, is refused.
    ``adopt``: names the caller knows this pipeline published before records were kept (then taken as recorded)."""
    check_link_free(target, target.parent)
    check_output_dir(target, what="the final labels")
    owned = {**dict.fromkeys(adopt), **_published(target)}
    refuse_foreign(target, owned, PATTERNS, PUBLISHED)
    ensure_dir(target)
    names = sorted(path.name for path in learned_dir.glob("*.txt") if frame_id(path.stem) is not None)
    new = {name for stem in (Path(n).stem for n in names) for name in (f"{stem}.txt", f"{stem}.source.json")}
    planned = {name: None for name in sorted(set(owned) | new)}
    atomic_write_text(target / PUBLISHED, json.dumps({"status": "publishing", "files": planned}, indent=1) + "\n")
    for stale in sorted(set(owned) - new):
        (target / stale).unlink(missing_ok=True)
    counts = {"alpi": 0, "geometric": 0}
    for name in names:
        frame = int(Path(name).stem)
        learned = read_pseudo_labels(learned_dir, frame)
        if fits_dir is None:
            pairs = [(label, "alpi") for label in learned]
        else:
            pairs = fuse_frame(learned, read_pseudo_labels(fits_dir, frame), min_fit_score, agreement_classes)
        for _, source in pairs:
            counts[source] += 1
        lines = (format_label_line(label, PREDICTION_DECIMALS) + "\n" for label, _ in pairs)
        atomic_write_text(target / name, "".join(lines))
        atomic_write_text(target / f"{Path(name).stem}.source.json", json.dumps([s for _, s in pairs]) + "\n")
    files = {name: file_digest(target / name) for name in sorted(new)}
    atomic_write_text(target / PUBLISHED, json.dumps({"status": "done", "files": files}, indent=1) + "\n")
    print(f"final pseudo-labels: {len(names)} files in {target}; boxes by source {counts}")
    return counts
