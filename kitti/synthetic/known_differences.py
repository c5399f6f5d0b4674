"""The realism report's known differences (``known_differences.yaml`` beside this module): statistics on which the
world and the real frames differ for a stated cause, each with its measured effect on the labels.

The file::

    version: 1                # the table's own version: bump it when an entry changes meaning
    generator: "1.5"          # the world generator (kitti.synthetic.generate.VERSION) the entries were measured on
    differences:
      - id: short-name        # unique
        rows:                 # the report rows it covers; each key narrows the match, an omitted key matches any
          - {table: truncation_occlusion, class: Car, bin: 0-10 m, statistic: occluded >= 1}
        cause: sampling       # one of CAUSES
        why: ...              # why the world differs (text)
        effect: ...           # the measured effect on the labels, with figures (text)

``table`` is a table of the report (:data:`TABLES`; ``budget`` is the labeller's); the other row keys are
``class``, ``bin`` (scene tables), ``group`` (budget: ``all`` or a distance bin), ``ring`` and ``statistic``. The
file is validated on load: a missing or unknown key, an unknown table or cause, a duplicate id or an empty row list
is a :class:`KnownDifferencesError` naming the file and the entry. :func:`mark_known` turns the ``off`` rows an
entry covers into ``known``; a row within its tolerance stays ``ok`` whatever the table says.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from kitti.errors import FileInputError
from kitti.safe_yaml import load_yaml

PATH = Path(__file__).with_name("known_differences.yaml")
TABLES = ("points_per_object", "height_bands", "clutter", "ground_residual", "extent", "truncation_occlusion",
          "height_2d", "points_per_ring", "budget")
#: why a statistic differs: the 14 real frames are too few to pin it; KITTI's annotators' habits the world does not
#: imitate; something of the world's scenes, objects or sensor not modelled
CAUSES = ("sampling", "annotation", "not modelled")
TOP_KEYS = ("version", "generator", "differences")
ENTRY_KEYS = ("id", "rows", "cause", "why", "effect")
ROW_KEYS = ("table", "class", "bin", "group", "ring", "statistic")


class KnownDifferencesError(FileInputError):
    """A malformed table of known differences."""


@dataclass(frozen=True)
class KnownDifference:
    """One entry of the table: the rows it covers (``{key: value}`` selectors), its cause and measured effect."""

    id: str
    rows: tuple[Mapping[str, str], ...]
    cause: str
    why: str
    effect: str

    def covers(self, table: str, row: Mapping[str, Any]) -> bool:
        """Whether the report row ``row`` of ``table`` is one of this entry's."""
        return any(sel["table"] == table and all(str(row.get(k)) == v for k, v in sel.items() if k != "table")
                   for sel in self.rows)


@dataclass(frozen=True)
class KnownDifferences:
    """The whole table."""

    version: int
    generator: str
    differences: tuple[KnownDifference, ...]


def _keys(node: Any, allowed: tuple[str, ...], where: str, source: str, required: Iterable[str]) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise KnownDifferencesError(source, f"{where}: expected a mapping, got {type(node).__name__}")
    unknown = sorted(set(map(str, node)) - set(allowed))
    if unknown:
        raise KnownDifferencesError(source, f"{where}: unknown key {unknown[0]!r} (expected {', '.join(allowed)})")
    missing = [key for key in required if key not in node]
    if missing:
        raise KnownDifferencesError(source, f"{where}: missing key {missing[0]!r}")
    return node


def _text(value: Any, where: str, source: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise KnownDifferencesError(source, f"{where}: expected non-empty text, got {value!r}")
    return value.strip()


def _entry(node: Any, index: int, source: str) -> KnownDifference:
    where = f"differences[{index}]"
    node = _keys(node, ENTRY_KEYS, where, source, ENTRY_KEYS)
    where = f"{where} ({node.get('id')})"
    if not isinstance(node["rows"], list) or not node["rows"]:
        raise KnownDifferencesError(source, f"{where}: rows: expected a non-empty list")
    rows = []
    for k, sel in enumerate(node["rows"]):
        sel = _keys(sel, ROW_KEYS, f"{where}: rows[{k}]", source, ("table",))
        sel = {key: _text(value, f"{where}: rows[{k}].{key}", source) for key, value in sel.items()}
        if sel["table"] not in TABLES:
            raise KnownDifferencesError(source, f"{where}: rows[{k}]: unknown table {sel['table']!r} "
                                                f"(expected one of {', '.join(TABLES)})")
        rows.append(sel)
    if node["cause"] not in CAUSES:
        raise KnownDifferencesError(source, f"{where}: cause {node['cause']!r}: expected one of {', '.join(CAUSES)}")
    return KnownDifference(_text(node["id"], f"{where}: id", source), tuple(rows), node["cause"],
                           _text(node["why"], f"{where}: why", source), _text(node["effect"], f"{where}: effect",
                                                                               source))


def parse_known_differences(text: str, source: str) -> KnownDifferences:
    """The table in the YAML ``text`` (module docstring); ``source`` names it in errors."""
    try:
        raw = load_yaml(text)
    except yaml.YAMLError as exc:
        raise KnownDifferencesError(source, f"invalid YAML ({exc})") from None
    raw = _keys(raw, TOP_KEYS, "top level", source, TOP_KEYS)
    if not isinstance(raw["version"], int) or isinstance(raw["version"], bool):
        raise KnownDifferencesError(source, f"version: expected an integer, got {raw['version']!r}")
    if not isinstance(raw["differences"], list):
        raise KnownDifferencesError(source, "differences: expected a list")
    entries = tuple(_entry(node, k, source) for k, node in enumerate(raw["differences"]))
    ids = [entry.id for entry in entries]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate is not None:
        raise KnownDifferencesError(source, f"id {duplicate!r} appears twice")
    return KnownDifferences(raw["version"], _text(raw["generator"], "generator", source), entries)


def load_known_differences(path: str | Path = PATH) -> KnownDifferences:
    """The table of known differences (the committed one by default)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise KnownDifferencesError(path, f"cannot be read ({exc.strerror or exc})") from None
    return parse_known_differences(text, str(path))


def mark_known(tables: Mapping[str, list[dict[str, Any]]], known: KnownDifferences) -> list[str]:
    """Turn every ``off`` row of ``tables`` (table name -> rows) that an entry covers into ``known`` (with the
    entry's id under ``"known"``); return the ids of the entries that covered a row, in table order."""
    used: list[str] = []
    for table, rows in tables.items():
        for row in rows:
            if row["verdict"] != "off":
                continue
            entry = next((e for e in known.differences if e.covers(table, row)), None)
            if entry is not None:
                row["verdict"], row["known"] = "known", entry.id
                used += [] if entry.id in used else [entry.id]
    return used
