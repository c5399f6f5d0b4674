"""Command-line options declared once, as the fields of a frozen dataclass.

* :func:`option` declares a field: its default (a value, or a callable for a factory; none = a required flag), its
  help text, its choices and its check ``(predicate, expectation)``;
* :func:`add_arguments` adds one flag ``--name-with-dashes`` per field to a parser, typed by the field's annotation
  (a ``bool`` field is a switch);
* :func:`check_fields`, called by the dataclass's ``__post_init__``, raises an :class:`OptionError` naming the flag
  of the first value outside its choices or failing its check;
* :func:`from_args` builds the dataclass from parsed arguments;
* :func:`to_argv` writes a dataclass's values back as command-line arguments (what a caller passes to the command
  whose flags the same dataclass generates).

The pipeline's :class:`train.pipeline.options.RunOptions`, the data commands' :mod:`kitti.data_args` and the
detector commands' :mod:`train.args` are made this way.
"""
from __future__ import annotations

import argparse
import typing
from dataclasses import MISSING, Field, field, fields
from typing import Any, Callable, TypeVar

from kitti.errors import ArgumentError

#: ``(predicate, expectation)``: a value is good when ``predicate(value)``; the message says ``expected <expectation>``
Check = tuple[Callable[[Any], bool], str]
Options = TypeVar("Options")


class OptionError(ArgumentError, ValueError):
    """An option value outside its choices or failing its check (a ``ValueError`` for the dataclass's callers)."""


def option(default: Any = MISSING, help: str = "", choices: tuple[str, ...] | None = None,
           check: Check | None = None, positional: str | None = None) -> Any:
    """A dataclass field that is a command-line option (``default`` callable: a default factory). ``positional``:
    the field is the command's trailing positional arguments (a tuple, zero or more), shown as this metavar."""
    metadata = {"help": help, "choices": choices, "check": check, "positional": positional}
    if callable(default):
        return field(default_factory=default, metadata=metadata)
    return field(default=default, metadata=metadata)


def flag(name: str) -> str:
    """The command-line flag of the field ``name``."""
    return f"--{name.replace('_', '-')}"


def field_default(item: Field) -> Any:
    """The field's default value (MISSING for a required option)."""
    if item.default_factory is not MISSING:
        return item.default_factory()
    return item.default


def _kind(hint: Any) -> Any:
    """The argparse ``type`` of an annotation (``X | None`` -> ``X``)."""
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    return args[0] if args else hint


def add_arguments(parser: argparse.ArgumentParser, cls: type, defaults_none: bool = False,
                  shown_default: Callable[[Any], Any] = lambda value: value, skip: tuple[str, ...] = ()) -> None:
    """One flag per field of the dataclass ``cls`` but those named in ``skip``. ``defaults_none``: every flag
    defaults to None (= not given; the caller resolves the defaults); ``shown_default`` turns a default into its
    text in the help."""
    hints = typing.get_type_hints(cls)
    for item in fields(cls):
        if item.name in skip:
            continue
        default = field_default(item)
        help_text = item.metadata.get("help", "")
        if item.metadata.get("positional"):
            parser.add_argument(item.name, nargs="*", metavar=item.metadata["positional"],
                                help=help_text.replace("%", "%%"))
            continue
        if hints[item.name] is bool:
            parser.add_argument(flag(item.name), dest=item.name, action="store_true",
                                default=None if defaults_none else default, help=help_text.replace("%", "%%"))
            continue
        if default is not MISSING and default is not None:
            help_text = f"{help_text} (default: {shown_default(default)})"
        parser.add_argument(flag(item.name), dest=item.name, type=_kind(hints[item.name]),
                            default=None if defaults_none or default is MISSING else default,
                            required=default is MISSING and not defaults_none, choices=item.metadata.get("choices"),
                            help=help_text.replace("%", "%%"))


def check_fields(options: object) -> None:
    """Raise :class:`OptionError` for the first field outside its choices or failing its check."""
    for item in fields(options):  # type: ignore[arg-type]
        value = getattr(options, item.name)
        choices, check = item.metadata.get("choices"), item.metadata.get("check")
        if choices is not None and value not in choices and not (value is None and field_default(item) is None):
            raise OptionError(f"{flag(item.name)} {value!r}: expected one of {', '.join(choices)}")
        if check is not None and value is not None and not check[0](value):
            raise OptionError(f"{flag(item.name)} {value!r}: expected {check[1]}")


def from_args(cls: Callable[..., Options], args: argparse.Namespace) -> Options:
    """The dataclass ``cls`` from parsed arguments holding a value for each of its fields."""
    return cls(**{item.name: getattr(args, item.name) for item in fields(cls)})  # type: ignore[arg-type]


def to_argv(options: object) -> list[str]:
    """The command-line arguments that give every value of the dataclass ``options`` (the inverse of
    :func:`add_arguments` and :func:`from_args`): ``--name value`` per field, a switch for a true ``bool``, nothing for
    None or a false ``bool``, the positional field's values last."""
    argv: list[str] = []
    trailing: list[str] = []
    for item in fields(options):  # type: ignore[arg-type]
        value = getattr(options, item.name)
        if item.metadata.get("positional"):
            trailing = [str(v) for v in value]
        elif isinstance(value, bool):
            argv += [flag(item.name)] if value else []
        elif value is not None:
            argv += [flag(item.name), str(value)]
    return argv + trailing


def between(low: float, high: float | None = None) -> Check:
    """The check of a number in ``[low, high]`` (``high`` None: no upper bound; NaN never passes)."""
    expected = f">= {low:g}" if high is None else f"a value in [{low:g}, {high:g}]"
    return (lambda value: value == value and low <= value and (high is None or value <= high)), expected
