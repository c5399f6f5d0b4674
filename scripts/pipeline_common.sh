# Shared option parsing for all_steps_script.sh, step_script.sh and refinement_script.sh (sourced, not run).
# Sets: pipeline_args (array for `python -m train.pipeline`), demo, frames, seed, root, py.

pipeline_common_usage() {
    cat <<'USAGE'
Common options:
  --gpu N              CUDA device (-1 = CPU; a missing GPU falls back to CPU with a warning). Default 0.
  --ratio R            percentage of injected objects that are synthetic proxies at steps >= 1. Default 100.
  --data DIR           KITTI root with training/ and ImageSets/{train,val}.txt. Default data/kitti.
  --output DIR         root of the stage directories. Default output (output/demo with --demo; with
                       --supervision full: output_full, output/demo_full). A run with other parameters or inputs in
                       the same output directory rebuilds its stages: give side-by-side runs their own --output.
  --config FILE        detector config. Default configs/det_sample.yaml (configs/demo.yaml with --demo).
  --refine-config FILE refinement config. Default configs/refine_sample.yaml (configs/demo_refine.yaml with --demo).
  --supervision MODE   weak (ALPI, 2D labels only; default) or full (3D ground truth: the upper bound).
  --points SOURCE      lidar (default), depth (pseudo-LiDAR) or lidar+depth.
  --depth-dir NAME     depth maps for --points depth|lidar+depth: depth_2 (default) or DA3_depth_results.
  --da3-model M        DA3 model (registry name, local dir with config.json + model.safetensors, or hub id) that
                       generates missing DA3_depth_results maps. Default da3metric-large.
  --seed S             seed of data generation and training. Default 0.
  --force              rebuild the stages this command runs, even when finished.
  --demo               the embedded default: the synthetic KITTI world in data/synthetic (generated when
                       missing: --frames N, default 100) with the CPU-sized configs.
  -h, --help           this message.
Extra KEY=VALUE arguments are detector config overrides (for example train.epochs=2).
USAGE
}

pipeline_parse() {
    local script="$1"
    shift
    gpu=0
    ratio=100
    data=""
    output=""
    config=""
    refine_config=""
    supervision="weak"
    points="lidar"
    depth_dir="depth_2"
    da3_model="da3metric-large"
    seed=0
    force=0
    demo=0
    frames=100
    steps=2
    step=0
    overrides=()
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --gpu) gpu="${2:?--gpu needs a value}"; shift ;;
            --ratio) ratio="${2:?--ratio needs a value}"; shift ;;
            --data) data="${2:?--data needs a value}"; shift ;;
            --output) output="${2:?--output needs a value}"; shift ;;
            --config) config="${2:?--config needs a value}"; shift ;;
            --refine-config) refine_config="${2:?--refine-config needs a value}"; shift ;;
            --supervision) supervision="${2:?--supervision needs a value}"; shift ;;
            --points) points="${2:?--points needs a value}"; shift ;;
            --depth-dir) depth_dir="${2:?--depth-dir needs a value}"; shift ;;
            --da3-model) da3_model="${2:?--da3-model needs a value}"; shift ;;
            --seed) seed="${2:?--seed needs a value}"; shift ;;
            --frames) frames="${2:?--frames needs a value}"; shift ;;
            --steps) steps="${2:?--steps needs a value}"; shift ;;
            --step) step="${2:?--step needs a value}"; shift ;;
            --force) force=1 ;;
            --demo) demo=1 ;;
            -h|--help) "${script}_usage"; pipeline_common_usage; exit 0 ;;
            *=*) overrides+=("$1") ;;
            *) echo "$script: unknown option '$1'" >&2; "${script}_usage" >&2; exit 1 ;;
        esac
        shift
    done
    for value in "$ratio" "$seed" "$frames" "$steps" "$step"; do
        if ! [[ "$value" =~ ^[0-9]+$ ]]; then
            echo "$script: expected a non-negative integer, got '$value'" >&2
            exit 1
        fi
    done
    if ! [[ "$gpu" =~ ^-?[0-9]+$ ]]; then
        echo "$script: --gpu takes a device index or -1, got '$gpu'" >&2
        exit 1
    fi

    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    cd "$root"
    bash scripts/setup_env.sh
    py="$root/.venv/bin/python"

    # the fully supervised upper bound gets its own default output, so that it never rebuilds a weak run's stages
    local suffix=""
    if [[ "$supervision" == full ]]; then
        suffix="_full"
    fi
    if [[ "$demo" == 1 ]]; then
        data="${data:-data/synthetic}"
        output="${output:-output/demo$suffix}"
        config="${config:-configs/demo.yaml}"
        refine_config="${refine_config:-configs/demo_refine.yaml}"
        # the generator finishes an interrupted world, leaves a complete one untouched, and refuses a directory
        # it did not create (a real KITTI root given as --data)
        echo "[demo] synthetic KITTI world: $frames frames, seed $seed -> $data"
        "$py" -m kitti.synthetic --out "$data" --frames "$frames" --seed "$seed"
    fi
    pipeline_args=(
        --data "${data:-data/kitti}" --output "${output:-output$suffix}"
        --config "${config:-configs/det_sample.yaml}" --refine-config "${refine_config:-configs/refine_sample.yaml}"
        --ratio "$ratio" --supervision "$supervision" --points "$points" --depth-dir "$depth_dir"
        --da3-model "$da3_model" --gpu "$gpu" --seed "$seed"
    )
    if [[ "$force" == 1 ]]; then
        pipeline_args+=(--force)
    fi
}
