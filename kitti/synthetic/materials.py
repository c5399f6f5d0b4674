"""Surface materials: LiDAR reflectivity and extra dropout, and the render texture style.

Reflectivity is the intensity returned at normal incidence (KITTI intensities are in [0, 1]; asphalt ~0.2-0.3,
car paint ~0.3-0.4, plates and reflectors high, vegetation ~0.1-0.2). Dropout is the extra probability that a
return is lost on that material: glass transmits most of the beam (0.80: on the noise-free world the top third of a
car's height held 0.33 of its points against 0.20 on the 14 real frames, the cabin glass being most of that third).
Colours are chosen per primitive (see :mod:`.shapes`).
"""
from __future__ import annotations

import numpy as np

ASPHALT, SIDEWALK, GRASS, LANE_PAINT, CAR_PAINT, GLASS, TYRE, PLATE, LIGHT, CLOTH, SKIN, METAL, WALL, BARK, \
    FOLIAGE, POLE = range(16)

#: material -> (reflectivity, extra dropout probability)
_TABLE = {
    ASPHALT: (0.32, 0.00), SIDEWALK: (0.38, 0.00), GRASS: (0.18, 0.02), LANE_PAINT: (0.70, 0.00),
    CAR_PAINT: (0.38, 0.02), GLASS: (0.10, 0.80), TYRE: (0.08, 0.15), PLATE: (0.98, 0.00), LIGHT: (0.85, 0.00),
    CLOTH: (0.30, 0.02), SKIN: (0.35, 0.02), METAL: (0.50, 0.05), WALL: (0.40, 0.00), BARK: (0.22, 0.02),
    FOLIAGE: (0.15, 0.20), POLE: (0.55, 0.00),
}
REFLECTIVITY = np.array([_TABLE[m][0] for m in range(len(_TABLE))], dtype=np.float64)
DROPOUT = np.array([_TABLE[m][1] for m in range(len(_TABLE))], dtype=np.float64)
