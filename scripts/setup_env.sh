#!/usr/bin/env bash
# Create or reuse the project virtual environment, install the pinned requirements, the project itself (editable) and build the compiled ops.
# Idempotent: a second run with unchanged requirements installs nothing and takes a few seconds.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: bash scripts/setup_env.sh [--tests] [--no-ops] [--no-da3] [--help]

Creates (or reuses) .venv in the repository root, installs requirements.txt (and requirements-test.txt with
--tests, plus Debian's chromium and chromium-driver for the browser tests when run as root with apt), installs
Depth Anything 3 from requirements-da3.txt unless --no-da3 is given, and builds ops/ with `cd ops && bash make.sh`
unless --no-ops is given.

Depth Anything 3: depth-anything-3 is installed with --no-deps (its declared dependencies would replace the CPU
torch with a CUDA build and pull about 7.6 GB), then only the light dependencies of the network route listed in
requirements-da3.txt. The torch version is checked to be unchanged afterwards.

torch: a torch already importable by the base interpreter (for example a CUDA build) is kept: the venv is then
created with --system-site-packages. Otherwise the CPU build torch==2.13.0 is installed, first from local wheels
(pip --no-index, honouring pip's find-links), then from the PyTorch CPU index (ALPI_TORCH_INDEX), never a CUDA build.

Environment: PYTHON (base interpreter, default python3), ALPI_VENV (default <repo>/.venv).
USAGE
}

with_tests=0
with_ops=1
with_da3=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --tests) with_tests=1 ;;
        --no-ops) with_ops=0 ;;
        --no-da3) with_da3=0 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "setup_env.sh: unknown option '$1'" >&2; usage >&2; exit 1 ;;
    esac
    shift
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ALPI_VENV:-$root/.venv}"
base_python="${PYTHON:-python3}"
torch_index="${ALPI_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}"

if ! command -v "$base_python" >/dev/null 2>&1; then
    echo "setup_env.sh: '$base_python' not found; install Python 3.10+ or set PYTHON" >&2
    exit 1
fi
if ! "$base_python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
    echo "setup_env.sh: Python 3.10+ required, '$base_python' is $("$base_python" --version 2>&1)" >&2
    exit 1
fi

if [[ ! -x "$venv/bin/python" ]]; then
    if "$base_python" -c 'import torch' >/dev/null 2>&1; then
        echo "[setup] creating $venv (keeping the existing torch $("$base_python" -c 'import torch; print(torch.__version__)'))"
        "$base_python" -m venv --system-site-packages "$venv"
    else
        echo "[setup] creating $venv"
        "$base_python" -m venv "$venv"
    fi
fi
py="$venv/bin/python"

req_files=("$root/requirements.txt")
if [[ "$with_tests" == 1 ]]; then
    req_files+=("$root/requirements-test.txt")
fi
da3_req="$root/requirements-da3.txt"
stamped=("${req_files[@]}")
if [[ "$with_da3" == 1 ]]; then
    stamped+=("$da3_req")
fi
stamp_file="$venv/.alpi-requirements.sha256"
stamp="$(cat "${stamped[@]}" "$root/scripts/setup_env.sh" | sha256sum | cut -d' ' -f1)"

if [[ -f "$stamp_file" ]] && [[ "$(cat "$stamp_file")" == "$stamp" ]]; then
    echo "[setup] requirements up to date in $venv"
else
    if ! "$py" -c 'import torch' >/dev/null 2>&1; then
        echo "[setup] installing torch==2.13.0 (CPU build)"
        # A local wheel (pip's find-links) first, without its dependencies, so that no index is asked for torch
        # itself; the dependencies then come from the usual index. Without a local wheel: the PyTorch CPU index.
        if "$py" -m pip install --quiet --no-index --no-deps torch==2.13.0 >/dev/null 2>&1; then
            "$py" -m pip install --quiet torch==2.13.0
        else
            echo "[setup] no local torch wheel; installing the CPU build from $torch_index"
            "$py" -m pip install torch==2.13.0 --index-url "$torch_index"
        fi
    fi
    pip_args=()
    for req in "${req_files[@]}"; do
        pip_args+=(-r "$req")
    done
    echo "[setup] installing pinned requirements: ${req_files[*]##*/}"
    "$py" -m pip install --quiet "${pip_args[@]}"
    if [[ "$with_da3" == 1 ]]; then
        torch_before="$("$py" -c 'import torch; print(torch.__version__)')"
        da3_pin="$(grep -E '^depth-anything-3==' "$da3_req")"
        da3_deps="$(mktemp)"
        trap 'rm -f "$da3_deps"' EXIT
        grep -vE '^depth-anything-3==' "$da3_req" > "$da3_deps"
        echo "[setup] installing $da3_pin (--no-deps) and its network-route dependencies"
        echo "[setup] (pip then lists depth-anything-3's undeclared heavy dependencies as conflicts: expected)"
        "$py" -m pip install --quiet --no-deps "$da3_pin"
        "$py" -m pip install --quiet -r "$da3_deps"
        torch_after="$("$py" -c 'import torch; print(torch.__version__)')"
        if [[ "$torch_after" != "$torch_before" ]]; then
            echo "setup_env.sh: installing Depth Anything 3 changed torch $torch_before -> $torch_after" >&2
            exit 1
        fi
    fi
    echo "$stamp" > "$stamp_file.tmp"
    mv "$stamp_file.tmp" "$stamp_file"
fi

# The review page's browser tests (tests/kitti/review/test_browser.py) drive Debian's chromium through
# chromium-driver. With --tests they are installed when missing, as root with apt; otherwise those tests skip and
# say what is missing.
if [[ "$with_tests" == 1 ]] && ! { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "[setup] installing chromium and chromium-driver (apt, for the browser tests)"
        export DEBIAN_FRONTEND=noninteractive
        if ! apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; then
            apt-get update -qq >/dev/null 2>&1 || true
            apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 \
                || echo "[setup] apt could not install chromium chromium-driver: the browser tests will skip"
        fi
    else
        echo "[setup] chromium / chromedriver not found (installing them needs root and apt): the browser tests will skip"
    fi
fi

# The project itself, editable (no dependencies: they are pinned above): makes kitti, train and ops importable
# from any directory without sys.path changes.
installed_at="$(cd / && "$py" -c 'import kitti, train, ops, pathlib; print(pathlib.Path(kitti.__file__).resolve().parents[1])' 2>/dev/null || true)"
if [[ "$installed_at" != "$root" ]]; then
    echo "[setup] installing the project (editable)"
    "$py" -m pip install --quiet --no-deps --no-build-isolation -e "$root"
fi

# Byte-compile the project's own modules (a quick no-op when up to date): an editable install leaves them as sources,
# and where PYTHONDONTWRITEBYTECODE is set every process compiles again what it imports (the test suite and the
# pipeline start a few hundred processes and spawn workers; about 0.3 s each).
"$py" -m compileall -q -j 0 "$root/kitti" "$root/train" "$root/ops" >/dev/null \
    || echo "[setup] could not byte-compile every module of the project (they compile on import)"

if [[ "$with_ops" == 1 ]] && [[ -f "$root/ops/make.sh" ]]; then
    (cd "$root/ops" && PYTHON="$py" bash make.sh)
fi
