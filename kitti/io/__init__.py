"""KITTI file formats: calibration, labels, point clouds, images, depth maps and the data-set layout.

Nothing here imports from :mod:`kitti.frustum` or :mod:`kitti.depth` (checked by a layering test)."""
