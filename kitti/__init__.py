"""The data side: KITTI readers and writers, geometry, the synthetic KITTI world, the ALPI frustum sets, the
geometric labeller, depth sources, evaluation and the review page.

Conventions used throughout the package (docs/design.md §2):

* velodyne frame: x forward, y left, z up, metres.
* rect camera frame (camera 0 rectified): x right, y down, z forward, metres.
* image frame of camera 2 (``image_2``): u right, v down, pixels.
* KITTI 3D boxes are bottom-centre boxes: ``(x, y, z)`` is the centre of the bottom face in the rect frame,
  ``(h, w, l)`` in metres, ``ry`` the rotation about the rect y axis in radians (0 = facing +x).
"""
