#!/usr/bin/env bash
# Build the compiled ops into ops/: _ops_cpu<EXT_SUFFIX> (C++/pybind11, always) and _ops_cuda<EXT_SUFFIX> (CUDA,
# when nvcc is found). Plain compiler command lines, no setuptools and no torch. Idempotent: a module whose .so is
# newer than all of its sources and this script is not rebuilt.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: cd ops && bash make.sh [--force] [--no-cuda] [--help]

Builds the rotated-box ops (IoU, NMS, points-in-boxes):
  _ops_cpu<EXT_SUFFIX>   C++17 + pybind11, single-threaded; always built.
  _ops_cuda<EXT_SUFFIX>  CUDA kernels, a separate module (the CPU module never needs a CUDA runtime); built when
                         nvcc is found, with the CUDA runtime linked statically (only the driver is needed to run).
An up-to-date module (its .so newer than its sources and make.sh) is skipped; use --force after changing the
compiler, the Python/pybind11 or CUDA_ARCHS.

Options:
  --force     rebuild even when up to date
  --no-cuda   do not build the CUDA module
  -h, --help  show this message

Environment:
  PYTHON      interpreter whose pybind11 and EXT_SUFFIX are used (default: ../.venv/bin/python if present,
              else python3)
  CXX         C++ compiler (default: c++, else g++); also nvcc's host compiler
  NVCC        CUDA compiler (default: nvcc on PATH, else $CUDA_HOME/bin/nvcc)
  CUDA_ARCHS  space-separated SM versions for the CUDA module (default: "75 80 86 89 90")
USAGE
}

die() {
    echo "make.sh: error: $*" >&2
    exit 1
}

force=0
build_cuda=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --force) force=1 ;;
        --no-cuda) build_cuda=0 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "make.sh: unknown option '$1'" >&2; usage >&2; exit 1 ;;
    esac
    shift
done

ops_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ops_dir"
make_script="$ops_dir/make.sh"

# --- toolchain --------------------------------------------------------------------------------------------------
if [[ -n "${PYTHON:-}" ]]; then
    python="$PYTHON"
elif [[ -x "$ops_dir/../.venv/bin/python" ]]; then
    python="$(dirname "$ops_dir")/.venv/bin/python"
else
    python="python3"
fi
command -v "$python" >/dev/null 2>&1 || die "Python interpreter '$python' not found (set PYTHON)"

if ! pybind_flags="$("$python" -m pybind11 --includes 2>/dev/null)"; then
    die "pybind11 is not installed for '$python' (pip install pybind11, or set PYTHON to the project venv python)"
fi
read -r -a pybind_includes <<< "$pybind_flags"
# EXT_SUFFIX from the interpreter itself (a python3-config on PATH may belong to another Python).
ext_suffix="$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"

cxx="${CXX:-}"
if [[ -z "$cxx" ]]; then
    for candidate in c++ g++; do
        if command -v "$candidate" >/dev/null 2>&1; then
            cxx="$candidate"
            break
        fi
    done
fi
[[ -n "$cxx" ]] || die "no C++ compiler found (install g++ or set CXX)"
command -v "$cxx" >/dev/null 2>&1 || die "C++ compiler '$cxx' not found (set CXX)"

# --- sources ----------------------------------------------------------------------------------------------------
shopt -s nullglob
headers=(csrc/*.h csrc/*/*.h)
cpu_sources=(csrc/bindings.cpp csrc/*/*_cpu.cpp)
cuda_sources=(csrc/bindings_cuda.cpp csrc/*/*_cuda.cu)
shopt -u nullglob

# up_to_date TARGET SOURCE...: TARGET exists and is newer than every SOURCE.
up_to_date() {
    local target="$1"
    shift
    [[ -f "$target" ]] || return 1
    local source
    for source in "$@"; do
        [[ "$target" -nt "$source" ]] || return 1
    done
}

tmp_outputs=()
cleanup() {
    if [[ ${#tmp_outputs[@]} -gt 0 ]]; then
        rm -f "${tmp_outputs[@]}"
    fi
}
trap cleanup EXIT

# build TARGET COMMAND...: runs COMMAND with the output path appended, then moves the result into place (an
# importer never sees a half-written module).
build() {
    local target="$1"
    shift
    local tmp="$target.tmp.$$"
    tmp_outputs+=("$tmp")
    local start="$SECONDS"
    "$@" -o "$tmp"
    mv -f "$tmp" "$target"
    echo "[ops] built $target in $((SECONDS - start)) s"
}

# --- CPU module -------------------------------------------------------------------------------------------------
cpu_target="_ops_cpu$ext_suffix"
if [[ "$force" == 0 ]] && up_to_date "$cpu_target" "${cpu_sources[@]}" "${headers[@]}" "$make_script"; then
    echo "[ops] skipped $cpu_target: up to date"
else
    echo "[ops] building $cpu_target with $cxx (Python: $python)"
    build "$cpu_target" "$cxx" -O3 -std=c++17 -shared -fPIC -Wall -Wextra "${pybind_includes[@]}" -Icsrc \
        "${cpu_sources[@]}"
fi

# --- CUDA module ------------------------------------------------------------------------------------------------
cuda_target="_ops_cuda$ext_suffix"
nvcc="${NVCC:-}"
if [[ -z "$nvcc" ]]; then
    if command -v nvcc >/dev/null 2>&1; then
        nvcc="nvcc"
    elif [[ -n "${CUDA_HOME:-}" && -x "${CUDA_HOME}/bin/nvcc" ]]; then
        nvcc="${CUDA_HOME}/bin/nvcc"
    fi
fi

if [[ "$build_cuda" == 0 ]]; then
    echo "[ops] skipped $cuda_target: --no-cuda"
elif [[ -z "$nvcc" ]]; then
    echo "[ops] skipped $cuda_target: nvcc not found (set NVCC or CUDA_HOME to build the CUDA module)"
elif [[ "$force" == 0 ]] && up_to_date "$cuda_target" "${cuda_sources[@]}" "${headers[@]}" "$make_script"; then
    echo "[ops] skipped $cuda_target: up to date"
else
    # Real code for each listed SM (Turing .. Hopper) plus PTX of the newest one, which the driver JIT-compiles on
    # later GPUs (Blackwell). The kernels are small: about 20 s on 2 cores for the default list (about 13 s with a
    # single SM; set CUDA_ARCHS to the local GPU's SM for the fastest build).
    read -r -a archs <<< "${CUDA_ARCHS:-75 80 86 89 90}"
    [[ ${#archs[@]} -gt 0 ]] || die "CUDA_ARCHS is empty"
    gencode=()
    for arch in "${archs[@]}"; do
        gencode+=("-gencode=arch=compute_${arch},code=sm_${arch}")
    done
    gencode+=("-gencode=arch=compute_${archs[-1]},code=compute_${archs[-1]}")
    echo "[ops] building $cuda_target with $nvcc for SM ${archs[*]} (+ PTX of SM ${archs[-1]})"
    # --fmad=false: no fused multiply-adds, so the kernels round exactly like the CPU module (boxes are prepared on
    # the host), e.g. identical boxes give an IoU of exactly 1 on both.
    build "$cuda_target" "$nvcc" -O3 -std=c++17 -shared -Xcompiler -fPIC -ccbin "$cxx" --cudart static --fmad=false \
        "${gencode[@]}" "${pybind_includes[@]}" -Icsrc "${cuda_sources[@]}"
fi
