#!/usr/bin/env bash
# The test command: sets up .venv (idempotent), builds ops, runs the test suite. Extra arguments go to pytest.
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    cat <<'USAGE'
Usage: bash scripts/run_tests.sh [pytest arguments...]

Creates/reuses .venv with the pinned runtime and test requirements, builds ops/, runs the lint gate (`ruff check`:
pyflakes, import rules, line length 120) and the type check (`mypy`, on kitti/), then `pytest tests` (settings of
all three in pyproject.toml). Arguments naming tests (a file, a folder or file::test) run those only:
  bash scripts/run_tests.sh tests/kitti/geometric -x
The real KITTI frames are read from ../shared/kitti_real (or $ALPI_KITTI_REAL); tests that need them skip without.
USAGE
    exit 0
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup_env.sh" --tests
cd "$root"
echo "[lint] ruff check"
"$root/.venv/bin/python" -m ruff check "$root"
echo "[types] mypy kitti"
"$root/.venv/bin/python" -m mypy
targets=(tests)
for arg in "$@"; do
    path="${arg%%::*}"
    if [[ "$arg" != -* && -e "$path" && "$(realpath "$path")/" == "$root/tests/"* ]]; then
        targets=()
        break
    fi
done
exec "$root/.venv/bin/python" -m pytest "${targets[@]}" "$@"
