"""Do labeller variants rank the same on a synthetic world and on real frames? (issue 23's ranking check)

    python benchmarks/realism_ranking.py --world W --real ../shared/kitti_real [--workers 2] [--json OUT]

Three variants of the geometric labeller of the day (:mod:`kitti.geometric`), switched in each worker process:

* ``today``: as it is;
* ``no-claims``: a fitted box claims none of its points (``labeller.CLAIM_MARGIN`` so negative that no point is
  inside), so an occluder's points stay available to the boxes behind it;
* ``no-gap-margin``: the sampling-gap margin of the BEV fit is zero (``bevfit.sampling_gap`` returns 0).

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

from kitti.atomic import atomic_write_text
from kitti.eval.annos import annos_from_labels
from kitti.eval.budget import budget_from_annos
from kitti.geometric import bevfit
from kitti.geometric import labeller as lab
from kitti.geometric.run import frame_inputs
from kitti.io.dataset import KittiDataset
from kitti.runner import run_frames

VARIANTS = ("today", "no-claims", "no-gap-margin")
_ORIGINAL = {"claim": lab.CLAIM_MARGIN, "gap": bevfit.sampling_gap}


def _set_variant(variant: str) -> None:
    lab.CLAIM_MARGIN = -1e6 if variant == "no-claims" else _ORIGINAL["claim"]
    bevfit.sampling_gap = (lambda range_m, incidence_cos: 0.0) if variant == "no-gap-margin" else _ORIGINAL["gap"]


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


def ranking(figures: dict[str, dict]) -> list[str]:
    """Variants best first: Car share >= 0.7, then Car median IoU, then Pedestrian and Cyclist share >= 0.5."""
    def key(v: str) -> tuple[float, ...]:
        f = figures[v]
        return (-f["Car"]["share_ge_0.7"], -f["Car"]["median"],
                *(-(f[c]["share_ge_0.5"] if c in f else 0.0) for c in ("Pedestrian", "Cyclist")))
    return sorted(figures, key=key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--world", required=True)
    parser.add_argument("--real", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    out: dict = {}
    for side, root in (("real", args.real), ("world", args.world)):
        out[side] = {variant: variant_budget(root, variant, args.workers) for variant in VARIANTS}
    for side in ("real", "world"):
        print(f"{side}:")
        for variant, figures in out[side].items():
            cells = [f"{cls} {f['median']:.2f}/{f['share_ge_0.7']:.2f}/{f['share_ge_0.5']:.2f}"
                     for cls, f in figures.items()]
            print(f"  {variant:<14}" + "  ".join(cells) + "   (median / >=0.7 / >=0.5)")
    orders = {side: ranking(out[side]) for side in ("real", "world")}
    out["orders"] = orders
    out["agree"] = orders["real"] == orders["world"]
    print(f"order on real: {' > '.join(orders['real'])}; on the world: {' > '.join(orders['world'])}; "
          f"{'same' if out['agree'] else 'DIFFERENT'}")
    if args.json:
        atomic_write_text(args.json, json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
