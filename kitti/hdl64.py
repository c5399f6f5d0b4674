"""The Velodyne HDL-64E of KITTI, the one sensor description shared by the synthetic world's ray caster
(:mod:`kitti.synthetic.lidar`), the proxies' sensor model (:mod:`kitti.frustum.sensor`) and the geometric labeller's
sampling gap (:mod:`kitti.geometric.bevfit`)."""
from __future__ import annotations

import numpy as np

#: beam elevations (degrees, top to bottom): upper block of 32 lasers from +2.0 to -8.33 (~1/3 degree apart), lower
#: block of 32 from -8.83 to -24.8 (~1/2 degree apart): the sensor's 26.8 degree vertical field of view
HDL64_ELEVATIONS_DEG = np.concatenate([np.linspace(2.0, -8.33, 32), np.linspace(-8.83, -24.8, 32)])
#: vertical spacing (degrees) of the upper block's beams, the ones that see objects' tops from the car's roof
HDL64_UPPER_SPACING_DEG = float(np.mean(-np.diff(HDL64_ELEVATIONS_DEG[:32])))
#: azimuth step (degrees) as recorded in KITTI: median spacing of consecutive returns along one beam, measured on
#: real KITTI scans (0.180 degrees; 10 Hz, ~1800 returns per beam and turn)
HDL64_AZIMUTH_STEP_DEG = 0.18
#: range noise ``(absolute metres, relative)``, one sigma along the ray: the sensor's accuracy spec is < 2 cm
HDL64_RANGE_NOISE = (0.02, 0.0)
#: farthest return (metres): the real KITTI object scans stop at 80 m (the horizontal range of every one of the 14
#: reference frames tops out at 79.9-80.0 m)
HDL64_MAX_RANGE = 80.0
#: weakest return the sensor detects, as ``reflectance x cos(incidence) / range^2`` (m^-2): the HDL-64E S2 manual
#: specifies a range of 50 m on pavement of ~0.10 reflectance (and 120 m on cars and foliage of ~0.80: 5.6e-5)
HDL64_DETECTION_FLOOR = 0.10 / 50.0 ** 2
