#!/usr/bin/env bash
# The whole ALPI pipeline: step 0, steps 1..K (default 2), then the refinement stage, and a summary.
set -euo pipefail

all_steps_script_usage() {
    cat <<'USAGE'
Usage: bash scripts/all_steps_script.sh [--demo] [--gpu N] [--ratio R] [--steps K] [options] [KEY=VALUE ...]

Runs step 0 (proxies only), steps 1..K (R % synthetic proxies, the rest pasted pseudo-labelled instances), the
refinement stage, then writes <output>/summary.md, summary.json and ap_by_stage.png. Finished stages are skipped,
interrupted ones resume. Final pseudo-labels: <output>/label_2_pseudo/.
USAGE
}

# shellcheck source=scripts/pipeline_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/pipeline_common.sh"
pipeline_run all_steps_script all "$@"
