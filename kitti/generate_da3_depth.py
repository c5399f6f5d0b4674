"""Command line: Depth Anything 3 metric depth maps for a KITTI split (the code lives in :mod:`kitti.depth.generate`).

    python -m kitti.generate_da3_depth --help
"""
from kitti.depth.generate import main

if __name__ == "__main__":
    raise SystemExit(main())
