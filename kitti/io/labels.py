"""KITTI ``label_2`` files: reader (full or 2D-only), formatter and atomic writer.

One object per line, 15 fields (ground truth) or 16 (predictions, last = score)::

    type truncated occluded alpha x1 y1 x2 y2 h w l x y z rotation_y [score]

``x1 y1 x2 y2`` is the 2D box in image_2 pixels; ``h w l`` the box size in metres; ``x y z`` the centre of the box's
bottom face in the rect camera frame (x right, y down, z forward); ``rotation_y`` the heading about the rect y axis.

**2D labels only.** The training and model-selection path must read labels through :func:`read_labels_2d`, which
returns :class:`Label2D` objects that do not carry (and never parse) the 3D fields of real objects. The full
:class:`ObjectLabel` is for evaluation, the synthetic world, the explicitly named ``full`` supervision mode
(:data:`SUPERVISION`) and our own pseudo-labels (:func:`read_pseudo_labels`: predictions with a score).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from kitti.atomic import atomic_write_text
from kitti.errors import KittiFormatError

#: supervision modes: ``weak`` reads the 2D fields of real objects only (ALPI), ``full`` their 3D boxes too (the
#: fully supervised upper bound)
SUPERVISION = ("weak", "full")
#: two labels of one class stand for the same 2D box when their 2D boxes overlap this much (a pseudo-box and a real
#: 2D label, a learned box and a geometric fit)
PREV_MATCH_IOU = 0.5

KITTI_TYPES: tuple[str, ...] = (
    "Car", "Van", "Truck", "Pedestrian", "Person_sitting", "Cyclist", "Tram", "Misc", "DontCare",
)


@dataclass(frozen=True)
class Label2D:
    """What the 2D-only training path may know about a labelled object: class, truncation, occlusion, 2D box.

    ``box2d`` is ``(x1, y1, x2, y2)`` in image_2 pixels (float). ``line`` is the 1-based line in ``source``.
    """

    type: str
    truncation: float
    occlusion: int
    box2d: tuple[float, float, float, float]
    source: str = ""
    line: int = 0

    @property
    def height_px(self) -> float:
        """2D box height in pixels (``y2 - y1``, as the KITTI difficulty filter measures it)."""
        return self.box2d[3] - self.box2d[1]


@dataclass(frozen=True)
class ObjectLabel(Label2D):
    """A full KITTI label line (evaluation, synthetic ground truth, ``full`` supervision, predictions).

    ``dims`` is ``(h, w, l)`` metres; ``location`` the bottom-face centre ``(x, y, z)`` in the rect camera frame;
    ``ry`` the heading in radians; ``score`` is None for ground truth (15 fields).
    """

    alpha: float = -10.0
    dims: tuple[float, float, float] = (-1.0, -1.0, -1.0)
    location: tuple[float, float, float] = (-1000.0, -1000.0, -1000.0)
    ry: float = -10.0
    score: float | None = None

    def to_2d(self) -> Label2D:
        """Drop the 3D fields."""
        return Label2D(self.type, self.truncation, self.occlusion, self.box2d, self.source, self.line)

    @property
    def box3d(self) -> np.ndarray:
        """``(x, y_bottom, z, h, w, l, ry)`` float64: the KITTI bottom-centre box in the rect camera frame."""
        return np.array([*self.location, *self.dims, self.ry], dtype=np.float64)


def _read_lines(path: Path) -> list[str]:
    if path.is_dir():
        raise KittiFormatError(path, "is a directory, expected a KITTI label file")
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        raise KittiFormatError(path, "label file not found") from None
    except UnicodeDecodeError:
        raise KittiFormatError(path, "label file is not text") from None
    except OSError as exc:  # a symlink loop, permissions
        raise KittiFormatError(path, f"cannot be read ({exc.strerror or exc}; expected a KITTI label file)") from None


def _floats(path: Path, lineno: int, names: Sequence[str], values: Sequence[str]) -> list[float]:
    out = []
    for name, value in zip(names, values):
        try:
            number = float(value)
        except ValueError:
            raise KittiFormatError(path, f"field {name!r}: expected a number, got {value!r}", lineno) from None
        if not math.isfinite(number):
            raise KittiFormatError(path, f"field {name!r}: expected a finite number, got {value!r}", lineno)
        out.append(number)
    return out


def _parse_common(path: Path, lineno: int, fields: list[str],
                  inverted_ok: bool = False) -> tuple[str, float, int, tuple[float, float, float, float]]:
    if len(fields) not in (15, 16):
        raise KittiFormatError(
            path, f"expected 15 fields (ground truth) or 16 (with score), got {len(fields)}", lineno)
    obj_type = fields[0]
    if obj_type not in KITTI_TYPES:
        raise KittiFormatError(path, f"unknown class {obj_type!r}; expected one of {', '.join(KITTI_TYPES)}", lineno)
    truncation, occlusion_value = _floats(path, lineno, ("truncated", "occluded"), fields[1:3])
    if not -1.0 <= truncation <= 1.0:
        raise KittiFormatError(path, f"truncated must lie in [0, 1] (or -1), got {fields[1]}", lineno)
    if occlusion_value not in (-1, 0, 1, 2, 3):
        raise KittiFormatError(path, f"occluded must be 0, 1, 2, 3 (or -1), got {fields[2]}", lineno)
    x1, y1, x2, y2 = _floats(path, lineno, ("x1", "y1", "x2", "y2"), fields[4:8])
    if not inverted_ok and (x2 < x1 or y2 < y1):
        raise KittiFormatError(path, f"2D box has x2 < x1 or y2 < y1: {x1} {y1} {x2} {y2}", lineno)
    if len(fields) == 15 and obj_type != "DontCare" and (x2 <= x1 or y2 <= y1):  # an annotated box
        raise KittiFormatError(path, f"2D box is empty (zero width or height): {x1} {y1} {x2} {y2}", lineno)
    return obj_type, truncation, int(occlusion_value), (x1, y1, x2, y2)


def read_labels_2d(path: str | Path) -> list[Label2D]:
    """Read only the 2D part of a label file (class, truncation, occlusion, 2D box); 3D fields are not parsed."""
    path = Path(path)
    labels = []
    for lineno, raw in enumerate(_read_lines(path), start=1):
        fields = raw.split()
        if not fields:
            continue
        obj_type, truncation, occlusion, box2d = _parse_common(path, lineno, fields)
        labels.append(Label2D(obj_type, truncation, occlusion, box2d, str(path), lineno))
    return labels


def parse_label_line(path: str | Path, lineno: int, raw: str, inverted_ok: bool = False) -> ObjectLabel:
    """Parse one full label line (15 or 16 fields); ``path``/``lineno`` are used in error messages. A 2D box with
    ``x2 < x1`` or ``y2 < y1`` is an error unless ``inverted_ok`` (detector output, see :mod:`kitti.eval`)."""
    path = Path(path)
    fields = raw.split()
    obj_type, truncation, occlusion, box2d = _parse_common(path, lineno, fields, inverted_ok)
    alpha, h, w, l, x, y, z, ry = _floats(
        path, lineno, ("alpha", "h", "w", "l", "x", "y", "z", "rotation_y"), [fields[3], *fields[8:15]])
    if obj_type != "DontCare" and min(h, w, l) < 0:
        raise KittiFormatError(path, f"negative box size h={h} w={w} l={l}", lineno)
    score = None
    if len(fields) == 16:
        (score,) = _floats(path, lineno, ("score",), fields[15:16])
    return ObjectLabel(obj_type, truncation, occlusion, box2d, str(path), lineno,
                       alpha=alpha, dims=(h, w, l), location=(x, y, z), ry=ry, score=score)


def read_labels(path: str | Path, inverted_ok: bool = False) -> list[ObjectLabel]:
    """Read a full label file. Evaluation / synthetic / ``full`` mode only: see the module docstring.
    ``inverted_ok`` accepts 2D boxes with ``x2 < x1`` or ``y2 < y1`` (predictions only)."""
    path = Path(path)
    return [parse_label_line(path, lineno, raw, inverted_ok)
            for lineno, raw in enumerate(_read_lines(path), start=1) if raw.strip()]


def read_pseudo_labels(pseudo_dir: str | Path, frame: int) -> list[ObjectLabel]:
    """Pseudo-labels (our own predictions, KITTI format with scores) of ``frame``; a missing file, a malformed
    line or a line without a score is a :class:`KittiFormatError` naming the file (and line)."""
    path = Path(pseudo_dir) / f"{frame:06d}.txt"
    labels = read_labels(path)
    for label in labels:
        if label.score is None:
            raise KittiFormatError(path, "pseudo-label without a score (expected 16 fields)", label.line)
    return labels


#: decimals of the boxes of written predictions (pseudo-labels, fits, final labels), as detectors' KITTI outputs keep
#: (OpenPCDet writes 4); ground truth keeps KITTI's 2. At 2 decimals a pedestrian's or cyclist's 3D IoU moves by up
#: to 0.01 (a real cyclist: 0.700 -> 0.691)
PREDICTION_DECIMALS = 4
#: how far (pixels) an annotated 2D box may reach past the image border (KITTI clips its boxes to the image)
BORDER_TOLERANCE_PX = 1.0


def check_boxes_in_image(labels: Sequence[Label2D], image_hw: tuple[int, int], image_path: str | Path) -> None:
    """Every annotated 2D box (DontCare regions aside) lies in the image, within :data:`BORDER_TOLERANCE_PX`
    (KITTI boxes are clipped to it: a box outside it has no pixels to label, a box far past its border no
    meaningful height). Raises :class:`KittiFormatError` naming the label file and line."""
    height, width = image_hw
    tol = BORDER_TOLERANCE_PX
    for label in labels:
        x1, y1, x2, y2 = label.box2d
        if label.type != "DontCare" and not (-tol <= x1 < width and -tol <= y1 < height and 0 < x2 <= width + tol
                                             and 0 < y2 <= height + tol):
            raise KittiFormatError(label.source, f"2D box ({x1:g}, {y1:g}, {x2:g}, {y2:g}) does not lie in the "
                                                 f"{width}x{height} image {image_path}", label.line)


def format_label_line(obj: ObjectLabel, decimals: int = 2) -> str:
    """One KITTI label line; 2D box, 3D box and alpha with ``decimals`` digits, score (if any) with 4."""
    f = f"{{:.{decimals}f}}"
    parts = [obj.type, f"{obj.truncation:.2f}", str(int(obj.occlusion)), f.format(obj.alpha),
             *(f.format(v) for v in obj.box2d), *(f.format(v) for v in obj.dims),
             *(f.format(v) for v in obj.location), f.format(obj.ry)]
    if obj.score is not None:
        parts.append(f"{obj.score:.4f}")
    return " ".join(parts)


def write_labels(path: str | Path, objects: Iterable[ObjectLabel], decimals: int = 2) -> None:
    """Write a KITTI label file atomically (an empty list writes an empty file, as KITTI expects)."""
    lines = [format_label_line(obj, decimals) for obj in objects]
    atomic_write_text(path, "".join(line + "\n" for line in lines))
