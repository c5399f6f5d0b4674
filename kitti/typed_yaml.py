"""The one typed YAML loader of the project's configs: the detector config (:mod:`train.config`) and the data config
(:mod:`kitti.frustum.options`). A config file is a mapping of sections; its schema is a dataclass whose fields are
the sections (nested dataclasses) and values.

* ``_base_: other.yaml`` (a path relative to the file) inherits another file of the same schema; the file's own keys
  override the base's key by key (nested mappings are merged). Every file of the chain is checked against the schema
  on its own, so an error names the file that holds the bad key.
* An unknown key, a wrong type or a malformed file is an error naming the file and the dotted key; a missing key takes
  its default. Value types: ``bool``, ``int``, ``float`` (an integer is accepted), ``str``, ``list[T]`` and
  fixed-length ``tuple[...]`` of those.
* YAML is read with :func:`kitti.safe_yaml.load_yaml` (bounded, no tags, no objects).
* :func:`check_ranges` checks that every number of a loaded config is finite and within its declared range.

Errors are made by the schema's ``error(source, message)`` (each config keeps its own exception type); the message
is ``<source>: <message>``.
"""
from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from kitti.errors import ArgumentError
from kitti.safe_yaml import load_yaml, short

#: ``error(source, message)``: the exception a config raises (its message reads ``<source>: <message>``)
ErrorFactory = Callable[[str, str], Exception]


@dataclass(frozen=True)
class Schema:
    """What a config file must hold: the dataclass of the whole file, the config's name in messages (``"data
    config"``), its exception and, per section, the fields that the file may not set (run options)."""

    root: type
    what: str
    error: ErrorFactory
    excluded: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def _read_text(path: Path, schema: Schema) -> str:
    source = str(path)
    try:
        return path.read_text()
    except FileNotFoundError:
        raise schema.error(source, f"{schema.what} file not found") from None
    except IsADirectoryError:
        raise schema.error(source, f"is a directory, expected a {schema.what} file (YAML)") from None
    except UnicodeDecodeError:
        raise schema.error(source, f"not UTF-8 text (expected a {schema.what} file, YAML)") from None
    except (OSError, RuntimeError) as exc:  # a symlink loop, permissions
        reason = getattr(exc, "strerror", None) or exc
        raise schema.error(source, f"cannot be read ({reason}; expected a {schema.what} file)") from None


def _parse(text: str, source: str, schema: Schema) -> dict[str, Any]:
    try:
        raw = load_yaml(text) or {}
    except yaml.YAMLError as exc:  # invalid YAML, a tag, or too large once its aliases are expanded
        raise schema.error(source, f"not valid YAML ({str(exc).splitlines()[0][:200]})") from None
    if not isinstance(raw, dict) or any(not isinstance(key, str) for key in raw):
        names = ", ".join(f.name for f in dataclasses.fields(schema.root))
        raise schema.error(source, f"expected a mapping of sections ({names})")
    return raw


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``, nested mappings merged key by key."""
    merged = dict(base)
    for key, value in top.items():
        old = merged.get(key)
        merged[key] = _merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    return merged


def read_mapping(path: Path, schema: Schema, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The raw mapping of the config file ``path`` merged over its ``_base_`` chain, each file checked against the
    schema (:func:`build`) on its own."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        resolved = path.absolute()  # unreadable: _read_text names the problem
    text = _read_text(path, schema)
    if resolved in chain:
        raise schema.error(str(path), "_base_ chain loops back to this file")
    raw = _parse(text, str(path), schema)
    base = raw.pop("_base_", None)
    merged: dict[str, Any] = {}
    if base is not None:
        if not isinstance(base, str):
            raise schema.error(str(path), f"_base_: expected a file name, got {short(base)}")
        merged = read_mapping(path.parent / base, schema, chain + (resolved,))
    build(schema.root, raw, str(path), schema)  # errors of this file's keys name this file
    return _merge(merged, raw)


def load(path: str | Path, schema: Schema) -> Any:
    """The typed config (an instance of ``schema.root``) of the file ``path`` and its ``_base_`` chain."""
    return build(schema.root, read_mapping(Path(path), schema), str(path), schema)


def build(cls: type, raw: Any, source: str, schema: Schema, prefix: str = "") -> Any:
    """An instance of the dataclass ``cls`` from the mapping ``raw`` (missing keys: defaults); ``prefix`` is the
    dotted key of ``raw`` in the file. A ``ValueError`` of the dataclass's own checks becomes the schema's error."""
    if not isinstance(raw, dict):
        raise schema.error(source, f"{prefix or 'top level'}: expected a mapping, got {short(raw)}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)} - set(schema.excluded.get(prefix, ()))
    values: dict[str, Any] = {}
    for key, value in raw.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if key not in names:
            raise schema.error(source, f"unknown key '{dotted[:60]}'")
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            values[key] = build(typing.cast(type, hint), value, source, schema, dotted)
        else:
            values[key] = _value(value, hint, source, dotted, schema)
    try:
        return cls(**values)
    except ValueError as exc:
        raise schema.error(source, f"{prefix or 'top level'}: {exc}") from None


def _value(value: Any, hint: Any, source: str, key: str, schema: Schema) -> Any:
    """``value`` checked against the type ``hint``."""
    origin = typing.get_origin(hint)
    if origin is list:
        if not isinstance(value, list):
            raise schema.error(source, f"{key}: expected a list, got {short(value)}")
        (inner,) = typing.get_args(hint)
        return [_value(v, inner, source, f"{key}[{i}]", schema) for i, v in enumerate(value)]
    if origin is tuple:
        inner = typing.get_args(hint)
        if not isinstance(value, (list, tuple)) or len(value) != len(inner):
            raise schema.error(source, f"{key}: expected a list of {len(inner)} numbers, got {short(value)}")
        return tuple(_value(v, h, source, f"{key}[{i}]", schema) for i, (v, h) in enumerate(zip(value, inner)))
    checks: dict[Any, tuple[Callable[[Any], bool], str]] = {
        bool: (lambda v: isinstance(v, bool), "true or false"),
        int: (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
        float: (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
        str: (lambda v: isinstance(v, str), "a string"),
    }
    if hint not in checks:
        raise TypeError(f"{key}: unsupported option type {hint}")
    accepts, expected = checks[hint]
    if not accepts(value):
        raise schema.error(source, f"{key}: expected {expected}, got {short(value)}")
    return float(value) if hint is float else value


def numbers(node: Any, key: str = "") -> list[tuple[str, float]]:
    """Every number under ``node`` (a config dataclass, list, tuple or value) as ``(dotted key, value)``; list and
    tuple items go under their field's key."""
    if dataclasses.is_dataclass(node):
        return [item for f in dataclasses.fields(node)
                for item in numbers(getattr(node, f.name), f"{key}.{f.name}" if key else f.name)]
    if isinstance(node, (list, tuple)):
        return [item for value in node for item in numbers(value, key)]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return [(key, node)]
    return []


def check_ranges(node: Any, ranges: Mapping[str, tuple[float, float]], source: str, error: ErrorFactory,
                 flags: Mapping[str, str] | None = None) -> None:
    """Every number of ``node`` finite and within ``ranges[dotted key]`` (inclusive). A bad value set by a
    command-line flag (``flags``: dotted key -> flag) is an :class:`~kitti.errors.ArgumentError` naming the flag,
    any other one the config's error naming ``source``."""
    flags = flags or {}
    for key, value in numbers(node):
        low, high = ranges[key]
        if not (math.isfinite(value) and low <= value <= high):
            if key in flags:
                raise ArgumentError(f"{flags[key]} {value}: expected a value in {low:g}..{high:g}")
            raise error(source, f"{key}: expected a finite value in {low:g}..{high:g}, got {value}")
