"""Offline label review page for a run's final pseudo-labels.

* :mod:`kitti.review.metrics` - per-box review metrics: suspicion components, points in the box, match to GT;
* :mod:`kitti.review.export` - one frame's assets (camera JPEG, bird's-eye PNG, box data as a script);
* :mod:`kitti.review.build` - the whole page: every frame in parallel, the frame index, the static assets;
* :mod:`kitti.review.apply` - reviewer decisions (``decisions.json``) -> a KITTI ``label_2`` folder;
* ``assets/`` - the page itself (HTML, JavaScript, CSS), copied next to the data;
* ``python -m kitti.review {build,apply}`` - the command line.
"""
