"""The embedded SYNTHETIC KITTI WORLD: procedurally sampled street scenes, ray-cast LiDAR, camera, depth and labels.

Modules (one job each):

* :mod:`.calibration` - the real KITTI calibration (drive 2011_09_26) and image size used for every frame.
* :mod:`.materials` - surface materials: LiDAR reflectivity / dropout and render colours.
* :mod:`.primitives` - oriented boxes, cylinders and ellipsoids (velodyne frame) collected into flat arrays.
* :mod:`.raycast` - the one ray-vs-primitive core (numba) shared by the LiDAR, the camera and the label renderer.
* :mod:`.shapes` - composite objects (car, van, pedestrian, cyclist) and clutter (buildings, trees, poles, hedges).
* :mod:`.street` - street layout and object placement for one frame (deterministic for a seed).
* :mod:`.lidar` - Velodyne HDL-64E model: beams, range noise, dropout, intensity.
* :mod:`.camera` - image_2 render (flat shading), instance map and camera-2 depth map.
* :mod:`.annotate` - KITTI labels from the instance map and the object geometry.
* :mod:`.depth_error` - optional monocular depth error model.
* :mod:`.generate` - one frame end to end, the data set writer (resume, process pool, splits, manifest).

Command line: ``python -m kitti.synthetic --out data/synthetic --frames N --seed S``.
"""
