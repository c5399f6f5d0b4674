"""Debug renders of KITTI frames: the camera image with projected 3D boxes over a bird's-eye view of the LiDAR
points (or pseudo-LiDAR) and the same boxes. Works on real KITTI and on the synthetic world.

    python -m kitti.visualize --root data/synthetic --frames 0 1 2 --out output/vis [--pred-dir DIR]
    python -m kitti.visualize --root data/kitti --out output/vis --frustum-set output/step_00/frustums_train.npz \
        --samples 0 1 2 3

Ground-truth boxes are drawn in class colours, predictions (``--pred-dir``, KITTI files with scores) in white.
With ``--frustum-set`` each listed sample of a frustum set (and, for a real sample, the injected sample that follows
it) is drawn instead: frustum box (yellow), 2D target (cyan), points coloured by seg label, 3D box when known.

This is a reporting tool: it reads the full 3D labels.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from kitti import geometry as g
from kitti.atomic import atomic_write_text, ensure_dir
from kitti.errors import cli
from kitti.frustum.store import KIND_NAMES, KIND_REAL, FrustumSample, FrustumSet
from kitti.io.calib import Calibration
from kitti.io.dataset import KittiDataset
from kitti.io.image import write_image
from kitti.io.labels import ObjectLabel, read_labels
from kitti.outputs import check_output_dir, owned_files, refuse_foreign

#: BGR colour per class
CLASS_COLOURS: dict[str, tuple[int, int, int]] = {
    "Car": (0, 200, 0), "Van": (0, 140, 255), "Truck": (0, 90, 200), "Pedestrian": (255, 80, 0),
    "Person_sitting": (200, 120, 0), "Cyclist": (220, 0, 220), "Tram": (120, 120, 0), "Misc": (128, 128, 128),
    "DontCare": (90, 90, 90),
}
PREDICTION_COLOUR = (255, 255, 255)
#: box edges as corner index pairs (bottom face, top face, verticals), see geometry.box3d_corners
BOX_EDGES = ((0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7))


def draw_boxes_on_image(image: np.ndarray, labels: Sequence[ObjectLabel], calib: Calibration,
                        colour: tuple[int, int, int] | None = None, draw_2d: bool = True) -> np.ndarray:
    """Draw each label's projected 3D box (front face crossed) and, thinner, its 2D box. Returns a copy (BGR)."""
    canvas = image.copy()
    for label in labels:
        col = colour or CLASS_COLOURS.get(label.type, (255, 255, 255))
        if draw_2d:
            x1, y1, x2, y2 = (int(round(v)) for v in label.box2d)
            cv2.rectangle(canvas, (x1, y1), (x2, y2), col, 1)
        if label.type == "DontCare":
            continue
        corners = g.box3d_corners(label.box3d[None])[0]
        if corners[:, 2].min() < 0.5:
            continue  # behind or at the camera: the projection is meaningless
        uv, _ = g.project_rect_to_image(corners, calib.P2)
        pts = np.round(uv).astype(np.int32)
        for a, b in BOX_EDGES:
            cv2.line(canvas, tuple(pts[a]), tuple(pts[b]), col, 2, cv2.LINE_AA)
        cv2.line(canvas, tuple(pts[0]), tuple(pts[5]), col, 1, cv2.LINE_AA)  # front face (+l/2) cross
        cv2.line(canvas, tuple(pts[1]), tuple(pts[4]), col, 1, cv2.LINE_AA)
    return canvas


def render_bev(points_rect: np.ndarray,
               labels_by_colour: Sequence[tuple[Sequence[ObjectLabel], tuple[int, int, int] | None]],
               calib: Calibration, image_width: int, x_range: tuple[float, float] = (-20.0, 20.0),
               z_range: tuple[float, float] = (0.0, 70.0), pixels_per_metre: float = 10.0) -> np.ndarray:
    """Bird's-eye view seen from above with the driving direction to the right (rect z to the right, rect x
    down the picture) of points coloured by height above the road, the camera field of view, 10 m range rings and
    each label's box with its heading line."""
    width = int((z_range[1] - z_range[0]) * pixels_per_metre)
    height = int((x_range[1] - x_range[0]) * pixels_per_metre)
    canvas = np.zeros((height, width, 3), np.uint8)

    def to_px(x: np.ndarray, z: np.ndarray) -> np.ndarray:
        return np.stack([(z - z_range[0]) * pixels_per_metre, (x - x_range[0]) * pixels_per_metre], -1)

    for ring in range(10, int(z_range[1]) + 1, 10):
        sensor = tuple(int(v) for v in to_px(np.array(0.0), np.array(0.0)))
        cv2.circle(canvas, sensor, int(ring * pixels_per_metre), (50, 50, 50), 1)
        cv2.putText(canvas, f"{ring} m", (sensor[0] + int(ring * pixels_per_metre) + 3, 14),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, (90, 90, 90), 1)
    # field of view: rays through the left and right image borders at the principal row
    cu, cv = calib.principal_point
    edges = g.image_to_rect(np.array([[0.0, cv], [image_width - 1.0, cv]]), np.array([80.0, 80.0]), calib.P2)
    origin = to_px(np.array(0.0), np.array(0.0)).astype(int)
    for edge in edges:
        cv2.line(canvas, tuple(origin), tuple(to_px(edge[0], edge[2]).astype(int)), (70, 70, 70), 1)

    if len(points_rect):
        px = to_px(points_rect[:, 0], points_rect[:, 2]).astype(np.int64)
        keep = (px[:, 0] >= 0) & (px[:, 0] < width) & (px[:, 1] >= 0) & (px[:, 1] < height)
        # height above the ground (rect y points down; the sensor is ~1.73 m above the road)
        above = np.clip((1.73 - points_rect[keep, 1]) / 3.0, 0, 1)
        colours = cv2.applyColorMap((above * 255).astype(np.uint8)[:, None], cv2.COLORMAP_TURBO)[:, 0]
        canvas[px[keep, 1], px[keep, 0]] = colours
    for labels, colour in labels_by_colour:
        for label in labels:
            if label.type == "DontCare":
                continue
            col = colour or CLASS_COLOURS.get(label.type, (255, 255, 255))
            corners = g.box3d_corners(label.box3d[None])[0][:4]
            poly = to_px(corners[:, 0], corners[:, 2]).astype(np.int32)
            cv2.polylines(canvas, [poly], True, col, 2, cv2.LINE_AA)
            front = to_px(corners[:2, 0].mean(), corners[:2, 2].mean()).astype(int)
            centre = to_px(np.array(label.location[0]), np.array(label.location[2])).astype(int)
            cv2.line(canvas, tuple(centre), tuple(front), col, 1, cv2.LINE_AA)
    return canvas


def render_frame(dataset: KittiDataset, frame: int, predictions: Sequence[ObjectLabel] = (),
                 use_depth: bool = False) -> np.ndarray:
    """Image with boxes stacked over the bird's-eye view, one BGR picture. ``use_depth`` draws the points
    back-projected from ``depth_2`` (pseudo-LiDAR) instead of the velodyne scan."""
    calib = dataset.calib(frame)
    image = dataset.image(frame)
    labels = dataset.labels(frame) if dataset.path("label_2", frame).is_file() else []
    top = draw_boxes_on_image(image, labels, calib)
    top = draw_boxes_on_image(top, predictions, calib, PREDICTION_COLOUR, draw_2d=False)
    if use_depth:
        depth = dataset.depth(frame, image.shape[:2])["depth"]
        v, u = np.nonzero(depth > 0)
        points = g.image_to_rect(np.stack([u, v], 1).astype(np.float64), depth[v, u], calib.P2)
    else:
        scan = dataset.velodyne(frame)
        points = g.velo_to_rect(scan[g.image_fov_mask(scan, calib, image.shape[1], image.shape[0], 0.0) |
                                     (scan[:, 0] > 0)], calib)
    bev = render_bev(points, [(labels, None), (predictions, PREDICTION_COLOUR)], calib, image.shape[1])
    bev = cv2.resize(bev, (image.shape[1], int(bev.shape[0] * image.shape[1] / bev.shape[1])),
                     interpolation=cv2.INTER_AREA)
    legend = "green Car, orange Van, blue Pedestrian, magenta Cyclist"
    cv2.putText(bev, f"frame {frame:06d}   {legend}   white: predictions", (10, bev.shape[0] - 10),
                cv2.FONT_HERSHEY_SIMPLEX, 0.5, (230, 230, 230), 1)
    return np.vstack([top, bev])


#: BGR colour of frustum points by seg label (-1 unknown, 0 outside, 1 inside the 3D box)
SEG_COLOURS = {-1: (200, 200, 200), 0: (255, 160, 60), 1: (0, 0, 255)}


def _bev_of_sample(sample: FrustumSample, size: int = 400, margin: float = 3.0) -> np.ndarray:
    """Bird's-eye view (rect x right, z up the picture) around one sample's points, seg-coloured, with its box."""
    canvas = np.zeros((size, size, 3), np.uint8)
    pts = sample.points.astype(np.float64)
    ref = sample.box3d if sample.has_3d else None
    if ref is not None:
        cx, cz = float(ref[0]), float(ref[2])
    elif len(pts):
        cx, cz = float(np.median(pts[:, 0])), float(np.median(pts[:, 2]))
    else:
        cx, cz = 0.0, 10.0
    half = max(margin + 3.0, 8.0)
    scale = size / (2 * half)

    def to_px(x: np.ndarray, z: np.ndarray) -> np.ndarray:
        return np.stack([(x - cx + half) * scale, (cz + half - z) * scale], -1)

    px = to_px(pts[:, 0], pts[:, 2]).astype(np.int64)
    keep = (px[:, 0] >= 0) & (px[:, 0] < size) & (px[:, 1] >= 0) & (px[:, 1] < size)
    for label, col in SEG_COLOURS.items():
        sel = keep & (sample.seg == label)
        for u, v in px[sel]:
            cv2.circle(canvas, (int(u), int(v)), 1, col, -1)
    if ref is not None:
        corners = g.box3d_corners(ref[None])[0][:4]
        cv2.polylines(canvas, [to_px(corners[:, 0], corners[:, 2]).astype(np.int32)], True, (0, 255, 0), 1,
                      cv2.LINE_AA)
    window = sample.depth_window
    for depth in window:
        v = int(to_px(np.array(cx), np.array(depth))[1])
        cv2.line(canvas, (0, v), (size - 1, v), (80, 80, 0), 1)
    cv2.putText(canvas, f"BEV {2 * half:.0f} m, depth window dashed", (5, size - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                (200, 200, 200), 1)
    return canvas


def render_frustum_sample(image: np.ndarray, sample: FrustumSample) -> np.ndarray:
    """One frustum sample: image with the frustum box (yellow), 2D target (cyan), projected points coloured by seg
    label and the projected 3D box (when known), next to a bird's-eye view of the sample. BGR picture."""
    canvas = image.copy()
    uv, w = g.project_rect_to_image(sample.points, sample.P2.astype(np.float64))
    for label, col in SEG_COLOURS.items():
        for u, v in np.round(uv[(sample.seg == label) & (w > 0)]).astype(int):
            cv2.circle(canvas, (int(u), int(v)), 1, col, -1)
    x1, y1, x2, y2 = (int(round(v)) for v in sample.box2d)
    cv2.rectangle(canvas, (x1, y1), (x2, y2), (0, 255, 255), 1)
    x1, y1, x2, y2 = (int(round(v)) for v in sample.box2d_target)
    cv2.rectangle(canvas, (x1, y1), (x2, y2), (255, 255, 0), 1)
    if sample.has_3d:
        corners = g.box3d_corners(sample.box3d[None])[0]
        if corners[:, 2].min() > 0.5:
            pts = np.round(g.project_rect_to_image(corners, sample.P2.astype(np.float64))[0]).astype(np.int32)
            for a, b in BOX_EDGES:
                cv2.line(canvas, tuple(pts[a]), tuple(pts[b]), (0, 255, 0), 1, cv2.LINE_AA)
    text = (f"frame {sample.frame_id:06d} {sample.class_name} {KIND_NAMES[sample.kind]} line {sample.label_line} "
            f"{len(sample.points)} pts, {int((sample.seg == 1).sum())} in box")
    cv2.putText(canvas, text, (8, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    bev = _bev_of_sample(sample, size=canvas.shape[0])
    return np.hstack([canvas, bev])


def render_frustum_set(root: Path, set_path: Path, indices: Sequence[int], out: Path) -> list[Path]:
    """Render samples ``indices`` of a frustum set (a real sample is stacked with the injected sample that follows
    it) to ``out/<set>_<index>.png``; returns the written paths."""
    frustums = FrustumSet.load(set_path)
    dataset = KittiDataset(root)
    written = []
    for index in indices:
        sample = frustums[index]
        image = dataset.image(sample.frame_id)
        rows = [render_frustum_sample(image, sample)]
        if sample.kind == KIND_REAL and index + 1 < len(frustums) and frustums[index + 1].kind != KIND_REAL:
            rows.append(render_frustum_sample(image, frustums[index + 1]))
        path = out / f"{set_path.stem}_{index:06d}.png"
        write_image(path, np.vstack(rows))
        written.append(path)
    return written


#: the record of the renders ``--out`` holds: only files it lists are ever replaced (:mod:`kitti.outputs`)
RENDERS_MANIFEST = "renders.json"


def prepare_out(out: Path, data: Path, names: Sequence[str]) -> None:
    """Check ``out`` (:func:`kitti.outputs.check_output_dir`: not inside the data set ``data``, no links leading
    out; no ``*.png`` its manifest does not list) and record ``names`` as its own before they are written."""
    check_output_dir(out, data, "--out")
    manifest = out / RENDERS_MANIFEST
    owned = owned_files(manifest, out, "*.png", "the renders manifest")
    refuse_foreign(out, owned, ("*.png",), RENDERS_MANIFEST)
    ensure_dir(out)
    atomic_write_text(manifest, json.dumps({"files": sorted(owned | set(names))}, indent=2) + "\n")


@cli
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", required=True, type=Path, help="KITTI root holding training/")
    parser.add_argument("--frames", type=int, nargs="+", help="frame ids (default: the first 3 frames)")
    parser.add_argument("--out", required=True, type=Path, help="output directory for %%06d.png renders")
    parser.add_argument("--pred-dir", type=Path, help="directory of predicted KITTI label files to overlay")
    parser.add_argument("--depth", action="store_true", help="bird's-eye view from depth_2 (pseudo-LiDAR)")
    parser.add_argument("--frustum-set", type=Path, help="frustum set .npz: render its samples instead of frames")
    parser.add_argument("--samples", type=int, nargs="+", default=[0], help="sample indices for --frustum-set")
    args = parser.parse_args(argv)
    if args.frustum_set is not None:
        prepare_out(args.out, args.root, [f"{args.frustum_set.stem}_{index:06d}.png" for index in args.samples])
        for path in render_frustum_set(args.root, args.frustum_set, args.samples, args.out):
            print(f"wrote {path}")
        return 0
    dataset = KittiDataset(args.root)
    frames = args.frames or dataset.frame_ids()[:3]
    prepare_out(args.out, args.root, [f"{frame:06d}.png" for frame in frames])
    for frame in frames:
        predictions = []
        if args.pred_dir is not None and (args.pred_dir / f"{frame:06d}.txt").is_file():
            predictions = read_labels(args.pred_dir / f"{frame:06d}.txt")
        out = args.out / f"{frame:06d}.png"
        write_image(out, render_frame(dataset, frame, predictions, args.depth))
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
