"""Command line: the instance library of pseudo-labelled real objects (the code lives in
:mod:`kitti.frustum.library_builder`).

    python -m kitti.generate_instances_insert --help
"""
from kitti.frustum.library_builder import main

if __name__ == "__main__":
    raise SystemExit(main())
