#!/usr/bin/env bash
# The test command: sets up .venv (idempotent), builds ops, runs the test suite. Extra arguments go to pytest.
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    cat <<'USAGE'
Usage: bash scripts/run_tests.sh [pytest arguments...]

Creates/reuses .venv with the pinned runtime and test requirements, builds ops/, runs the lint gate (`ruff check`:
pyflakes, import rules, line length 120) and the type check (`mypy`, on kitti/), then `pytest tests` (settings of
all three in pyproject.toml).
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
exec "$root/.venv/bin/python" -m pytest tests "$@"
