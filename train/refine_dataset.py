"""Refinement provider (docs/design.md §6.5): samples of a refinement set (``kitti.frustum.refine_regions``: the scene
points inside an enlarged, jittered pseudo-box ``region_box3d``; target ``box3d`` = the pseudo-box) in a local frame.

Frame (docs/design.md §2: points translated to the region centre and rotated by its heading): the rect frame rotated
about y by ``ry_region + pi/2`` (:func:`kitti.geometry.rotate_to_center` with frame angle ``ry_region``), then
translated so that the region centre is the origin (``origin`` = its rotated position, metres). The region's length
axis is then the +z axis and its heading in the local frame is ``-pi/2``: the target heading is ``-pi/2`` plus the
correction of the input box's heading, the centre target is the correction of its centre. The batch's
``frustum_angle`` is this frame angle (``ry_region``); inference decodes with it. The stored ``frustum_angle``
(``-atan2(z, x)`` of the region centre) is not used by this provider.

Reference centres: one line along the local z axis (the region's length axis) through the region centre,
``-L/2 + s/2 + k s < L/2`` with ``L = data.max_depth`` (e.g. 8 m covers an enlarged car) for each stride ``s``.
Deviation from the published provider (line through the near/far corner-half centroids, variable length padded by
edge replication): a fixed-length line through the centre along the same axis, so no padding is needed and the
model is unchanged.

Slice labels use ``data.positive_scale`` / ``data.ignore_scale`` (0.3 / 0.6 in ``configs/refine_sample.yaml``);
training uses the plain ``full`` losses on the pseudo-boxes (they are the refinement stage's labels).
"""
from __future__ import annotations

import numpy as np

from kitti import geometry as g
from kitti.frustum.store import FrustumSample
from train.frustum_dataset import FrustumDataset


class RefineDataset(FrustumDataset):
    """:class:`train.frustum_dataset.FrustumDataset` with the refinement frame and reference line."""

    def _frame(self, sample: FrustumSample) -> tuple[float, np.ndarray, list[np.ndarray]]:
        if sample.region_box3d is None:
            raise ValueError(f"{self.frustums.path}: not a refinement set (no region_box3d); "
                             f"data.kind 'refine' needs kitti.frustum.refine_regions output")
        x, yb, z, h, _, _, ry = (float(v) for v in sample.region_box3d)
        origin = g.rotate_to_center(np.array([[x, yb - h / 2, z]]), ry)[0]
        half = self.cfg.max_depth / 2
        refs = [np.column_stack([np.zeros_like(d), np.zeros_like(d), d - half]) for d in self.depths]
        return ry, origin, refs
