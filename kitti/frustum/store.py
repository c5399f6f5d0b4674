"""On-disk frustum sets (``.npz``, no pickle) and their ``manifest.json``; :class:`train.frustum_dataset.FrustumDataset`
reads them.

Format (``format_version`` 2: 1 plus ``occlusion`` and ``truncation``). S samples, T points in total; every array is
a plain numpy array (``np.load(path, allow_pickle=False)``). Frames: rect camera frame (x right, y down, z forward,
metres), image_2 pixels; boxes3d are KITTI bottom-centre boxes ``(x, y_bottom, z, h, w, l, ry)``.

==================  ==============  ==============================================================================
name                dtype, shape    meaning
==================  ==============  ==============================================================================
format_version      int64 ()        2
points              float32 (T, 4)  x, y, z (rect, metres), intensity (LiDAR reflectance; 1.0 for pseudo-LiDAR)
point_offsets       int64 (S+1,)    sample i owns ``points[point_offsets[i]:point_offsets[i+1]]`` (CSR)
seg                 int8 (T,)       per point: 1 inside the sample's 3D box, 0 outside, -1 unknown (weak reals)
frame_id            int64 (S,)      KITTI frame id
label_line          int32 (S,)      1-based line in label_2 (pseudo-label file for refinement), -1 if injected
class_id            int8 (S,)       index into :data:`kitti.priors.CLASSES` (0 Car, 1 Pedestrian, 2 Cyclist)
kind                int8 (S,)       0 real, 1 synthetic proxy, 2 pasted pseudo-labelled instance, 3 real object
                                    with a trusted geometric fit (its 3D target: the fit, never ground truth)
box2d               float32 (S, 4)  ``x1, y1, x2, y2`` pixels: the (possibly jittered) box defining the frustum
box2d_target        float32 (S, 4)  2D-loss target: annotated box (reals), clipped projection (injected objects)
frustum_angle       float32 (S,)    radians, :func:`kitti.geometry.frustum_angle` of ``box2d``
has_3d              bool (S,)       ``box3d`` is known (injected objects, trusted fits, ``full`` mode, refinement
                                    pseudo-boxes)
box3d               float32 (S, 7)  bottom-centre box, NaN when unknown
depth_window        float32 (S, 2)  ``d_lo, d_hi`` metres (rect z): weak window from the class height prior
prev_box3d          float32 (S, 7)  steps >= 1: previous step's pseudo-box matched to this real 2D box, else NaN
score_2d            float32 (S,)    2D box confidence (1.0 for annotated boxes; pseudo-label score in refinement)
P2                  float32 (S,3,4) camera-2 projection of the frame
image_size          int32 (S, 2)    ``H, W`` pixels
occlusion           int8 (S,)       KITTI occlusion level 0..3 of the annotated 2D box (a 2D field), -1 if none
truncation          float32 (S,)    KITTI truncation in [0, 1] of the annotated 2D box (a 2D field), -1 if none
region_box3d        float32 (S, 7)  refinement sets only: the enlarged, jittered box whose points form the sample
                                    (val/pseudo refinement sets keep boxes without points as zero-point samples;
                                    the refinement provider works in this box's frame, not ``frustum_angle``'s)
==================  ==============  ==============================================================================

``<name>.manifest.json`` is written (atomically) after ``<name>.npz``: a set without manifest is incomplete.
The manifest holds ``format_version``, ``count``, ``counts`` per class and kind, ``points_total``, ``skipped``
(reason -> count), and whatever the writer passes (point source, supervision mode, seed, ``inputs``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from kitti.atomic import atomic_save_npz, atomic_write_text, file_digest, read_json_or_none, read_npz
from kitti.errors import KittiFormatError
from kitti.priors import CLASSES
from kitti.runner import same_inputs

FORMAT_VERSION = 2
KIND_REAL, KIND_PROXY, KIND_PASTED, KIND_TRUSTED = 0, 1, 2, 3
KIND_NAMES: tuple[str, ...] = ("real", "proxy", "pasted", "trusted")
NAN7 = np.full(7, np.nan, np.float32)

#: per-sample field -> (dtype, shape per sample); ``region_box3d`` is optional
_FIELDS: dict[str, tuple[type, tuple[int, ...]]] = {
    "frame_id": (np.int64, ()), "label_line": (np.int32, ()), "class_id": (np.int8, ()), "kind": (np.int8, ()),
    "box2d": (np.float32, (4,)), "box2d_target": (np.float32, (4,)), "frustum_angle": (np.float32, ()),
    "has_3d": (np.bool_, ()), "box3d": (np.float32, (7,)), "depth_window": (np.float32, (2,)),
    "prev_box3d": (np.float32, (7,)), "score_2d": (np.float32, ()), "P2": (np.float32, (3, 4)),
    "image_size": (np.int32, (2,)), "occlusion": (np.int8, ()), "truncation": (np.float32, ()),
}
_OPTIONAL = {"region_box3d": (np.float32, (7,))}


@dataclass
class FrustumSample:
    """One frustum sample; see the module docstring for units and frames."""

    frame_id: int
    label_line: int
    class_id: int
    kind: int
    box2d: np.ndarray
    box2d_target: np.ndarray
    frustum_angle: float
    has_3d: bool
    box3d: np.ndarray
    depth_window: np.ndarray
    prev_box3d: np.ndarray
    score_2d: float
    P2: np.ndarray
    image_size: np.ndarray
    points: np.ndarray
    seg: np.ndarray
    region_box3d: np.ndarray | None = None
    occlusion: int = -1
    truncation: float = -1.0

    @property
    def class_name(self) -> str:
        return CLASSES[self.class_id]

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind]


def manifest_path(path: str | Path) -> Path:
    """``<dir>/<name>.npz`` -> ``<dir>/<name>.manifest.json``."""
    path = Path(path)
    return path.with_name(path.stem + ".manifest.json")


def count_samples(class_id: np.ndarray, kind: np.ndarray) -> dict[str, dict[str, int]]:
    """``{class: {kind: n}}`` over every class and kind (zeros included)."""
    return {name: {kname: int(np.sum((class_id == c) & (kind == k))) for k, kname in enumerate(KIND_NAMES)}
            for c, name in enumerate(CLASSES)}


def write_frustum_set(path: str | Path, samples: Sequence[FrustumSample], skipped: dict[str, int],
                      **manifest: Any) -> dict[str, Any]:
    """Write ``samples`` to ``path`` (.npz, uncompressed for speed) then the manifest; returns the manifest."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {"format_version": np.int64(FORMAT_VERSION)}
    sizes = np.array([len(s.points) for s in samples], np.int64)
    arrays["point_offsets"] = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    arrays["points"] = (np.concatenate([s.points for s in samples]).astype(np.float32) if samples
                        else np.zeros((0, 4), np.float32))
    arrays["seg"] = (np.concatenate([s.seg for s in samples]).astype(np.int8) if samples else np.zeros(0, np.int8))
    fields = dict(_FIELDS)
    if samples and any(s.region_box3d is not None for s in samples):
        fields.update(_OPTIONAL)
    for name, (dtype, shape) in fields.items():
        arrays[name] = np.array([getattr(s, name) for s in samples], dtype=dtype).reshape(len(samples), *shape)
    digest = atomic_save_npz(path, compressed=False, **arrays)
    info = {"format_version": FORMAT_VERSION, "file": path.name, "sha256": digest, "count": len(samples),
            "points_total": int(sizes.sum()),
            "counts": count_samples(arrays["class_id"], arrays["kind"]), "skipped": dict(sorted(skipped.items())),
            **manifest}
    atomic_write_text(manifest_path(path), json.dumps(info, indent=2, sort_keys=True) + "\n")
    return info


def read_manifest(path: str | Path) -> dict[str, Any] | None:
    """The manifest of the set at ``path`` (.npz path), or None when it does not exist or is unreadable."""
    return read_json_or_none(manifest_path(path))


def is_complete(path: str | Path, inputs: dict[str, Any]) -> bool:
    """True when ``path`` and its manifest exist, the format version matches, the manifest's ``inputs`` equal
    ``inputs`` (JSON-normalised) and the file's content hash is the recorded one (a truncated or corrupt file is
    rebuilt, never reported up to date): the set need not be rebuilt."""
    manifest = read_manifest(path)
    return (manifest is not None and Path(path).is_file() and manifest.get("format_version") == FORMAT_VERSION
            and same_inputs(manifest, inputs) and manifest.get("sha256") == file_digest(path))


class FrustumSet:
    """A loaded frustum set: ``len(s)``, ``s[i]`` -> :class:`FrustumSample`, and the raw arrays in ``s.arrays``."""

    def __init__(self, arrays: dict[str, np.ndarray], path: str = "") -> None:
        self.arrays = arrays
        self.path = path

    @classmethod
    def load(cls, path: str | Path) -> "FrustumSet":
        path = Path(path)
        arrays = read_npz(path, "frustum set")
        version = arrays.get("format_version")
        if version is None or int(version) != FORMAT_VERSION:
            raise KittiFormatError(path, f"format_version {version} (expected {FORMAT_VERSION})")
        missing = sorted({"points", "point_offsets", "seg", *_FIELDS} - set(arrays))
        if missing:
            raise KittiFormatError(path, f"missing arrays {', '.join(missing)}")
        n = len(arrays["point_offsets"]) - 1
        if any(len(arrays[name]) != n for name in _FIELDS) or arrays["point_offsets"][-1] != len(arrays["points"]):
            raise KittiFormatError(path, "inconsistent array lengths")
        for name, count in (("class_id", len(CLASSES)), ("kind", len(KIND_NAMES))):
            bad = (arrays[name] < 0) | (arrays[name] >= count)
            if bad.any():
                raise KittiFormatError(path, f"{name} {int(arrays[name][bad][0])} of sample {int(np.argmax(bad))} "
                                             f"is out of range (expected 0..{count - 1})")
        return cls(arrays, str(path))

    def __len__(self) -> int:
        return len(self.arrays["point_offsets"]) - 1

    def __getitem__(self, index: int) -> FrustumSample:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        index %= len(self)
        a = self.arrays
        lo, hi = int(a["point_offsets"][index]), int(a["point_offsets"][index + 1])
        values: dict[str, Any] = {}
        for name in _FIELDS:
            value = a[name][index]
            values[name] = value.item() if value.ndim == 0 else value
        region = a["region_box3d"][index] if "region_box3d" in a else None
        return FrustumSample(**values, points=a["points"][lo:hi], seg=a["seg"][lo:hi], region_box3d=region)
