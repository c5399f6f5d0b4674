"""Full heading (over 2 pi) of a geometric box whose fit knows it modulo pi only.

A fitted rectangle tells the length axis, not which end is the front. Three cues decide it, the first that speaks:

1. **A car's profile** (:func:`front_end_by_profile`): the bonnet of a car is lower than its rear (boot lid, rear
   window or tailgate). Along the length axis, the highest object point within :data:`END_BAND` metres of each
   end of the visible span is compared; the lower end is the front when it is at least :data:`MIN_STEP` metres
   lower. It needs :data:`MIN_PROFILE_POINTS` points over a visible span of :data:`MIN_SPAN` metres, with
   :data:`MIN_END_POINTS` in each end band (an object seen end-on shows one face only, whose profile says nothing).
2. **A car seen end-on** (:func:`front_end_by_cabin`): the cabin (glass and roof) starts far behind the front
   bumper, past the bonnet (about 1.2-1.6 m on common cars), and close to the rear one (0-0.9 m: tailgate,
   boot lid). The recess is measured on the visible end, from its face (the furthest-forward point below
   :data:`LOW_BAND` of the box height) to the nearest cabin point (above :data:`CABIN_BAND`): at least
   :data:`FRONT_RECESS` metres says front, at most :data:`REAR_RECESS` rear, between says nothing.
3. **The road side** (:func:`road_side_direction`): traffic drives on the right. Among real KITTI objects whose
   length axis lies along the road (``|sin ry| > sin 45``), most of those left of the camera come toward it and
   most on its right drive away; crossing objects lean weakly to one side. :data:`ROAD_SIDE` holds these shares
   per lateral bin, computed from the label files of 7,462 real KITTI training frames (the 14 evaluation frames
   left out) by ``benchmarks/label_priors.py``; see ``kitti/geometric/SOURCES.md``. Pedestrians walk both ways:
   their shares are near 0.5 and their direction is close to a coin toss.

Rect camera frame (x right, y down, z forward); a KITTI heading ``ry`` points the length axis along
``(cos ry, -sin ry)`` in BEV ``(x, z)``; ``ry = -pi/2`` drives away from the camera.
"""
from __future__ import annotations

import numpy as np

#: lateral bin edges (rect x, metres) of the along-road shares
ALONG_EDGES = (-8.0, -4.0, -2.0, 0.0, 2.0, 4.0, 8.0)
#: lateral bin edges (rect x, metres) of the crossing shares
CROSS_EDGES = (-4.0, 0.0, 4.0)
#: per class: (share pointing away from the camera per :data:`ALONG_EDGES` bin among objects along the road,
#: share pointing to +x per :data:`CROSS_EDGES` bin among crossing ones); ``benchmarks/label_priors.py``
ROAD_SIDE: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "Car": ((0.25, 0.28, 0.31, 0.81, 0.88, 0.9, 0.85, 0.77), (0.37, 0.3, 0.71, 0.6)),
    "Pedestrian": ((0.33, 0.47, 0.49, 0.34, 0.54, 0.52, 0.65, 0.44), (0.57, 0.58, 0.4, 0.35)),
    "Cyclist": ((0.35, 0.08, 0.03, 0.27, 0.64, 0.81, 0.91, 0.96), (0.76, 0.83, 0.45, 0.5)),
}
#: metres at each end of the visible span whose highest point describes that end
END_BAND = 0.7
#: the front end must be at least this much lower (metres) than the rear end
MIN_STEP = 0.15
#: fewest points, shortest visible span (metres, along the length axis) and fewest points in each end band for the
#: profile cue: both ends must be seen
MIN_PROFILE_POINTS = 20
MIN_SPAN = 1.5
MIN_END_POINTS = 5
#: classes whose profile tells the front (a bonnet is lower than the rear)
PROFILE_CLASSES = ("Car",)
#: cabin-recess cue: points below LOW_BAND of the box height are the end face (bumper, boot, grille), points above
#: CABIN_BAND the cabin; metres of recess that say front / rear (between: no decision)
LOW_BAND = 0.5
CABIN_BAND = 0.7
FRONT_RECESS = 1.2
REAR_RECESS = 0.9
#: fewest points in each band, and the least ``|cos|`` between the length axis and the sensor ray (end-on view)
MIN_BAND_POINTS = 3
MIN_END_ON_COS = float(np.cos(np.radians(45.0)))


def wrap(angle: float) -> float:
    """``angle`` in ``(-pi, pi]`` (radians)."""
    return float(np.pi - np.mod(np.pi - angle, 2 * np.pi))


def front_end_by_profile(along: np.ndarray, heights: np.ndarray) -> int:
    """+1 if the front is at the ``+along`` end, -1 at the ``-along`` end, 0 when the profile does not say.
    ``along (N,)`` metres along the length axis, ``heights (N,)`` metres above the ground, of an object's points."""
    if len(along) < MIN_PROFILE_POINTS:
        return 0
    lo, hi = float(along.min()), float(along.max())
    if hi - lo < MIN_SPAN:
        return 0
    low_band, high_band = along < lo + END_BAND, along > hi - END_BAND
    if min(int(low_band.sum()), int(high_band.sum())) < MIN_END_POINTS:
        return 0
    low_end, high_end = float(heights[low_band].max()), float(heights[high_band].max())
    if high_end <= low_end - MIN_STEP:
        return 1
    if low_end <= high_end - MIN_STEP:
        return -1
    return 0


def front_end_by_cabin(along: np.ndarray, heights: np.ndarray, box_height: float, near_end: int) -> int:
    """+1 if the front is at the ``+along`` end, -1 at the ``-along`` end, 0 when the cabin recess does not say.
    ``along (N,)`` metres along the length axis and ``heights (N,)`` metres above the ground of an object's points,
    ``box_height`` metres, ``near_end`` (+1 / -1) the end facing the sensor (module docstring, cue 2)."""
    ahead = along * near_end  # larger = nearer to the visible end
    low, cabin = heights < LOW_BAND * box_height, heights > CABIN_BAND * box_height
    if min(int(low.sum()), int(cabin.sum())) < MIN_BAND_POINTS:
        return 0
    recess = float(ahead[low].max() - ahead[cabin].max())
    if recess >= FRONT_RECESS:
        return near_end
    if recess <= REAR_RECESS:
        return -near_end
    return 0


def road_side_direction(class_name: str, x: float, ry: float) -> float:
    """``ry`` or ``ry + pi`` (wrapped), whichever the road-side shares :data:`ROAD_SIDE` make likelier for an
    object of ``class_name`` at lateral position ``x`` (rect, metres)."""
    along_shares, cross_shares = ROAD_SIDE[class_name]
    if abs(np.sin(ry)) > np.sin(np.pi / 4):
        away = along_shares[int(np.digitize(x, ALONG_EDGES))] >= 0.5
        points_away = np.sin(ry) < 0
        return wrap(ry if away == points_away else ry + np.pi)
    right = cross_shares[int(np.digitize(x, CROSS_EDGES))] >= 0.5
    points_right = np.cos(ry) > 0
    return wrap(ry if right == points_right else ry + np.pi)


def orient(class_name: str, box: np.ndarray, points: np.ndarray | None = None,
           heights: np.ndarray | None = None) -> np.ndarray:
    """``box`` (KITTI 7-vector, rect, heading known mod pi) with its heading turned to the likelier direction:
    by the profile of ``points (N, 3)`` (rect) at ``heights (N,)`` metres above the ground when it speaks, else by
    the cabin recess of an end-on view, else by the road side (module docstring)."""
    out = np.array(box, np.float64)
    ry = float(out[6])
    if class_name in PROFILE_CLASSES and points is not None and heights is not None:
        axis = np.array([np.cos(ry), -np.sin(ry)])
        along = (points[:, [0, 2]] - out[[0, 2]]) @ axis
        front = front_end_by_profile(along, heights)
        centre = out[[0, 2]]
        if not front and abs(float(axis @ centre)) >= MIN_END_ON_COS * float(np.linalg.norm(centre)):
            front = front_end_by_cabin(along, heights, float(out[3]), 1 if axis @ centre < 0 else -1)
        if front:
            out[6] = wrap(ry if front > 0 else ry + np.pi)
            return out
    out[6] = road_side_direction(class_name, float(out[0]), ry)
    return out
