"""Compiled rotated-box ops: BEV and 3D IoU, rotated NMS, points-in-boxes (C++ and CUDA; ``cd ops && bash make.sh``).

Frame and layouts: every box lives in the KITTI rect camera frame (x right, y down, z forward), metres and radians.

* BEV boxes ``(x, z, l, w, ry)``: a rectangle in the (x, z) ground plane.
* KITTI boxes ``(x, y_bottom, z, h, w, l, ry)`` (bottom centre): the same rectangle from ``(x, z, l, w, ry)``,
  spanning ``y in [y_bottom - h, y_bottom]``.

The corners of a rectangle are ``centre + (c lx + s lz, -s lx + c lz)`` with ``c, s = cos ry, sin ry`` and
``(lx, lz) in {(+-l/2, +-w/2)}``: the length axis points along ``(cos ry, -sin ry)`` in (x, z), as in
:mod:`kitti.geometry`. 3D IoU = ground intersection area x vertical overlap / (volume_a + volume_b - intersection).

Inputs are numpy arrays, torch tensors (detached and moved to the host) or anything ``np.asarray`` accepts.
float32 and float64 inputs are computed in their own precision (a float32/float64 mix in float64); other numeric
dtypes are converted to float64. C-contiguous float32/float64 arrays reach the compiled code without a copy. IoU
results have the compute dtype, indices are int64. Coordinates must be finite (``ValueError`` otherwise). A box
with ``l <= 0`` or ``w <= 0`` (or ``h <= 0`` for 3D) is empty: its IoU with anything is 0 and it contains no point
(so KITTI DontCare rows with ``-1`` sizes are harmless).

Accuracy: the intersection polygon is exact up to rounding (Sutherland-Hodgman clipping with an inclusive
tolerance band of 16 machine epsilons x the summed circumradii); against shapely the float64 IoU differs by
< 1e-12, float32 by ~1e-6. Identical boxes give exactly 1.

``device="cpu"`` (default) runs the single-threaded C++ module; ``device="cuda"`` the CUDA module (see
:func:`cuda_available`); both take and return host numpy arrays and share the same geometry code.
"""
from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import Any, Literal

import numpy as np

__all__ = ["iou_bev", "iou_3d", "iou_bev_pairs", "iou_3d_pairs", "nms_bev", "nms_3d", "points_in_boxes",
           "cuda_available", "Device"]

Device = Literal["cpu", "cuda"]

#: columns of a BEV box ``(x, z, l, w, ry)`` and of a KITTI box ``(x, y_bottom, z, h, w, l, ry)``
BEV_COLUMNS = 5
KITTI_COLUMNS = 7
_LAYOUTS = {BEV_COLUMNS: "(x, z, l, w, ry)", KITTI_COLUMNS: "(x, y_bottom, z, h, w, l, ry)"}


@functools.cache
def _load(name: str) -> ModuleType:
    try:
        return importlib.import_module(f".{name}", __name__)
    except ImportError as error:
        raise ImportError(f"compiled ops module ops.{name} is missing or does not load ({error}); "
                          f"run `cd ops && bash make.sh`") from error


def cuda_available() -> bool:
    """True when the CUDA module is built and loads and at least one CUDA device is visible."""
    try:
        return _load("_ops_cuda").device_count() > 0
    except ImportError:
        return False


def _backend(device: Device) -> ModuleType:
    if device == "cpu":
        return _load("_ops_cpu")
    if device == "cuda":
        module = _load("_ops_cuda")
        if module.device_count() == 0:
            raise RuntimeError("device='cuda': no CUDA device is visible (driver missing or no GPU); use device='cpu'")
        return module
    raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")


def _to_numpy(value: Any, name: str) -> np.ndarray:
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # torch.Tensor
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name}: expected a real numeric array, got dtype {array.dtype}")
    return array


def _common_float(named: dict[str, Any]) -> dict[str, np.ndarray]:
    """Converts the named inputs to C-contiguous arrays of one float dtype (float32 only if all are float32)."""
    arrays = {name: _to_numpy(value, name) for name, value in named.items()}
    dtype = np.float32 if all(a.dtype == np.float32 for a in arrays.values()) else np.float64
    out = {}
    for name, array in arrays.items():
        array = np.ascontiguousarray(array, dtype=dtype)
        if not np.isfinite(array).all():
            raise ValueError(f"{name}: contains NaN or infinite values")
        out[name] = array
    return out


def _check_rows(array: np.ndarray, name: str, columns: int, at_least: bool = False) -> np.ndarray:
    if array.size == 0 and array.ndim == 1:  # an empty list: no rows
        return array.reshape(0, columns)
    if array.ndim != 2 or (array.shape[1] < columns if at_least else array.shape[1] != columns):
        layout = f"(N, {columns}+) with x, y, z first" if at_least else f"(N, {columns}) {_LAYOUTS[columns]}"
        raise ValueError(f"{name}: expected shape {layout}, got {array.shape}")
    return array


def _box_pair(a: Any, b: Any, columns: int) -> tuple[np.ndarray, np.ndarray]:
    arrays = _common_float({"a": a, "b": b})
    return _check_rows(arrays["a"], "a", columns), _check_rows(arrays["b"], "b", columns)


def iou_bev(a: Any, b: Any, device: Device = "cpu") -> np.ndarray:
    """Rotated ground-plane IoU of every pair: ``(N, M)`` for BEV boxes ``a (N, 5)``, ``b (M, 5)``
    ``(x, z, l, w, ry)`` (rect frame, metres, radians)."""
    a, b = _box_pair(a, b, BEV_COLUMNS)
    return _backend(device).iou_bev(a, b)


def iou_3d(a: Any, b: Any, device: Device = "cpu") -> np.ndarray:
    """3D IoU of every pair: ``(N, M)`` for KITTI boxes ``a (N, 7)``, ``b (M, 7)``
    ``(x, y_bottom, z, h, w, l, ry)`` (rect frame, metres, radians)."""
    a, b = _box_pair(a, b, KITTI_COLUMNS)
    return _backend(device).iou_3d(a, b)


def iou_bev_pairs(a: Any, b: Any, device: Device = "cpu") -> np.ndarray:
    """Rotated ground-plane IoU of matched pairs: ``(N,)`` for BEV boxes ``a, b (N, 5)`` ``(x, z, l, w, ry)``."""
    a, b = _box_pair(a, b, BEV_COLUMNS)
    if len(a) != len(b):
        raise ValueError(f"a and b must hold the same number of boxes, got {len(a)} and {len(b)}")
    return _backend(device).iou_bev_pairs(a, b)


def iou_3d_pairs(a: Any, b: Any, device: Device = "cpu") -> np.ndarray:
    """3D IoU of matched pairs: ``(N,)`` for KITTI boxes ``a, b (N, 7)`` ``(x, y_bottom, z, h, w, l, ry)``."""
    a, b = _box_pair(a, b, KITTI_COLUMNS)
    if len(a) != len(b):
        raise ValueError(f"a and b must hold the same number of boxes, got {len(a)} and {len(b)}")
    return _backend(device).iou_3d_pairs(a, b)


def _nms(kind: str, columns: int, boxes: Any, scores: Any, threshold: float, top_k: int | None,
         device: Device) -> np.ndarray:
    arrays = _common_float({"boxes": boxes, "scores": scores})
    boxes = _check_rows(arrays["boxes"], "boxes", columns)
    scores = arrays["scores"]
    if scores.shape != (len(boxes),):
        raise ValueError(f"scores: expected shape ({len(boxes)},) matching boxes, got {scores.shape}")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)) \
            or not np.isfinite(threshold):
        raise ValueError(f"threshold: expected a finite number, got {threshold!r}")
    if top_k is None:
        top_k = len(boxes)
    elif isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 0:
        raise ValueError(f"top_k: expected None or an integer >= 0, got {top_k!r}")
    return getattr(_backend(device), kind)(boxes, scores, float(threshold), int(top_k))


def nms_bev(boxes: Any, scores: Any, threshold: float, top_k: int | None = None,
            device: Device = "cpu") -> np.ndarray:
    """Greedy rotated NMS in the ground plane for BEV boxes ``(N, 5)`` ``(x, z, l, w, ry)`` and ``scores (N,)``.

    Boxes are visited by descending score (ties: lower index first); a box is suppressed when its IoU with an
    already kept box is strictly greater than ``threshold`` (the F-ConvNet code suppressed at ``>=``; the two only
    differ for exact ties). Returns the kept indices, int64, in descending score order, at most ``top_k`` of them.
    """
    return _nms("nms_bev", BEV_COLUMNS, boxes, scores, threshold, top_k, device)


def nms_3d(boxes: Any, scores: Any, threshold: float, top_k: int | None = None,
           device: Device = "cpu") -> np.ndarray:
    """Greedy 3D NMS for KITTI boxes ``(N, 7)`` ``(x, y_bottom, z, h, w, l, ry)``; otherwise as :func:`nms_bev`
    (suppress when 3D IoU > ``threshold``, kept indices int64 by descending score, at most ``top_k``)."""
    return _nms("nms_3d", KITTI_COLUMNS, boxes, scores, threshold, top_k, device)


def points_in_boxes(points: Any, boxes: Any, device: Device = "cpu") -> np.ndarray:
    """For each point, the index of the box containing it, or -1: int64 ``(N,)``.

    ``points (N, 3+)`` rect frame (x, y, z first; further columns are ignored), ``boxes (M, 7)`` KITTI
    ``(x, y_bottom, z, h, w, l, ry)``. Faces are inclusive and the test is the arithmetic of
    :func:`kitti.geometry.points_in_boxes_mask` (it agrees exactly, up to the last bit of cos/sin for points on a
    face). When boxes overlap, the lowest box index wins. float32 input is tested in float32.
    """
    arrays = _common_float({"points": points, "boxes": boxes})
    points = _check_rows(arrays["points"], "points", 3, at_least=True)
    boxes = _check_rows(arrays["boxes"], "boxes", KITTI_COLUMNS)
    return _backend(device).points_in_boxes(points, boxes)
