"""CLI: ``python -m kitti.eval --gt-dir <label_2> --pred-dir <dir> [--split ids.txt] [--classes ...] [--json out]``.

Prints the AP table (percent, R40 and R11) and optionally writes the result JSON atomically. Exit status 2 on bad
input, with the offending file and line in the message.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from kitti.errors import cli
from kitti.eval.annos import add_label_dir_arguments
from kitti.eval.evaluate import evaluate_dirs
from kitti.eval.report import format_table, write_json
from kitti.outputs import check_report_file


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kitti.eval", description="KITTI object evaluation: AP (percent) "
                                     "at 40 and 11 recall points for 2D, BEV, 3D and AOS.")
    add_label_dir_arguments(parser, "prediction directory (<id>.txt, 16 columns with score)",
                            "write the result JSON here (atomically)")
    args = parser.parse_args(argv)
    if args.json:
        check_report_file(args.json, (args.gt_dir, args.pred_dir))
    result = evaluate_dirs(args.gt_dir, args.pred_dir, split=args.split, classes=args.classes)
    if args.json:
        write_json(args.json, result)
    print(format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
