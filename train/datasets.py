"""Dataset registry: the torch Dataset class of each ``data.kind`` (:class:`train.config.DataConfig`).

``frustum``: :class:`train.frustum_dataset.FrustumDataset` (the step models); ``refine``:
:class:`train.refine_dataset.RefineDataset` (the refinement stage). Both produce the same keys, so model, losses
and inference are shared. The registry sits above both modules, so neither imports the other's users.
"""
from __future__ import annotations

from kitti.frustum.store import FrustumSet
from train.config import DataConfig
from train.frustum_dataset import FrustumDataset
from train.refine_dataset import RefineDataset

DATASETS: dict[str, type[FrustumDataset]] = {"frustum": FrustumDataset, "refine": RefineDataset}


def build_dataset(frustums: FrustumSet, cfg: DataConfig, supervision: str = "weak", augment: bool = False,
                  seed: int = 0) -> FrustumDataset:
    """The Dataset of ``cfg.kind`` (:data:`DATASETS`) over ``frustums``."""
    if cfg.kind not in DATASETS:
        raise ValueError(f"data.kind must be one of {', '.join(DATASETS)}, got {cfg.kind!r}")
    return DATASETS[cfg.kind](frustums, cfg, supervision, augment, seed)
