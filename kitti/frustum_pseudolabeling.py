"""Command line: frustum sets of step N >= 1 from step N-1 pseudo-labels (the code lives in
:mod:`kitti.frustum.pseudo_step`).

    python -m kitti.frustum_pseudolabeling --help
"""
from kitti.frustum.pseudo_step import main

if __name__ == "__main__":
    raise SystemExit(main())
