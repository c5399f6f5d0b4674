"""Import layering: the KITTI I/O layer stands alone, the data side never reaches into the detector, and only the
ALPI data side uses the frustum engine."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    """Absolute module names a source file imports (``import a.b`` and ``from a.b import c`` give ``a.b`` and,
    for the latter, also ``a.b.c``, since ``c`` may be a submodule)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((REPO / package.replace(".", "/")).rglob("*.py")):
        for name in imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(REPO)} imports {name}")
    return found


@pytest.mark.parametrize("package, forbidden", [
    ("kitti.io", ("kitti.frustum", "kitti.depth", "train")),
    ("kitti", ("train",)),
    # the frustum engine builds the ALPI sets; shared helpers live in rooms named for their job (kitti.runner,
    # kitti.io.labels), so the labeller, evaluation, review page and detector never reach into it
    ("kitti.geometric", ("kitti.frustum.engine",)),
    ("kitti.eval", ("kitti.frustum.engine",)),
    ("kitti.review", ("kitti.frustum.engine",)),
    ("train", ("kitti.frustum.engine",)),
])
def test_layering(package: str, forbidden: tuple[str, ...]) -> None:
    assert violations(package, forbidden) == []


def test_layering_check_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself: a file importing a forbidden module is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from kitti.frustum.store import FrustumSet\nimport train.model\n")
    assert {"kitti.frustum.store", "train.model"} <= imported_modules(bad)
