"""KITTI readers and writers: the real sample parses; bad input gives one clear error naming the file and line."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kitti.errors import KittiFormatError
from kitti.io.calib import read_calib, write_calib
from kitti.io.dataset import KittiDataset, read_split, write_split
from kitti.io.depthmap import read_depth, write_depth
from kitti.io.image import read_image, write_image
from kitti.io.labels import ObjectLabel, format_label_line, read_labels, read_labels_2d, write_labels
from kitti.io.pointcloud import read_velodyne, write_velodyne

GOOD_LINE = "Car 0.00 0 1.85 387.63 181.54 423.81 203.12 1.67 1.87 3.69 -16.53 2.39 58.49 1.57"


def test_every_real_file_parses(kitti_real_root: Path) -> None:
    ds = KittiDataset(kitti_real_root)
    frames = ds.frame_ids()
    assert len(frames) == 14
    for frame in frames:
        calib = ds.calib(frame)
        assert calib.P2.shape == (3, 4) and calib.Tr_imu_to_velo is not None and calib.P0 is not None
        image = ds.image(frame)
        assert image.dtype == np.uint8 and image.shape[2] == 3 and 370 <= image.shape[0] <= 376
        points = ds.velodyne(frame)
        assert points.dtype == np.float32 and points.shape[1] == 4 and len(points) > 15000
        labels = ds.labels(frame)
        labels_2d = ds.labels_2d(frame)
        assert [lab.to_2d() for lab in labels] == labels_2d
        assert all(lab.score is None for lab in labels)


def test_2d_reader_never_parses_3d_fields(tmp_path: Path) -> None:
    path = tmp_path / "000000.txt"
    path.write_text(GOOD_LINE.replace("1.67 1.87 3.69 -16.53 2.39 58.49 1.57", "x y z nan inf - ?") + "\n")
    (label,) = read_labels_2d(path)
    assert label.type == "Car" and label.box2d == (387.63, 181.54, 423.81, 203.12) and label.occlusion == 0
    assert not hasattr(label, "dims") and not hasattr(label, "location") and not hasattr(label, "ry")
    with pytest.raises(KittiFormatError, match=r"000000\.txt:1: field 'h'"):
        read_labels(path)


def test_label_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text(GOOD_LINE + "\nDontCare -1 -1 -10 503.89 169.71 590.61 190.13 -1 -1 -1 -1000 -1000 -1000 -10\n")
    labels = read_labels(src)
    assert labels[0].dims == (1.67, 1.87, 3.69) and labels[0].location == (-16.53, 2.39, 58.49)
    dst = tmp_path / "b.txt"
    write_labels(dst, labels)
    assert dst.read_text().splitlines()[0] == GOOD_LINE
    assert [lab.box3d.tolist() + [lab.alpha, lab.type] for lab in read_labels(dst)] == \
        [lab.box3d.tolist() + [lab.alpha, lab.type] for lab in labels]
    scored = ObjectLabel("Pedestrian", -1, -1, (1, 2, 3, 4), alpha=0.5, dims=(1.7, 0.6, 0.8),
                         location=(1, 1.6, 10), ry=0.25, score=1.87654)
    assert format_label_line(scored, decimals=4).endswith("0.2500 1.8765")
    write_labels(dst, [])
    assert dst.read_text() == "" and read_labels(dst) == []


@pytest.mark.parametrize("line, message", [
    ("Car 0.00 0 1.85 387.63 181.54 423.81", "expected 15 fields .* got 7"),
    (GOOD_LINE.replace("Car", "Bus"), "unknown class 'Bus'"),
    (GOOD_LINE.replace("387.63", "abc"), "field 'x1': expected a number, got 'abc'"),
    (GOOD_LINE + " nan", "field 'score': expected a finite number"),
    (GOOD_LINE.replace("1.67 1.87", "-1.67 1.87"), "negative box size"),
    (GOOD_LINE.replace("423.81", "300.00"), "2D box has x2 < x1"),
    (GOOD_LINE.replace("Car 0.00 0", "Car 0.00 7"), "occluded must be"),
])
def test_bad_label_lines_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "000042.txt"
    path.write_text(GOOD_LINE + "\n\n" + line + "\n")
    with pytest.raises(KittiFormatError, match=rf"000042\.txt:3: {message}"):
        read_labels(path)


def test_calib_round_trip_and_errors(tmp_path: Path, kitti_real_root: Path) -> None:
    calib = read_calib(kitti_real_root / "training" / "calib" / "000001.txt")
    write_calib(tmp_path / "c.txt", calib)
    again = read_calib(tmp_path / "c.txt")
    for name, matrix in calib.matrices().items():
        np.testing.assert_array_equal(matrix, again.matrices()[name])

    text = (kitti_real_root / "training" / "calib" / "000001.txt").read_text()
    no_p2 = tmp_path / "no_p2.txt"
    no_p2.write_text("\n".join(line for line in text.splitlines() if not line.startswith("P2:")))
    with pytest.raises(KittiFormatError, match=r"no_p2\.txt: missing required matrix P2"):
        read_calib(no_p2)
    short = tmp_path / "short.txt"
    short.write_text(text.replace("R0_rect: 9.999239000000e-01 ", "R0_rect: "))
    with pytest.raises(KittiFormatError, match=r"short\.txt:5: R0_rect: expected 9 numbers, got 8"):
        read_calib(short)


def test_velodyne_errors(tmp_path: Path) -> None:
    points = np.arange(40, dtype=np.float32).reshape(10, 4)
    write_velodyne(tmp_path / "ok.bin", points)
    np.testing.assert_array_equal(read_velodyne(tmp_path / "ok.bin"), points)
    (tmp_path / "odd.bin").write_bytes(points.tobytes()[:-3])
    with pytest.raises(KittiFormatError, match=r"odd\.bin: size 157 bytes is not a multiple of 16"):
        read_velodyne(tmp_path / "odd.bin")
    points[3, 1] = np.nan
    (tmp_path / "nan.bin").write_bytes(points.tobytes())
    with pytest.raises(KittiFormatError, match=r"nan\.bin: 1 points with non-finite values \(first at point 3\)"):
        read_velodyne(tmp_path / "nan.bin")


def test_image_errors(tmp_path: Path) -> None:
    image = np.zeros((5, 7, 3), np.uint8)
    image[2, 3] = (1, 2, 3)
    write_image(tmp_path / "ok.png", image)
    np.testing.assert_array_equal(read_image(tmp_path / "ok.png"), image)
    (tmp_path / "bad.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(KittiFormatError, match=r"bad\.png: image does not decode"):
        read_image(tmp_path / "bad.png")
    with pytest.raises(KittiFormatError, match="image file not found"):
        read_image(tmp_path / "missing.png")


def test_depth_round_trip_and_errors(tmp_path: Path) -> None:
    depth = np.linspace(0, 80, 12, dtype=np.float32).reshape(3, 4)
    write_depth(tmp_path / "d.npz", depth, sky=depth == 0)
    loaded = read_depth(tmp_path / "d.npz", expected_shape=(3, 4))
    np.testing.assert_array_equal(loaded["depth"], depth)
    with pytest.raises(KittiFormatError, match=r"expected the image size \(5, 4\)"):
        read_depth(tmp_path / "d.npz", expected_shape=(5, 4))
    np.savez(tmp_path / "neg.npz", depth=-depth)
    with pytest.raises(KittiFormatError, match="finite and >= 0"):
        read_depth(tmp_path / "neg.npz")


def test_split_missing_files_named(tmp_path: Path, kitti_real_root: Path) -> None:
    root = tmp_path / "kitti"
    for kind, suffix in (("calib", "txt"), ("image_2", "png"), ("label_2", "txt"), ("velodyne", "bin")):
        (root / "training" / kind).mkdir(parents=True)
        src = kitti_real_root / "training" / kind / f"000001.{suffix}"
        (root / "training" / kind / f"000001.{suffix}").symlink_to(src)
    write_split(root / "ImageSets" / "val.txt", [1, 5])
    ds = KittiDataset(root)
    assert read_split(ds.split_path("val")) == [1, 5]
    with pytest.raises(KittiFormatError, match=r"val\.txt:2: frame 000005 has no calib, image_2, label_2, velodyne"):
        ds.check_split("val")
    (root / "ImageSets" / "dup.txt").write_text("000001\n1\n")
    with pytest.raises(KittiFormatError, match=r"dup\.txt:2: frame 000001 listed twice"):
        read_split(root / "ImageSets" / "dup.txt")
    (root / "ImageSets" / "junk.txt").write_text("000001\nabc\n")
    with pytest.raises(KittiFormatError, match=r"junk\.txt:2: expected a frame id"):
        read_split(root / "ImageSets" / "junk.txt")
