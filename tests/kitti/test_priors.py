"""Depth window of the 2D-only depth estimate: fixed (legacy) and depth-relative."""
from __future__ import annotations

import pytest

from kitti.priors import DEPTH_WINDOW_FRACTION, FAKE_OBJECT_RANGE, depth_estimate, depth_window

FOCAL = 721.5


@pytest.mark.parametrize("name", list(FAKE_OBJECT_RANGE))
def test_relative_window_grows_with_depth(name: str) -> None:
    ahead, behind = FAKE_OBJECT_RANGE[name]
    frac_behind, frac_ahead = DEPTH_WINDOW_FRACTION[name]
    for height_px in (200.0, 100.0, 40.0, 20.0):
        d = depth_estimate(name, height_px, FOCAL)
        lo, hi = depth_window(name, height_px, FOCAL)
        assert (lo, hi) == pytest.approx((d - behind, d + ahead))       # fixed: metres at any depth
        lo_r, hi_r = depth_window(name, height_px, FOCAL, relative=True)
        assert lo_r <= lo and hi_r >= hi                                    # never narrower than the fixed one
        assert (lo_r, hi_r) == pytest.approx((d - max(behind, frac_behind * d), d + max(ahead, frac_ahead * d)))
    far = depth_estimate(name, 20.0, FOCAL)
    lo_r, hi_r = depth_window(name, 20.0, FOCAL, relative=True)
    assert hi_r - lo_r == pytest.approx((frac_behind + frac_ahead) * far)  # far away: proportional to depth
