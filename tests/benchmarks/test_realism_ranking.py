"""benchmarks/realism_ranking.py: the paired sign test that separates an order from the noise of the frames, and the
triples of variants compared on hand-made per-car IoUs."""
from __future__ import annotations

import pytest

from benchmarks.realism_ranking import paired_sign_test, resolved_pairs, sign_test_p, triple_rows


def _figures(share: float, ious: list[float]) -> dict:
    return {"Car": {"median": 0.8, "share_ge_0.7": share, "share_ge_0.5": 1.0}, "car_iou": ious}


def test_sign_test() -> None:
    assert sign_test_p(0, 0) == 1.0 and sign_test_p(26, 26) == 1.0
    assert sign_test_p(5, 0) == pytest.approx(2 / 32)
    assert sign_test_p(17, 3) == pytest.approx(0.0026, abs=1e-4) and sign_test_p(3, 17) == sign_test_p(17, 3)


def test_a_tie_and_a_few_cars_are_no_order() -> None:
    base = [0.8] * 38
    half = paired_sign_test(base, [0.8] * 19 + [0.75] * 19)  # differences of 0.05 on half the cars, one way
    assert half["wins"] == 19 and half["order"] == 1
    small = paired_sign_test(base, [0.805] * 38)  # within MIN_IOU_DIFFERENCE: no car counts
    assert (small["wins"], small["losses"], small["order"]) == (0, 0, 0)
    few = paired_sign_test(base, [0.7] * 5 + [0.8] * 33)
    assert few["wins"] == 5 and few["order"] == 0  # p = 0.0625


def test_triples_and_resolved_pairs() -> None:
    good, mid, bad = [0.9] * 20, [0.85] * 20, [0.6] * 20
    real = {"a": _figures(0.9, good), "b": _figures(0.8, mid), "c": _figures(0.7, bad)}
    alike = {"a": _figures(0.95, good), "b": _figures(0.9, mid), "c": _figures(0.5, bad)}
    swapped = {"a": _figures(0.5, bad), "b": _figures(0.9, mid), "c": _figures(0.95, good)}
    (row,) = triple_rows(real, [alike, swapped])
    assert row["real"] == ["a", "b", "c"] and row["agree"] == [True, False] and row["real_pairs_resolved"] == 3
    assert row["resolved_alike_everywhere"] == 0  # the swapped world reverses every pair
    pairs = resolved_pairs(real, [alike, swapped])
    assert [(p["better"], p["worse"], p["worlds"]) for p in pairs] == [("a", "b", [1, -1]), ("a", "c", [1, -1]),
                                                                       ("b", "c", [1, -1])]
