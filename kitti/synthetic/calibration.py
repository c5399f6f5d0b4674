"""Calibration of every synthetic frame: the real KITTI matrices of drive 2011_09_26, image_2 size 1242 x 375."""
from __future__ import annotations

import numpy as np

from kitti.io.calib import Calibration

#: image_2 size in pixels
IMAGE_WIDTH = 1242
IMAGE_HEIGHT = 375

_MATRICES: dict[str, str] = {
    "P0": "7.215377e+02 0 6.095593e+02 0 0 7.215377e+02 1.728540e+02 0 0 0 1 0",
    "P1": "7.215377e+02 0 6.095593e+02 -3.875744e+02 0 7.215377e+02 1.728540e+02 0 0 0 1 0",
    "P2": "7.215377e+02 0 6.095593e+02 4.485728e+01 0 7.215377e+02 1.728540e+02 2.163791e-01 0 0 1 2.745884e-03",
    "P3": "7.215377e+02 0 6.095593e+02 -3.395242e+02 0 7.215377e+02 1.728540e+02 2.199936e+00 0 0 1 2.729905e-03",
    "R0_rect": "9.999239e-01 9.837760e-03 -7.445048e-03 -9.869795e-03 9.999421e-01 -4.278459e-03 "
               "7.402527e-03 4.351614e-03 9.999631e-01",
    "Tr_velo_to_cam": "7.533745e-03 -9.999714e-01 -6.166020e-04 -4.069766e-03 1.480249e-02 7.280733e-04 "
                      "-9.998902e-01 -7.631618e-02 9.998621e-01 7.523790e-03 1.480755e-02 -2.717806e-01",
    "Tr_imu_to_velo": "9.999976e-01 7.553071e-04 -2.035826e-03 -8.086759e-01 -7.854027e-04 9.998898e-01 "
                      "-1.482298e-02 3.195559e-01 2.024406e-03 1.482454e-02 9.998881e-01 -7.997231e-01",
}


def kitti_calibration() -> Calibration:
    """A fresh :class:`Calibration` holding all seven KITTI matrices (float64)."""
    shapes = {"R0_rect": (3, 3)}
    return Calibration(**{name: np.array(text.split(), dtype=np.float64).reshape(shapes.get(name, (3, 4)))
                          for name, text in _MATRICES.items()})


def camera2_centre_velo(calib: Calibration) -> np.ndarray:
    """Optical centre of camera 2 in the velodyne frame (metres), ``(3,)``: the point ``P2`` maps to ``(0, 0, 0)``."""
    centre_rect = -np.linalg.solve(calib.P2[:, :3], calib.P2[:, 3])
    return calib.rect_to_velo[:3, :3] @ centre_rect + calib.rect_to_velo[:3, 3]
