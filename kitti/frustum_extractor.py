"""Command line: step-0 frustum sets (train, val, pseudo) from 2D boxes (the code lives in :mod:`kitti.frustum.engine`).

    python -m kitti.frustum_extractor --help
"""
from kitti.frustum.engine import main

if __name__ == "__main__":
    raise SystemExit(main())
