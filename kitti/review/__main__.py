"""``python -m kitti.review {build,apply}``: the offline label review page of a run.

    python -m kitti.review build --run OUTPUT_DIR [--data D] [--split S] [--labels DIR] [--workers K]
    python -m kitti.review apply --run OUTPUT_DIR --decisions decisions.json --out DIR [--keep-undecided]

``build`` writes ``OUTPUT_DIR/review/index.html`` (open it in a browser; it works from ``file://``, offline).
``apply`` writes a KITTI ``label_2`` folder with the accepted boxes only.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from kitti.errors import cli
from kitti.review.apply import apply_decisions
from kitti.review.build import build_review


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kitti.review", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write OUTPUT_DIR/review/index.html and its assets")
    build.add_argument("--run", required=True, type=Path, help="the run's output directory")
    build.add_argument("--data", type=Path, help="KITTI root (default: the run's summary.json, else data/kitti)")
    build.add_argument("--split", help="frames of ImageSets/<split>.txt (default: every label file)")
    build.add_argument("--labels", type=Path, help="label folder to review (default: RUN/label_2_pseudo)")
    build.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    apply = commands.add_parser("apply", help="decisions.json -> a label_2 folder with the accepted boxes")
    apply.add_argument("--run", required=True, type=Path, help="the run's output directory (with review/)")
    apply.add_argument("--decisions", required=True, type=Path, help="decisions.json exported by the page")
    apply.add_argument("--out", required=True, type=Path,
                       help="label folder to write: a new one, or one an earlier apply wrote (never the data set's "
                            "label_2 nor the labels under review)")
    apply.add_argument("--keep-undecided", action="store_true",
                       help="also keep boxes nobody decided on (default: accepted boxes only)")
    args = parser.parse_args(argv)
    if args.command == "build":
        index = build_review(args.run, args.data, args.split, args.labels, max(1, args.workers))
        print(f"review page: {index}")
    else:
        result = apply_decisions(args.run, args.decisions, args.out, args.keep_undecided)
        print(f"kept {result.kept} of {result.boxes} boxes in {result.frames} frames: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
