"""Checkpoints: atomic save (``torch.save`` to a BytesIO, then :func:`kitti.atomic.atomic_write_bytes`) and
``torch.load(..., weights_only=True)`` (no pickle of arbitrary objects).

Content: ``{"epoch": int (epochs completed), "model": state_dict, "optimizer": state_dict, "scheduler":
state_dict, "config": resolved config dict, "meta": {"step", "ratio", "supervision", ...}}``.
"""
from __future__ import annotations

import io
import pickle
import re
from pathlib import Path
from typing import Any

import torch

from kitti.atomic import JSON_MAX_DEPTH, atomic_write_bytes, json_depth_ok
from kitti.errors import CheckpointError


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "checkpoint not found")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        # PyTorch's message advises weights_only=False or allow-listing: the wrong advice for a malicious file
        found = re.search(r"GLOBAL (\S+)", str(exc))
        what = f" ({found.group(1)})" if found else ""
        raise CheckpointError(path, f"refused: the file holds a pickled Python object{what}, which could run code "
                                    f"when loaded; only plain tensor checkpoints (train_net_det's) are read") from None
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported with its path
        raise CheckpointError(path, f"not a readable checkpoint ({type(exc).__name__}: "
                                    f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise CheckpointError(path, "not a train_net_det checkpoint (no 'model' / 'config')")
    epoch = state.get("epoch", 0)
    if not (isinstance(state["model"], dict) and isinstance(state["config"], dict)
            and all(isinstance(v, dict) for v in state["config"].values())
            and isinstance(state.get("meta", {}), dict) and json_depth_ok(state["config"], JSON_MAX_DEPTH)
            and json_depth_ok(state.get("meta", {}), JSON_MAX_DEPTH)
            and isinstance(epoch, int) and not isinstance(epoch, bool) and 0 <= epoch <= 1_000_000):
        raise CheckpointError(path, "malformed train_net_det checkpoint (expected 'model' a state dict, 'config' a "
                                    "mapping of config sections, 'meta' a mapping and 'epoch' a count)")
    return state
