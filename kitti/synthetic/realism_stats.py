"""Distances of the realism report (:mod:`kitti.synthetic.realism`): two samples, one real and one synthetic,
compared by a KS statistic, a difference of shares or means, or a ratio of medians, each against its tolerance."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

#: fewest values on each side for a verdict
MIN_SAMPLES = 5
RATIO_TOLERANCE = (0.8, 1.25)


# --- distances --------------------------------------------------------------------------------------------------
def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic (largest gap between the empirical CDFs)."""
    a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, side="right") / a.size
                               - np.searchsorted(b, grid, side="right") / b.size)))


def ks_tolerance(n: int, m: int) -> float:
    """The two-sample KS critical value at the 5 % level."""
    return float(1.36 * np.sqrt((n + m) / (n * m)))


def share_tolerance(p_real: float, n: int, p_syn: float, m: int) -> float:
    pooled = (p_real * n + p_syn * m) / (n + m)
    return float(max(0.05, 1.96 * np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))))


def _median(values: np.ndarray) -> float | None:
    values = np.asarray(values, float)
    return float(np.median(values)) if values.size else None


def verdict(n: int, m: int, ok: bool) -> str:
    return "few" if min(n, m) < MIN_SAMPLES else ("ok" if ok else "off")


def compare_distributions(name: str, real: np.ndarray, syn: np.ndarray) -> dict[str, Any]:
    """A row comparing two samples: medians, KS statistic and its 5 % tolerance."""
    real, syn = np.asarray(real, float), np.asarray(syn, float)
    row: dict[str, Any] = {"statistic": name, "kind": "ks", "n_real": int(real.size), "n_syn": int(syn.size),
                           "real": _median(real), "syn": _median(syn), "distance": None, "tolerance": None}
    if real.size and syn.size:
        row["distance"] = ks_statistic(real, syn)
        row["tolerance"] = ks_tolerance(real.size, syn.size)
    row["verdict"] = verdict(real.size, syn.size, row["distance"] is not None
                              and row["distance"] <= row["tolerance"])
    return row


def _difference_row(name: str, kind: str, real: np.ndarray, syn: np.ndarray,
                    tolerance: float | Callable[[float, float], float]) -> dict[str, Any]:
    """A row comparing the means of two samples by their absolute difference; ``tolerance`` is fixed, or a function
    of the two means."""
    row: dict[str, Any] = {"statistic": name, "kind": kind, "n_real": int(real.size), "n_syn": int(syn.size),
                           "real": float(real.mean()) if real.size else None,
                           "syn": float(syn.mean()) if syn.size else None, "distance": None,
                           "tolerance": None if callable(tolerance) else tolerance}
    if real.size and syn.size:
        row["distance"] = abs(row["real"] - row["syn"])
        if callable(tolerance):
            row["tolerance"] = tolerance(row["real"], row["syn"])
    row["verdict"] = verdict(real.size, syn.size, row["distance"] is not None
                              and row["distance"] <= row["tolerance"])
    return row


def compare_shares(name: str, real: np.ndarray, syn: np.ndarray) -> dict[str, Any]:
    """A row comparing the share of True in two boolean samples."""
    real, syn = np.asarray(real, bool), np.asarray(syn, bool)
    return _difference_row(name, "share", real, syn, lambda r, s: share_tolerance(r, real.size, s, syn.size))


def compare_means(name: str, real: np.ndarray, syn: np.ndarray, tolerance: float = 0.05) -> dict[str, Any]:
    """A row comparing the means of two samples of fractions (absolute difference, fixed tolerance)."""
    return _difference_row(name, "mean", np.asarray(real, float), np.asarray(syn, float), tolerance)


def compare_medians(name: str, real: np.ndarray, syn: np.ndarray) -> dict[str, Any]:
    """A row comparing two samples by the ratio of their medians (synthetic / real)."""
    real, syn = np.asarray(real, float), np.asarray(syn, float)
    row: dict[str, Any] = {"statistic": name, "kind": "ratio", "n_real": int(real.size), "n_syn": int(syn.size),
                           "real": _median(real), "syn": _median(syn), "distance": None,
                           "tolerance": list(RATIO_TOLERANCE)}
    if row["real"] and row["syn"] is not None:
        row["distance"] = row["syn"] / row["real"]
    ok = row["distance"] is not None and RATIO_TOLERANCE[0] <= row["distance"] <= RATIO_TOLERANCE[1]
    row["verdict"] = verdict(real.size, syn.size, ok)
    return row
