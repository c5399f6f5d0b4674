"""The dataset registry (train.datasets) and the absence of the frustum <-> refinement dataset import cycle."""
from __future__ import annotations

from pathlib import Path

from tests.test_layering import imported_modules
from train.config import DataConfig
from train.datasets import DATASETS
from train.frustum_dataset import FrustumDataset
from train.refine_dataset import RefineDataset

REPO = Path(__file__).resolve().parents[2]


def test_registry_covers_every_data_kind() -> None:
    assert DATASETS == {"frustum": FrustumDataset, "refine": RefineDataset}
    assert DataConfig().kind in DATASETS


def test_frustum_dataset_does_not_import_its_users() -> None:
    imported = imported_modules(REPO / "train" / "frustum_dataset.py")
    assert not {"train.refine_dataset", "train.datasets"} & imported
