"""Ray casting against convex parts, and the proxy templates built from them."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from kitti.frustum.proxy_shapes import INSET, TEMPLATES
from kitti.frustum.raycast import ConvexShape, planes_from_vertices

CUBE = np.array(list(itertools.product([-0.5, 0.5], [0.0, 1.0], [-0.5, 0.5])))


def test_planes_of_a_cube_and_a_degenerate_set() -> None:
    planes = planes_from_vertices(CUBE)
    assert len(planes) == 6 and np.allclose(np.linalg.norm(planes[:, :3], axis=1), 1)
    assert (CUBE @ planes[:, :3].T <= planes[:, 3] + 1e-12).all()
    with pytest.raises(ValueError):
        planes_from_vertices(CUBE[CUBE[:, 2] < 0])  # flat


def test_first_hit_distances_parts_inside_and_misses() -> None:
    shape = ConvexShape.from_parts([CUBE, CUBE + [2.0, 0.0, 0.0]])
    dirs = np.array([[1.0, 0, 0], [0, 1, 0], [-1, 0, 0], [1, 0.1, 0]])
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    t, part = shape.first_hit(np.array([-3.0, 0.5, 0.0]), dirs)
    assert np.allclose(t[[0, 3]], [2.5, 2.5 / dirs[3, 0]]) and np.isinf(t[[1, 2]]).all()
    assert part.tolist() == [0, -1, -1, 0]
    t, part = shape.first_hit(np.array([5.0, 0.5, 0.0]), dirs)  # from the other side: the second part first
    assert t[2] == pytest.approx(2.5) and part[2] == 1
    t, _ = shape.first_hit(np.array([0.0, 0.5, 0.0]), dirs)  # from inside
    assert (t == 0).all()


@pytest.mark.parametrize("class_name", list(TEMPLATES))
def test_templates_fill_their_unit_box(class_name: str) -> None:
    for template in TEMPLATES[class_name]:
        assert len(template.returns) == template.shape.n_parts and (template.returns <= 1).all()
        lo, hi = template.shape.lo, template.shape.hi
        assert (lo >= [-0.5, 0, -0.5]).all() and (hi <= [0.5, 1, 0.5]).all()
        assert lo[1] == pytest.approx(INSET) and hi[1] == pytest.approx(1 - INSET)  # feet on the ground, full height
        if class_name in ("Car", "Cyclist"):  # rigid outlines reach the ends of the box
            assert lo[0] == pytest.approx(-0.5 + INSET, abs=2e-3) and hi[0] == pytest.approx(0.5 - INSET, abs=2e-3)
        if class_name == "Car":
            assert lo[2] == pytest.approx(-0.5 + INSET, abs=2e-3) and hi[2] == pytest.approx(0.5 - INSET, abs=2e-3)
