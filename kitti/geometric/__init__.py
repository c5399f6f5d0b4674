"""Training-free geometric labeller (2D boxes + scene points -> 3D boxes): ground plane, segmentation, BEV box fit,
heading and fit-quality score, one small module each; :func:`label_frame` is the library entry point and
:mod:`kitti.geometric.run` labels a split; :func:`fill_labels` completes predicted
labels with a box for every uncovered 2D box."""
from kitti.geometric.fill import fill_labels, uncovered
from kitti.geometric.labeller import FrameInputs, GeometricBox, label_frame, ray_box

__all__ = ["FrameInputs", "GeometricBox", "fill_labels", "label_frame", "ray_box", "uncovered"]
