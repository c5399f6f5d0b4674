"""Do labeller variants rank the same on a synthetic world and on real frames? (issue 23's ranking check)

    python benchmarks/realism_ranking.py --world W --real ../shared/kitti_real [--workers 2] [--json OUT]

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
Pedestrian and Cyclist shares >= 0.5) and the two orders are printed with whether they agree. Evaluation only: reads
the roots' full labels as ground truth.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kitti.atomic import atomic_write_text
from kitti.eval.annos import annos_from_labels
from kitti.eval.budget import budget_from_annos
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


def variant_budget(root: str, variant: str, workers: int) -> dict:
    frames = KittiDataset(root).frame_ids(None)
    pairs = run_frames(_label, (variant, root), frames, workers, f"{variant} {Path(root).name}")
    budget = budget_from_annos([annos_from_labels(gt) for gt, _ in pairs], [annos_from_labels(p) for _, p in pairs])
    return {cls: {"median": e["all"]["iou_3d"]["median"], "share_ge_0.7": e["all"]["iou_3d"]["share_ge_0.7"],
                  "share_ge_0.5": e["all"]["iou_3d"]["share_ge_0.5"]} for cls, e in budget["classes"].items()}


def rank_key(figures: dict) -> tuple[float, ...]:
    """Sort key of one variant's figures, best first: Car share >= 0.7, then Car median IoU, then Pedestrian and
    Cyclist share >= 0.5 (rounded to the two decimals printed, so that what looks tied is tied)."""
    return tuple(round(-v, 2) for v in (figures["Car"]["share_ge_0.7"], figures["Car"]["median"],
                                         *(figures.get(c, {}).get("share_ge_0.5", 0.0)
                                           for c in ("Pedestrian", "Cyclist"))))


def ranking(figures: dict[str, dict]) -> list[str]:
    """Variants best first by :func:`rank_key`."""
    return sorted(figures, key=lambda v: rank_key(figures[v]))


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", required=True)
    parser.add_argument("--real", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"comma-separated variants (default all: {','.join(VARIANTS)})")
    parser.add_argument("--json")
    args = parser.parse_args()
    if args.json:
        check_report_file(args.json, (args.world, args.real))
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"--variants: unknown {', '.join(unknown)}; expected some of {', '.join(VARIANTS)}")
    out: dict = {}
    for side, root in (("real", args.real), ("world", args.world)):
        out[side] = {variant: variant_budget(root, variant, args.workers) for variant in variants}
    for side in ("real", "world"):
        print(f"{side}:")
        for variant, figures in out[side].items():
            cells = [f"{cls} {f['median']:.2f}/{f['share_ge_0.7']:.2f}/{f['share_ge_0.5']:.2f}"
                     for cls, f in figures.items()]
            print(f"  {variant:<19}" + "  ".join(cells) + "   (median / >=0.7 / >=0.5)")
    orders = {side: ranking(out[side]) for side in ("real", "world")}
    out["orders"] = orders
    out["agree"] = orders["real"] == orders["world"]
    alike, ordered, tied = pair_agreement(out["real"], out["world"])
    out["pairs"] = {"alike": alike, "ordered": ordered, "tied": tied}
    print(f"order on real: {' > '.join(orders['real'])}\norder on the world: {' > '.join(orders['world'])}\n"
          f"{'same order' if out['agree'] else 'different orders'}; pairs of variants ordered alike: {alike} of "
          f"{ordered} ({tied} pairs tied on one side)")
    if args.json:
        atomic_write_text(args.json, json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
