"""Command line: refinement region sets around pseudo-boxes (the code lives in :mod:`kitti.frustum.refine_regions`).

    python -m kitti.prepare_data_refine --help
"""
from kitti.frustum.refine_regions import main

if __name__ == "__main__":
    raise SystemExit(main())
