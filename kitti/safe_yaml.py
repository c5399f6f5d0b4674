"""The project's YAML reader: ``yaml.safe_load`` (no tags, no objects) with a bounded document.

A YAML alias repeats a whole subtree, so a few hundred bytes of nested aliases expand to billions of nodes (an
"alias bomb"): every reader (and every error message that prints the value) would then take minutes and gigabytes.
:func:`load_yaml` refuses a document larger than :data:`MAX_BYTES`, or whose tree, with every alias expanded,
has more than :data:`MAX_NODES` nodes (or refers to itself), with a :class:`YamlTooLarge` (a ``yaml.YAMLError``,
so callers that report invalid YAML report it too).
"""
from __future__ import annotations

from typing import Any

import yaml

#: largest YAML text read (bytes); the project's configs are a few kilobytes
MAX_BYTES = 1 << 20
#: most nodes of a document with its aliases expanded; the project's configs have a few hundred
MAX_NODES = 20_000


class YamlTooLarge(yaml.YAMLError):
    """A document too large once its aliases are expanded, or one that refers to itself."""


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def expanded_size(root: yaml.Node, limit: int = MAX_NODES) -> int:
    """Nodes of ``root``'s tree with every alias expanded (shared subtrees counted once per use), capped at
    ``limit + 1``; a tree that contains itself counts as ``limit + 1``. Iterative: no recursion to exhaust."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            sizes[key] = min(limit + 1, 1 + sum(sizes[id(child)] for child in _children(node)))
            continue
        if key in sizes:
            continue
        if key in on_path:
            return limit + 1
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes[id(root)]


class _BoundedLoader(yaml.SafeLoader):
    def construct_document(self, node: yaml.Node) -> Any:
        if expanded_size(node) > MAX_NODES:
            raise YamlTooLarge(f"the document expands to more than {MAX_NODES} nodes through its aliases (or refers "
                               f"to itself); expected a small config")
        return super().construct_document(node)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load(text)`` with the bounds of the module docstring."""
    if len(text) > MAX_BYTES:
        raise YamlTooLarge(f"{len(text)} characters, more than the {MAX_BYTES} a config may have")
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def short(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
