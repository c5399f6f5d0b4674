"""KITTI object calibration files (``calib/%06d.txt``): reader, writer and frame transforms.

A calibration file holds one matrix per line, ``NAME: v1 v2 ...`` (row-major):
``P0``-``P3`` (3x4 projections of the rectified cameras, pixels from rect-frame metres), ``R0_rect`` (3x3
rectifying rotation), ``Tr_velo_to_cam`` (3x4, velodyne -> camera 0) and ``Tr_imu_to_velo`` (3x4).
``P2``, ``R0_rect`` and ``Tr_velo_to_cam`` are required; the others are kept when present.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kitti.atomic import atomic_write_text
from kitti.errors import KittiFormatError

#: matrix name -> shape
CALIB_SHAPES: dict[str, tuple[int, int]] = {
    "P0": (3, 4),
    "P1": (3, 4),
    "P2": (3, 4),
    "P3": (3, 4),
    "R0_rect": (3, 3),
    "Tr_velo_to_cam": (3, 4),
    "Tr_imu_to_velo": (3, 4),
}
REQUIRED = ("P2", "R0_rect", "Tr_velo_to_cam")
_ALIASES = {"R_rect": "R0_rect", "Tr_velo_cam": "Tr_velo_to_cam", "Tr_imu_velo": "Tr_imu_to_velo"}


@dataclass
class Calibration:
    """Calibration of one KITTI frame. All matrices float64.

    ``velo_to_rect`` (4x4) maps homogeneous velodyne points (x fwd, y left, z up) to the rect camera frame
    (x right, y down, z forward); ``P2`` maps homogeneous rect points to homogeneous image_2 pixels.
    """

    P2: np.ndarray
    R0_rect: np.ndarray
    Tr_velo_to_cam: np.ndarray
    P0: np.ndarray | None = None
    P1: np.ndarray | None = None
    P3: np.ndarray | None = None
    Tr_imu_to_velo: np.ndarray | None = None
    path: str | None = field(default=None, compare=False)

    @property
    def velo_to_rect(self) -> np.ndarray:
        """4x4 homogeneous transform velodyne -> rect camera frame: ``R0_rect @ Tr_velo_to_cam``."""
        r0 = np.eye(4)
        r0[:3, :3] = self.R0_rect
        tr = np.eye(4)
        tr[:3, :4] = self.Tr_velo_to_cam
        return r0 @ tr

    @property
    def rect_to_velo(self) -> np.ndarray:
        """4x4 inverse of :attr:`velo_to_rect` (rigid transform inverted exactly, not by a generic solver)."""
        m = self.velo_to_rect
        inv = np.eye(4)
        rot = m[:3, :3]
        # R0_rect and the velo->cam rotation are orthonormal up to the precision they were written with; a
        # general inverse keeps the round trip exact to ~1e-12 even when they are not perfectly orthonormal.
        inv[:3, :3] = np.linalg.inv(rot)
        inv[:3, 3] = -inv[:3, :3] @ m[:3, 3]
        return inv

    @property
    def focal_u(self) -> float:
        return float(self.P2[0, 0])

    @property
    def focal_v(self) -> float:
        return float(self.P2[1, 1])

    @property
    def principal_point(self) -> tuple[float, float]:
        return float(self.P2[0, 2]), float(self.P2[1, 2])

    def matrices(self) -> dict[str, np.ndarray]:
        """The matrices present, by KITTI name, in file order."""
        return {name: getattr(self, name) for name in CALIB_SHAPES if getattr(self, name) is not None}


def _is_rotation(matrix: np.ndarray, tolerance: float = 1e-3) -> bool:
    """True for an orthonormal 3x3 matrix with determinant +1 (within ``tolerance``, KITTI files have 6 digits)."""
    orthogonal = np.allclose(matrix @ matrix.T, np.eye(3), atol=tolerance)
    return bool(orthogonal and abs(np.linalg.det(matrix) - 1) < tolerance)


#: plausible focal lengths of a KITTI-like camera, pixels (KITTI: ~721; beyond these, depths from 2D box heights
#: are off by orders of magnitude)
FOCAL_RANGE_PX = (50.0, 20000.0)
#: largest principal point coordinate (pixels): the image it fits would be twice as large
MAX_PRINCIPAL_PX = 20000.0


def _check_projection(path: Path, P2: np.ndarray, line: int) -> None:
    """A rectified camera's projection: ``[[fu, 0, cu, .], [0, fv, cv, .], [0, 0, 1, .]]`` with plausible focal
    lengths and a principal point at positive pixel coordinates (its fit to the image: :func:`check_image_fit`)."""
    fu, fv, (cu, cv) = P2[0, 0], P2[1, 1], (P2[0, 2], P2[1, 2])
    lo, hi = FOCAL_RANGE_PX
    if not np.allclose(P2[2, :3], (0.0, 0.0, 1.0), atol=1e-3) or abs(P2[1, 0]) > 1e-3:
        raise KittiFormatError(path, f"P2: expected a rectified camera projection [[fu 0 cu tx] [0 fv cv ty] "
                                     f"[0 0 1 tz]], got third row {P2[2].tolist()}", line)
    if not (lo <= fu <= hi and lo <= fv <= hi and 0.5 <= fu / fv <= 2.0):
        raise KittiFormatError(path, f"P2: focal lengths fu={fu:g}, fv={fv:g} px are implausible (expected "
                                     f"{lo:g}..{hi:g} px, KITTI: about 721)", line)
    if not (0.0 < cu <= MAX_PRINCIPAL_PX and 0.0 < cv <= MAX_PRINCIPAL_PX):
        raise KittiFormatError(path, f"P2: principal point ({cu:g}, {cv:g}) px is implausible (expected positive "
                                     f"pixel coordinates near the image centre)", line)


def check_image_fit(calib: Calibration, image_hw: tuple[int, int], image_path: str | Path) -> None:
    """The image must fit the calibration: the principal point of P2 lies in the middle half of the image (which
    also refuses a tiny image). Raises :class:`KittiFormatError` naming the image."""
    height, width = image_hw
    cx, cy = calib.principal_point
    if not (0.25 * width <= cx <= 0.75 * width and 0.25 * height <= cy <= 0.75 * height):
        raise KittiFormatError(image_path, f"image is {width}x{height} px, which does not fit the principal point "
                                           f"({cx:.1f}, {cy:.1f}) of P2 in {calib.path} (about {2 * cx:.0f}x"
                                           f"{2 * cy:.0f} px expected)")


def read_calib(path: str | Path) -> Calibration:
    """Parse a KITTI calibration file; raises :class:`KittiFormatError` naming the file and line on bad input."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise KittiFormatError(path, "calibration file not found") from None
    except UnicodeDecodeError:
        raise KittiFormatError(path, "calibration file is not text") from None
    except OSError as exc:  # a directory, a symlink loop, permissions
        raise KittiFormatError(path, f"cannot be read ({exc.strerror or exc}; expected a calibration file)") from None
    found: dict[str, np.ndarray] = {}
    lines: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if ":" not in line:
            raise KittiFormatError(path, f"expected 'NAME: numbers', got {line[:60]!r}", lineno)
        name, values = line.split(":", 1)
        name = _ALIASES.get(name.strip(), name.strip())
        if name not in CALIB_SHAPES:
            continue  # other calibration entries are allowed and ignored
        shape = CALIB_SHAPES[name]
        if name in found:
            raise KittiFormatError(path, f"{name} given twice (first on line {lines[name]})", lineno)
        lines[name] = lineno
        try:
            numbers = np.array([float(v) for v in values.split()], dtype=np.float64)
        except ValueError:
            raise KittiFormatError(path, f"{name}: expected {shape[0] * shape[1]} numbers, got "
                                         f"{values.strip()[:60]!r}", lineno) from None
        if numbers.size != shape[0] * shape[1]:
            raise KittiFormatError(path, f"{name}: expected {shape[0] * shape[1]} numbers, got {numbers.size}", lineno)
        if not np.all(np.isfinite(numbers)):
            raise KittiFormatError(path, f"{name}: non-finite value", lineno)
        found[name] = numbers.reshape(shape)
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise KittiFormatError(path, f"missing required matrix {', '.join(missing)} (need {', '.join(REQUIRED)})")
    _check_projection(path, found["P2"], lines["P2"])
    for name in ("R0_rect", "Tr_velo_to_cam"):
        if name in found and not _is_rotation(found[name][:, :3]):
            raise KittiFormatError(path, f"{name}: the 3x3 rotation part is not a rotation matrix "
                                         f"(expected orthonormal with determinant 1)", lines.get(name))
    return Calibration(**found, path=str(path))


def format_calib(calib: Calibration) -> str:
    """KITTI text for ``calib`` (every present matrix, ``%.12e``, trailing blank line as in KITTI)."""
    lines = [f"{name}: " + " ".join(f"{v:.12e}" for v in matrix.ravel()) for name, matrix in calib.matrices().items()]
    return "\n".join(lines) + "\n\n"


def write_calib(path: str | Path, calib: Calibration) -> None:
    """Write ``calib`` atomically in KITTI format."""
    atomic_write_text(path, format_calib(calib))
