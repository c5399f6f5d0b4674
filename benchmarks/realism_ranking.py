"""Do labeller variants rank the same on synthetic worlds and on real frames? (issue 23's ranking check)

    python benchmarks/realism_ranking.py --world W [W ...] --real ../shared/kitti_real [--workers 2] [--json OUT]

Variants of the geometric labeller of the day (:mod:`kitti.geometric`), switched in each worker process:

* ``today``: as it is;
* ``no-claims``: a fitted box claims none of its points (``labeller.CLAIM_MARGIN`` and
  ``labeller.PERSON_CLAIM_MARGIN`` so negative that no point is inside), so an occluder's points stay available
  to the boxes behind it;
* ``no-gap-margin``: the sampling-gap margin of the BEV fit is zero (``bevfit.sampling_gap`` returns 0);
* ``no-axis-prior``: the heading search has no pull toward the camera axes (``bevfit.AXIS_PRIOR_GAIN`` 0);
* ``no-mirror-band``: a car's width is measured on every point, door mirrors included (``bevfit.MIRROR_BAND``
  empty);
* ``no-column-centring``: no car is centred on its 2D box's columns (``labeller.COLUMN_CENTRED`` empty).

Every frame of each root (``training/``, every frame with a calibration file) is labelled in memory with each
variant; the error budget (:func:`kitti.eval.budget.budget_from_annos`) gives per class the median 3D IoU and the
shares >= 0.7 / 0.5. The variants are ranked on each root by Car share >= 0.7 (ties: Car median IoU, then the
Pedestrian and Cyclist shares >= 0.5).

Noise: two variants label the same cars, so each pair is also compared car by car (:func:`paired_sign_test`): the
cars one variant fits better than the other by more than :data:`MIN_IOU_DIFFERENCE` of 3D IoU, against those it fits
worse, and the exact two-sided sign test of the two counts. A pair whose p-value is :data:`NOISE_P` or more is
within the noise of the frames: on the 38 cars of the 14 real frames, 27 against 27 cars at IoU >= 0.7 is no order,
and neither is 5 cars better against 1 worse. The benchmark prints, per triple of variants, its order (by the rank
key) on the real frames and on each world, whether they agree and how many of its three pairs the real frames
resolve; per pair the real frames resolve, whether every world resolves it the same way; and issue 23's example
triple (:data:`EXAMPLE_TRIPLE`) whatever it gives. Evaluation only: reads the roots' full labels as ground truth.
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kitti.atomic import atomic_write_text
from kitti.eval.annos import annos_from_labels
from kitti.eval.budget import ClassPairs, budget_from_annos
from kitti.geometric import bevfit
from kitti.geometric import labeller as lab
from kitti.geometric.run import frame_inputs
from kitti.io.dataset import KittiDataset
from kitti.outputs import check_report_file
from kitti.runner import run_frames

#: per variant, the module attributes it overrides: (module, attribute, value)
VARIANTS: dict[str, tuple[tuple[Any, str, Any], ...]] = {
    "today": (),
    "no-claims": ((lab, "CLAIM_MARGIN", -1e6), (lab, "PERSON_CLAIM_MARGIN", -1e6)),
    "no-gap-margin": ((bevfit, "sampling_gap", lambda range_m, incidence_cos: 0.0),),
    "no-axis-prior": ((bevfit, "AXIS_PRIOR_GAIN", 0.0),),
    "no-mirror-band": ((bevfit, "MIRROR_BAND", (0.0, 0.0)),),
    "no-column-centring": ((lab, "COLUMN_CENTRED", ()),),
}
_ORIGINAL = {(module, name): getattr(module, name) for overrides in VARIANTS.values() for module, name, _ in overrides}
#: issue 23's example: today's labeller, without the point claims, without the sampling-gap margin
EXAMPLE_TRIPLE = ("today", "no-claims", "no-gap-margin")
#: a pair of variants whose paired sign test has a p-value at least this is within the noise of the frames
NOISE_P = 0.05
#: a car counts for one variant of a pair when its 3D IoU with it is higher by more than this
MIN_IOU_DIFFERENCE = 0.01


def _set_variant(variant: str) -> None:
    for (module, name), value in _ORIGINAL.items():
        setattr(module, name, value)
    for module, name, value in VARIANTS[variant]:
        setattr(module, name, value)


def _label(cfg: tuple[str, str], frame: int) -> tuple[list, list]:
    variant, root = cfg
    _set_variant(variant)
    dataset = KittiDataset(root)
    boxes = lab.label_frame(frame_inputs(dataset, frame))
    return dataset.labels(frame), [box.to_label() for box in boxes]


def car_ious(gt_annos: list[dict], pred_annos: list[dict]) -> np.ndarray:
    """3D IoU of each ground-truth car (frames in order, cars in label order) with the label paired to it, as in the
    error budget (:class:`kitti.eval.budget.ClassPairs`); 0 for a car without a label."""
    return np.nan_to_num(ClassPairs("Car", gt_annos, pred_annos).iou_3d(), nan=0.0)


def variant_budget(root: str, variant: str, workers: int) -> dict:
    """Per class the median IoU and shares of ``variant`` on ``root``, and ``car_iou``: the per-car IoUs."""
    frames = KittiDataset(root).frame_ids(None)
    pairs = run_frames(_label, (variant, root), frames, workers, f"{variant} {Path(root).name}")
    gt, pred = [annos_from_labels(g) for g, _ in pairs], [annos_from_labels(p) for _, p in pairs]
    budget = budget_from_annos(gt, pred)
    figures: dict[str, Any] = {cls: {"median": e["all"]["iou_3d"]["median"],
                                     "share_ge_0.7": e["all"]["iou_3d"]["share_ge_0.7"],
                                     "share_ge_0.5": e["all"]["iou_3d"]["share_ge_0.5"]}
                               for cls, e in budget["classes"].items()}
    figures["car_iou"] = [round(float(v), 4) for v in car_ious(gt, pred)]
    return figures


def rank_key(figures: dict) -> tuple[float, ...]:
    """Sort key of one variant's figures, best first: Car share >= 0.7, then Car median IoU, then Pedestrian and
    Cyclist share >= 0.5 (rounded to the two decimals printed, so that what looks tied is tied)."""
    return tuple(round(-v, 2) for v in (figures["Car"]["share_ge_0.7"], figures["Car"]["median"],
                                         *(figures.get(c, {}).get("share_ge_0.5", 0.0)
                                           for c in ("Pedestrian", "Cyclist"))))


def ranking(figures: dict[str, dict], variants: Sequence[str] | None = None) -> list[str]:
    """``variants`` (default all) best first by :func:`rank_key`."""
    return sorted(figures if variants is None else variants, key=lambda v: rank_key(figures[v]))


def sign_test_p(wins: int, losses: int) -> float:
    """Exact two-sided sign test: the probability of a split at least as uneven as ``wins : losses`` when each of
    the ``wins + losses`` discordant cars goes either way with probability 1/2 (1.0 when there are none)."""
    n, k = wins + losses, min(wins, losses)
    if n == 0:
        return 1.0
    return min(1.0, 2.0 * sum(math.comb(n, i) for i in range(k + 1)) / 2.0 ** n)


def paired_sign_test(iou_a: Sequence[float], iou_b: Sequence[float]) -> dict[str, Any]:
    """Variant ``a`` against ``b`` on the same cars: the cars ``a`` fits better by more than
    :data:`MIN_IOU_DIFFERENCE` of 3D IoU (``wins``) and worse (``losses``), the sign test's p-value, and ``order``: +1
    / -1 when ``a`` / ``b`` is better by more than the noise (p < :data:`NOISE_P`), 0 within it."""
    a, b = np.asarray(iou_a, float), np.asarray(iou_b, float)
    if a.shape != b.shape:
        raise ValueError(f"the variants labelled {a.size} and {b.size} cars")
    wins, losses = int((a > b + MIN_IOU_DIFFERENCE).sum()), int((b > a + MIN_IOU_DIFFERENCE).sum())
    p = sign_test_p(wins, losses)
    return {"wins": wins, "losses": losses, "p": p, "order": int(np.sign(wins - losses)) if p < NOISE_P else 0}


def triple_rows(real: dict[str, dict], worlds: Sequence[dict[str, dict]]) -> list[dict[str, Any]]:
    """Per triple of variants: its order on the real frames and on each world, whether each world agrees, the pairs
    the real frames resolve beyond the noise, and how many of those every world's own paired test orders alike."""
    rows = []
    for triple in itertools.combinations(list(real), 3):
        real_order = ranking(real, triple)
        resolved = alike = 0
        for a, b in itertools.combinations(triple, 2):
            order = paired_sign_test(real[a]["car_iou"], real[b]["car_iou"])["order"]
            if order:
                resolved += 1
                alike += all(paired_sign_test(w[a]["car_iou"], w[b]["car_iou"])["order"] == order for w in worlds)
        orders = [ranking(world, triple) for world in worlds]
        rows.append({"variants": list(triple), "real": real_order, "worlds": orders,
                     "agree": [order == real_order for order in orders], "real_pairs_resolved": resolved,
                     "resolved_alike_everywhere": alike})
    return rows


def resolved_pairs(real: dict[str, dict], worlds: Sequence[dict[str, dict]]) -> list[dict[str, Any]]:
    """The pairs the real frames order beyond the noise, better first, with the order of each world's own paired test
    (+1 alike, -1 reversed, 0 within the world's noise)."""
    rows = []
    for a, b in itertools.combinations(list(real), 2):
        test = paired_sign_test(real[a]["car_iou"], real[b]["car_iou"])
        if test["order"]:
            better, worse = (a, b) if test["order"] > 0 else (b, a)
            rows.append({"better": better, "worse": worse, "real": test, "worlds": [
                paired_sign_test(world[better]["car_iou"], world[worse]["car_iou"])["order"] for world in worlds]})
    return rows


def pair_agreement(real: dict[str, dict], world: dict[str, dict]) -> tuple[int, int, int]:
    """Over all pairs of variants: (pairs ordered alike on both sides, pairs ordered on both, pairs tied on one)."""
    alike = ordered = tied = 0
    names = list(real)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            signs = [(rank_key(side[a]) > rank_key(side[b])) - (rank_key(side[a]) < rank_key(side[b]))
                     for side in (real, world)]
            if 0 in signs:
                tied += 1
            else:
                ordered += 1
                alike += int(signs[0] == signs[1])
    return alike, ordered, tied


def _print_side(name: str, figures: dict[str, dict]) -> None:
    print(f"{name}:")
    for variant, fig in figures.items():
        cells = [f"{cls} {f['median']:.2f}/{f['share_ge_0.7']:.2f}/{f['share_ge_0.5']:.2f}"
                 for cls, f in fig.items() if cls != "car_iou"]
        print(f"  {variant:<19}" + "  ".join(cells) + "   (median / >=0.7 / >=0.5)")


def _print_pairs(real: dict[str, dict]) -> None:
    print(f"pairs on the real frames (cars at IoU >= 0.7 with each; cars the first fits better : worse by more than "
          f"{MIN_IOU_DIFFERENCE} IoU, sign test p):")
    for a, b in itertools.combinations(list(real), 2):
        test = paired_sign_test(real[a]["car_iou"], real[b]["car_iou"])
        n_a, n_b = (int(np.sum(np.asarray(real[v]["car_iou"]) >= 0.7)) for v in (a, b))
        print(f"  {a} vs {b}: {n_a} vs {n_b} cars; {test['wins']}:{test['losses']}, p {test['p']:.3f}"
              + ("" if test["order"] else "  (within the noise)"))


def _print_triples(rows: list[dict[str, Any]], n_worlds: int) -> dict[str, Any]:
    print("triples (order on real | on each world; worlds in the same order; real pairs beyond the noise of 3, and of "
          "them ordered alike by every world's paired test):")
    for row in rows:
        worlds = " | ".join(" > ".join(order) for order in row["worlds"])
        print(f"  {' > '.join(row['real'])} | {worlds}; {sum(row['agree'])} of {n_worlds}; "
              f"{row['real_pairs_resolved']}, {row['resolved_alike_everywhere']} alike")
    everywhere = [row["variants"] for row in rows if all(row["agree"])]
    resolved = [v for v in everywhere if next(r for r in rows if r["variants"] == v)["real_pairs_resolved"] == 3]
    example = next(row for row in rows if set(row["variants"]) == set(EXAMPLE_TRIPLE))
    print(f"triples in the same order on every world: {len(everywhere)} of {len(rows)}; of them with all three real "
          f"pairs beyond the noise: {len(resolved)}" + "".join(f"\n  {', '.join(v)}" for v in resolved))
    print(f"issue 23's example triple ({', '.join(EXAMPLE_TRIPLE)}): real {' > '.join(example['real'])}, agrees on "
          f"{sum(example['agree'])} of {n_worlds} worlds, {example['real_pairs_resolved']} of 3 real pairs beyond "
          f"the noise, {example['resolved_alike_everywhere']} of them ordered alike by every world")
    return {"same_order_everywhere": everywhere, "and_resolved_on_real": resolved, "example": example}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", required=True, nargs="+", help="one or more synthetic KITTI roots")
    parser.add_argument("--real", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated variants (default all: {','.join(VARIANTS)})")
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.json:
        check_report_file(args.json, (*args.world, args.real))
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"--variants: unknown {', '.join(unknown)}; expected some of {', '.join(VARIANTS)}")
    if len(variants) < 3:
        parser.error("--variants: name at least three")
    real = {variant: variant_budget(args.real, variant, args.workers) for variant in variants}
    worlds = [{variant: variant_budget(world, variant, args.workers) for variant in variants} for world in args.world]
    _print_side("real", real)
    _print_pairs(real)
    out: dict[str, Any] = {"real": real, "worlds": {}}
    for root, world in zip(args.world, worlds):
        _print_side(f"world {root}", world)
        alike, ordered, tied = pair_agreement(real, world)
        order = ranking(world)
        out["worlds"][root] = {"figures": world, "order": order, "pairs": {"alike": alike, "ordered": ordered,
                                                                             "tied": tied}}
        print(f"order: {' > '.join(order)} (real: {' > '.join(ranking(real))}); pairs of variants ordered alike: "
              f"{alike} of {ordered} ({tied} pairs tied on one side)")
    rows = triple_rows(real, worlds)
    out["triples"] = rows
    out["summary"] = _print_triples(rows, len(worlds))
    out["resolved_pairs"] = resolved_pairs(real, worlds)
    print("pairs the real frames order beyond the noise, and each world's own paired test (+1 alike, -1 reversed, 0 "
          "within its noise):")
    for row in out["resolved_pairs"]:
        print(f"  {row['better']} > {row['worse']} (real {row['real']['wins']}:{row['real']['losses']}, p "
              f"{row['real']['p']:.3f}): worlds {' '.join(f'{o:+d}' for o in row['worlds'])}")
    if args.json:
        atomic_write_text(args.json, json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
