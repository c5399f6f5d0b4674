"""kitti.outputs: a single-file report replaces only a report; a folder's manifest says which files are its own."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kitti.errors import OutputDirError
from kitti.outputs import check_report_file, owned_files


def test_report_path_new_or_an_earlier_report_is_accepted(tmp_path: Path) -> None:
    check_report_file(tmp_path / "new.json", [tmp_path / "data"])
    earlier = tmp_path / "report.json"
    earlier.write_text(json.dumps({"strict": {}}))
    check_report_file(earlier, [tmp_path / "data"])  # a rerun replaces its own report


@pytest.mark.parametrize("content, message", [
    ("Car 0.00 0 -1.57 1 2 3 4 1.5 1.6 3.9 2.0 1.6 20.0 -1.57\n", "is not a JSON report"),  # a label file
    ("[1, 2]\n", "is not a JSON report"),            # JSON, but not an object
    ("{ truncated", "is not a JSON report"),
])
def test_report_path_over_another_file_is_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "000000.txt"
    path.write_text(content)
    with pytest.raises(OutputDirError, match=message):
        check_report_file(path, [])
    assert path.read_text() == content


def test_report_path_inside_an_input_a_directory_or_a_link_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with pytest.raises(OutputDirError, match="lies inside"):
        check_report_file(data / "stats.json", [data])
    with pytest.raises(OutputDirError, match="is a directory"):
        check_report_file(data, [])
    (tmp_path / "link.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(OutputDirError, match="symbolic link"):
        check_report_file(tmp_path / "link.json", [])


def test_owned_files_come_from_the_manifest_and_an_unreadable_one_protects_everything(tmp_path: Path) -> None:
    manifest = tmp_path / "renders.json"
    assert owned_files(manifest, tmp_path, "*.png", "renders") == set()
    manifest.write_text(json.dumps({"files": ["000001.png"]}))
    assert owned_files(manifest, tmp_path, "*.png", "renders") == {"000001.png"}
    manifest.write_text(json.dumps({"files": ["../evil.png"]}))
    assert owned_files(manifest, tmp_path, "*.png", "renders") == set()   # no render beside it: rewritten
    (tmp_path / "000001.png").write_bytes(b"png")
    with pytest.raises(OutputDirError, match="manifest is unreadable"):
        owned_files(manifest, tmp_path, "*.png", "renders")
