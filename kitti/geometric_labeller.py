"""Command line: the training-free geometric labeller (the code lives in :mod:`kitti.geometric`).

    python -m kitti.geometric_labeller --data D --split train --output O [--points lidar|depth|lidar+depth]
"""
from kitti.geometric.run import main

if __name__ == "__main__":
    raise SystemExit(main())
