"""The demo summary's realism table (issue 23): the geometric labeller on the demo world beside the same labeller on
real KITTI frames, per class (median 3D IoU, shares at IoU >= 0.7 / 0.5) with the gap and its tolerance
(:func:`kitti.synthetic.realism.summary_table`).

Real frames are read from ``$ALPI_KITTI_REAL`` or, when that is unset, from ``../shared/kitti_real`` beside the
repository (a KITTI root with ``training/`` and 3D labels); without them the section says so. Their 3D labels are read
for this evaluation only. Both sides are labelled in a temporary directory (about 15 s for 100 + 14 frames on 2
cores), so the run's output holds no links to the data.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from kitti.synthetic.realism import summary_table
from kitti.synthetic.realism_budget import budget_table, labeller_budget, target_gaps

REPO = Path(__file__).resolve().parents[2]
#: environment variable naming the real KITTI root
REAL_ENV = "ALPI_KITTI_REAL"
TITLE = "## The synthetic world beside real KITTI frames (geometric labeller, every frame)"


def real_root() -> Path | None:
    """The real KITTI root (module docstring), or None when it is not at hand."""
    root = Path(os.environ[REAL_ENV]) if os.environ.get(REAL_ENV) else REPO.parent / "shared" / "kitti_real"
    return root if (root / "training" / "label_2").is_dir() and (root / "training" / "calib").is_dir() else None


def realism_gap(world: Path, workers: int = 1) -> dict[str, Any] | None:
    """``{"real": root, "budget": rows, "targets": gaps}`` of the labeller on ``world`` and the real frames, or None
    without real frames."""
    real = real_root()
    if real is None:
        return None
    with tempfile.TemporaryDirectory(prefix="alpi-realism-") as tmp:
        rows = budget_table(labeller_budget(real, Path(tmp) / "real", workers),
                            labeller_budget(world, Path(tmp) / "world", workers))
    return {"real": str(real), "budget": rows, "targets": target_gaps(rows)}


def realism_section(gap: dict[str, Any] | None) -> list[str]:
    """Markdown lines of the summary's realism section for :func:`realism_gap`'s result."""
    if gap is None:
        return [TITLE, "", f"Real KITTI frames not found: set {REAL_ENV} to a KITTI root with 3D labels to see how "
                f"far this world's figures are from real ones.", ""]
    return [TITLE, "", f"Real frames: {gap['real']}. Gap = |synthetic - real|; the tolerances are issue 23's targets.",
            "", summary_table(gap), ""]
