"""The table of known differences (kitti.synthetic.known_differences): the committed table loads and names tables
the report has, a malformed table fails with the file and entry named, and an entry turns the off rows it covers
into known ones, and only those."""
from __future__ import annotations

import pytest

from kitti.errors import InputError
from kitti.synthetic import known_differences as kd
from kitti.synthetic.generate import VERSION

GOOD = """version: 1
generator: "1.5"
differences:
  - id: near
    rows: [{table: truncation_occlusion, class: Car, bin: 0-10 m, statistic: occluded >= 1}]
    cause: sampling
    why: six cars
    effect: none measurable
"""


def test_the_committed_table_loads() -> None:
    table = kd.load_known_differences()
    assert table.version >= 1 and table.generator == VERSION
    assert len(table.differences) >= 5
    for entry in table.differences:
        assert entry.cause in kd.CAUSES and entry.rows and len(entry.effect) > 40
        assert all(sel["table"] in kd.TABLES for sel in entry.rows)


@pytest.mark.parametrize("bad, message", [
    (GOOD.replace("    cause: sampling", "    cause: sampling\n    colour: red"), "unknown key 'colour'"),
    (GOOD.replace("statistic: occluded", "statstic: occluded"), "unknown key 'statstic'"),
    (GOOD.replace("table: truncation_occlusion", "table: occlusion"), "unknown table 'occlusion'"),
    (GOOD.replace("cause: sampling", "cause: bad luck"), "cause 'bad luck'"),
    (GOOD.replace("    effect: none measurable\n", ""), "missing key 'effect'"),
    (GOOD.replace("version: 1\n", "version: 1\nowner: me\n"), "unknown key 'owner'"),
    (GOOD + GOOD.split("differences:\n")[1], "id 'near' appears twice"),
    (GOOD.replace("rows: [{table: truncation_occlusion, class: Car, bin: 0-10 m, statistic: occluded >= 1}]",
                  "rows: []"), "non-empty list"),
])
def test_a_malformed_table_is_an_error(bad: str, message: str) -> None:
    with pytest.raises(kd.KnownDifferencesError, match=message) as caught:
        kd.parse_known_differences(bad, "table.yaml")
    assert isinstance(caught.value, InputError) and str(caught.value).startswith("table.yaml: ")


def test_entries_mark_the_off_rows_they_cover() -> None:
    table = kd.parse_known_differences(GOOD, "table.yaml")
    rows = [{"class": "Car", "bin": "0-10 m", "statistic": "occluded >= 1", "verdict": "off"},
            {"class": "Car", "bin": "0-10 m", "statistic": "occluded >= 2", "verdict": "off"},
            {"class": "Car", "bin": "10-20 m", "statistic": "occluded >= 1", "verdict": "off"}]
    ok = {"class": "Car", "bin": "0-10 m", "statistic": "occluded >= 1", "verdict": "ok"}
    other_table = [dict(rows[0])]
    used = kd.mark_known({"truncation_occlusion": rows + [ok], "height_2d": other_table}, table)
    assert used == ["near"]
    assert [row["verdict"] for row in rows] == ["known", "off", "off"] and rows[0]["known"] == "near"
    assert ok["verdict"] == "ok" and other_table[0]["verdict"] == "off"
