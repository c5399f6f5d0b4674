#!/usr/bin/env bash
# Whole ALPI pipeline: step 0, step 1, step 2, refinement. With --demo: on the embedded synthetic KITTI world.
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: bash scripts/all_steps_script.sh [--demo] [--gpu G] [--ratio R] [--frames N] [--seed S] [--help]

  --demo       run on the embedded default data set: generate the synthetic KITTI world in data/synthetic
               (N frames, seed S; skipped when already complete) and validate it with kitti.check_dataset
  --gpu G      GPU index, exported as CUDA_VISIBLE_DEVICES (default 0)
  --ratio R    percentage of injected objects that are synthetic proxies at steps >= 1 (default 100)
  --frames N   synthetic frames for --demo (default 100)
  --seed S     synthetic world seed for --demo (default 0)

Sets up .venv (pinned requirements, ops build) on first use. Outputs go to numbered step directories under output/.
Status: the training stages (step 0/1/2, refinement) are not implemented yet; --demo stops after generating and
checking the data set and says so.
USAGE
}

gpu=0
ratio=100
demo=0
frames=100
seed=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --demo) demo=1 ;;
        --gpu) gpu="${2:?--gpu needs a value}"; shift ;;
        --ratio) ratio="${2:?--ratio needs a value}"; shift ;;
        --frames) frames="${2:?--frames needs a value}"; shift ;;
        --seed) seed="${2:?--seed needs a value}"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "all_steps_script.sh: unknown option '$1'" >&2; usage >&2; exit 1 ;;
    esac
    shift
done
for value in "$gpu" "$ratio" "$frames" "$seed"; do
    if ! [[ "$value" =~ ^[0-9]+$ ]]; then
        echo "all_steps_script.sh: expected a non-negative integer, got '$value'" >&2
        exit 1
    fi
done
if (( ratio > 100 )); then
    echo "all_steps_script.sh: --ratio is a percentage (0-100), got $ratio" >&2
    exit 1
fi
export CUDA_VISIBLE_DEVICES="$gpu"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup_env.sh
py="$root/.venv/bin/python"

if [[ "$demo" != 1 ]]; then
    echo "all_steps_script.sh: the training stages (step 0/1/2, refinement) are not implemented yet;" >&2
    echo "only --demo (generate and check the synthetic KITTI world) runs today." >&2
    exit 1
fi

data="$root/data/synthetic"
echo "[demo] synthetic KITTI world: $frames frames, seed $seed -> $data"
"$py" -m kitti.synthetic --out "$data" --frames "$frames" --seed "$seed"
echo "[demo] checking the data set"
"$py" -m kitti.check_dataset --root "$data" --split trainval --json "$root/output/synthetic_stats.json"
"$py" -m kitti.visualize --root "$data" --frames 0 1 2 --out "$root/output/synthetic_vis"
echo "[demo] done: data in $data, statistics in output/synthetic_stats.json, renders in output/synthetic_vis/."
echo "[demo] the training stages are not implemented yet: nothing was trained."
