# Shared by all_steps_script.sh, step_script.sh and refinement_script.sh (sourced, not run): set up the environment
# and hand every flag to `python -m train.pipeline`, where the run options, their defaults and their checks are
# declared once (train/pipeline/options.py).

# pipeline_run SCRIPT COMMAND ARGS...: `--help` prints SCRIPT's usage and the pipeline's options; otherwise runs
# `python -m train.pipeline COMMAND ARGS...` from the repository root.
pipeline_run() {
    local script="$1" command="$2"
    shift 2
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    cd "$root"
    local arg
    for arg in "$@"; do
        if [[ "$arg" == -h || "$arg" == --help ]]; then
            "${script}_usage"
            echo
            if [[ -x "$root/.venv/bin/python" ]]; then
                "$root/.venv/bin/python" -m train.pipeline --help | sed -n '/^options:/,$p'
            else
                echo "Options: run 'bash scripts/setup_env.sh' once, then --help lists them."
            fi
            exit 0
        fi
    done
    bash scripts/setup_env.sh
    exec "$root/.venv/bin/python" -m train.pipeline "$command" "$@"
}
