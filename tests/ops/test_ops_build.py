"""ops/make.sh: builds the CPU module (and the CUDA one when nvcc exists) and is a fast no-op when up to date.

Runs first (alphabetical order), so a missing or stale build is made here once for the other ops tests."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ops

OPS_DIR = Path(ops.__file__).resolve().parent


def _make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "make.sh", *args], cwd=OPS_DIR, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHON": sys.executable})


def test_make_builds_then_skips_quickly() -> None:
    first = _make()
    assert first.returncode == 0, first.stderr
    start = time.perf_counter()
    second = _make()
    elapsed = time.perf_counter() - start
    assert second.returncode == 0, second.stderr
    assert "skipped _ops_cpu" in second.stdout and "up to date" in second.stdout
    assert "built" not in second.stdout
    assert elapsed < 1.0, f"an up-to-date make.sh took {elapsed:.2f} s"
    assert list(OPS_DIR.glob("_ops_cpu*.so"))


def test_make_help_and_bad_option() -> None:
    assert "Usage:" in _make("--help").stdout
    bad = _make("--no-such-option")
    assert bad.returncode != 0 and "unknown option" in bad.stderr


def test_make_reports_missing_pybind11(tmp_path: Path) -> None:
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\nexit 1\n")
    fake_python.chmod(0o755)
    result = subprocess.run(["bash", "make.sh"], cwd=OPS_DIR, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "PYTHON": str(fake_python)})
    assert result.returncode != 0 and "pybind11" in result.stderr


def test_missing_module_says_how_to_build(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str, package: str | None = None) -> None:
        raise ImportError(f"No module named {name}")

    ops._load.cache_clear()
    monkeypatch.setattr(ops.importlib, "import_module", missing)
    with pytest.raises(ImportError, match=r"cd ops && bash make.sh"):
        ops.iou_bev([[0, 0, 1, 1, 0]], [[0, 0, 1, 1, 0]])
    monkeypatch.undo()
    ops._load.cache_clear()
