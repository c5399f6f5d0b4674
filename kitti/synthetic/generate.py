"""Generate synthetic KITTI frames and write the data set.

Layout: ``<out>/training/{calib,image_2,label_2,velodyne,depth_2}/%06d.*``, ``<out>/ImageSets/{train,val,
trainval}.txt`` and ``<out>/synthetic_manifest.json``.

Ownership: the generator writes only into a new or empty directory, or one that holds its own manifest (written
first, with ``status: incomplete``, before any other file; ``status: complete`` at the end). Any other non-empty
directory (a real KITTI root, say) is refused with an :class:`~kitti.errors.OutputDirError`: nothing in it is
touched. A complete data set with the same parameters is left as it is (no file is rewritten).

Determinism: frame ``i`` of seed ``S`` draws from ``SeedSequence([S, i])`` (independent child streams for the
scene, LiDAR, camera noise, depth error and annotation noise), so its bytes do not depend on the worker count or
frame order, and the scene of a frame is the same with and without the depth error model. Resume: a frame whose
five files all exist is skipped. Every file is written atomically by the :mod:`kitti` writers.
"""
from __future__ import annotations

import json
import multiprocessing
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from kitti.atomic import atomic_write_text
from kitti.errors import OutputDirError
from kitti.io.calib import write_calib
from kitti.io.dataset import LAYOUT, write_split
from kitti.io.depthmap import write_depth
from kitti.io.image import write_image
from kitti.io.labels import ObjectLabel, read_labels, write_labels
from kitti.io.pointcloud import write_velodyne
from kitti.synthetic.annotate import annotate
from kitti.synthetic.calibration import kitti_calibration
from kitti.synthetic.camera import render_camera
from kitti.synthetic.depth_error import apply_mono_error
from kitti.synthetic.lidar import simulate_scan
from kitti.synthetic.street import Scene, sample_scene

#: 1.1: KITTI 2D-box protocol and annotation noise in the labels; 1.2: largely hidden cars DontCare; 1.3: road
#: direction and vehicle heading deviations from the KITTI label files; 1.4: car paint below the LiDAR's detection
#: floor returns nothing (dark paint, grazing incidence); 1.5: traffic per frame from KITTI's vehicles per frame
VERSION = "1.5"
MANIFEST = "synthetic_manifest.json"
GENERATOR = "kitti.synthetic"
DEPTH_ERRORS = ("none", "mono")


@dataclass
class Frame:
    """One generated frame (see the module docstring of each producer for units and frames)."""

    scene: Scene
    points: np.ndarray
    image: np.ndarray
    labels: list[ObjectLabel]
    depth: dict[str, np.ndarray]


def generate_frame(seed: int, frame: int, depth_error: str = "none") -> Frame:
    """Build frame ``frame`` of the world of ``seed`` in memory."""
    if depth_error not in DEPTH_ERRORS:
        raise ValueError(f"depth_error must be one of {DEPTH_ERRORS}, got {depth_error!r}")
    scene_ss, lidar_ss, camera_ss, depth_ss, label_ss = np.random.SeedSequence([seed, frame]).spawn(5)
    calib = kitti_calibration()
    scene = sample_scene(np.random.default_rng(scene_ss))
    scan = simulate_scan(scene, np.random.default_rng(lidar_ss))
    render = render_camera(scene, calib, np.random.default_rng(camera_ss))
    points_per_object = np.bincount(scan.instance[scan.instance >= 0], minlength=len(scene.objects))
    labels = annotate(scene, calib, render.instance, points_per_object, np.random.default_rng(label_ss))
    depth = {"depth": render.depth, "sky": render.sky, "intrinsics": calib.P2[:, :3].copy()}
    if depth_error == "mono":
        depth["depth"], params = apply_mono_error(render.depth, np.random.default_rng(depth_ss))
        depth.update(params)
    return Frame(scene, scan.points, render.image, labels, depth)


def _path(root: Path, kind: str, frame: int) -> Path:
    return root / "training" / kind / LAYOUT[kind].format(frame)


def frame_complete(root: Path, frame: int) -> bool:
    """True when all five files of ``frame`` exist under ``root``."""
    return all(_path(root, kind, frame).is_file() for kind in LAYOUT)


def write_frame(root: Path, seed: int, frame: int, depth_error: str) -> None:
    """Generate ``frame`` and write its five files (label last)."""
    data = generate_frame(seed, frame, depth_error)
    write_calib(_path(root, "calib", frame), kitti_calibration())
    write_velodyne(_path(root, "velodyne", frame), data.points)
    write_image(_path(root, "image_2", frame), data.image)
    write_depth(_path(root, "depth_2", frame), data.depth.pop("depth"), **data.depth)
    write_labels(_path(root, "label_2", frame), data.labels)


def _worker_init() -> None:
    import numba
    numba.set_num_threads(1)  # one frame per process; avoid oversubscribing the cores


def _write_task(args: tuple[str, int, int, str]) -> int:
    root, seed, frame, depth_error = args
    write_frame(Path(root), seed, frame, depth_error)
    return frame


def split_frames(frames: int, seed: int, val_fraction: float) -> tuple[list[int], list[int]]:
    """Deterministic (seeded) train / val split of frame ids ``0..frames-1``, each sorted."""
    if not 0.0 <= val_fraction <= 1.0:
        raise ValueError(f"val_fraction must lie in [0, 1], got {val_fraction}")
    order = np.random.default_rng(np.random.SeedSequence([seed, 0x5B117])).permutation(frames)
    n_val = int(round(frames * val_fraction))
    return sorted(int(i) for i in order[n_val:]), sorted(int(i) for i in order[:n_val])


def _own_manifest(root: Path) -> dict | None:
    """The generator's manifest in ``root``; None for a missing or empty directory. Any other content (no
    manifest of this generator) raises :class:`OutputDirError`: the directory is not ours to write."""
    if root.exists() and not root.is_dir():
        raise OutputDirError(root, "is not a directory (expected a new or empty directory for the synthetic data set)")
    if not root.exists() or not any(root.iterdir()):
        return None
    path = root / MANIFEST
    try:
        manifest = json.loads(path.read_bytes())
    except FileNotFoundError:
        manifest = None
    except (ValueError, RecursionError, OSError):  # not JSON, not UTF-8, nested too deeply, a directory
        raise OutputDirError(path, "unreadable synthetic manifest: refusing to write into this directory "
                                   "(use a new --out)") from None
    if not isinstance(manifest, dict) or manifest.get("generator") != GENERATOR:
        raise OutputDirError(root, f"not empty and not made by {GENERATOR} (no {MANIFEST}): refusing to write "
                                   f"into it, its files would be overwritten (use a new or empty --out)")
    return manifest


def generate_dataset(out: str | Path, frames: int, seed: int, val_fraction: float = 0.5,
                     workers: int | None = None, depth_error: str = "none", progress: bool = True) -> dict:
    """Write (or complete) a synthetic data set of ``frames`` frames in ``out`` (new, empty, or made by this
    generator: else :class:`OutputDirError`); returns the manifest."""
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    if depth_error not in DEPTH_ERRORS:
        raise ValueError(f"depth_error must be one of {DEPTH_ERRORS}, got {depth_error!r}")
    root = Path(out)
    params = {"seed": seed, "depth_error": depth_error, "version": VERSION}
    manifest_path = root / MANIFEST
    old = _own_manifest(root)
    if old is not None:
        if {k: old.get(k) for k in params} != params:
            raise OutputDirError(root, f"holds a synthetic data set made with {({k: old.get(k) for k in params})}; "
                                       f"refusing to mix it with {params} (use another --out)")
        if (old.get("status") == "complete" and old.get("frames") == frames and old.get("val_fraction") == val_fraction
                and all(frame_complete(root, f) for f in range(frames))):
            if progress:
                tqdm.write(f"{root}: synthetic data set complete ({frames} frames), nothing to do")
            return old
    # the ownership mark goes first: an interrupted run leaves a directory this generator may resume
    atomic_write_text(manifest_path, json.dumps({**params, "generator": GENERATOR, "status": "incomplete"}) + "\n")
    todo = [f for f in range(frames) if not frame_complete(root, f)]
    if progress and len(todo) < frames:
        tqdm.write(f"resuming: {frames - len(todo)} of {frames} frames already complete")
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    tasks = [(str(root), seed, f, depth_error) for f in todo]
    bar = tqdm(total=len(todo), desc="synthetic frames", unit="frame", disable=not progress)
    if workers == 1:
        for task in tasks:
            _write_task(task)
            bar.update()
    else:
        with multiprocessing.get_context("spawn").Pool(workers, initializer=_worker_init) as pool:
            for _ in pool.imap_unordered(_write_task, tasks):
                bar.update()
    bar.close()
    train, val = split_frames(frames, seed, val_fraction)
    for name, ids in (("train", train), ("val", val), ("trainval", list(range(frames)))):
        write_split(root / "ImageSets" / f"{name}.txt", ids)
    counts = Counter(label.type for f in range(frames) for label in read_labels(_path(root, "label_2", f)))
    manifest = {**params, "frames": frames, "val_fraction": val_fraction, "generator": GENERATOR,
                "status": "complete", "object_counts": dict(sorted(counts.items()))}
    atomic_write_text(manifest_path, json.dumps(manifest, indent=2) + "\n")
    return manifest
