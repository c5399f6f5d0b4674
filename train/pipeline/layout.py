"""Names of the stage directories under the output root (the published naming, ratio zero-padded to 3 digits)."""
from __future__ import annotations

from pathlib import Path

CATEGORY = "carpedcyc"
REFINE_DIR = f"{CATEGORY}_train_refine"
#: final pseudo-labels of a run (never the data set's own label folders)
FINAL_LABELS_DIR = "label_2_pseudo"
#: the training-free geometric labeller's labels of the train frames (a baseline; kitti.geometric)
GEOMETRIC_DIR = "geometric_labels"


def step_dir_name(step: int, ratio: int) -> str:
    """``carpedcyc_step_00`` for step 0 (the ratio does not apply), ``carpedcyc_step_0S_ratio_RRR`` after it."""
    if step < 0 or not 0 <= ratio <= 100:
        raise ValueError(f"step must be >= 0 and ratio in 0..100, got step {step}, ratio {ratio}")
    return f"{CATEGORY}_step_00" if step == 0 else f"{CATEGORY}_step_{step:02d}_ratio_{ratio:03d}"


def step_dir(output: Path, step: int, ratio: int) -> Path:
    return output / step_dir_name(step, ratio)


def refine_dir(output: Path) -> Path:
    return output / REFINE_DIR
