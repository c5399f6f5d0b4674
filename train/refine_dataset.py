"""Refinement provider (METHOD 11): samples of a refinement set (``kitti.prepare_data_refine``: the scene points
inside an enlarged, jittered pseudo-box ``region_box3d``; target ``box3d`` = the pseudo-box) in a local frame.

Frame: the rect frame rotated by the sample's RTC angle (``frustum_angle = -atan2(z, x)`` of the region centre, so
the region centre lies on the +z axis), then translated so that the region centre is the origin (``origin`` =
its rotated position). Reference centres: one line along z through the region centre, ``-L/2 + s/2 + k s < L/2``
with ``L = data.max_depth`` (e.g. 8 m covers an enlarged car seen from any angle) for each stride ``s``. This is a
fixed-length version of the published line through the near/far half centroids, padded by edge replication to a
common length: here every sample has the same length, so no padding is needed and the model is unchanged.

Slice labels use ``data.positive_scale`` / ``data.ignore_scale`` (0.3 / 0.6 in ``configs/refine_sample.yaml``);
training uses the plain ``full`` losses on the pseudo-boxes (they are the refinement stage's labels).
"""
from __future__ import annotations

import numpy as np

from kitti import geometry as g
from kitti.frustum_store import FrustumSample
from train.frustum_dataset import FrustumDataset


class RefineDataset(FrustumDataset):
    """:class:`train.frustum_dataset.FrustumDataset` with the refinement frame and reference line."""

    def _frame(self, sample: FrustumSample) -> tuple[np.ndarray, list[np.ndarray]]:
        if sample.region_box3d is None:
            raise ValueError(f"{self.frustums.path}: not a refinement set (no region_box3d); "
                             f"data.kind 'refine' needs kitti.prepare_data_refine output")
        x, yb, z, h = (float(v) for v in sample.region_box3d[:4])
        origin = g.rotate_to_center(np.array([[x, yb - h / 2, z]]), sample.frustum_angle)[0]
        half = self.cfg.max_depth / 2
        refs = [np.column_stack([np.zeros_like(d), np.zeros_like(d), d - half]) for d in self.depths]
        return origin, refs
