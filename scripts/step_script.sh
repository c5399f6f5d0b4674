#!/usr/bin/env bash
# One pseudo-labelling step of the ALPI pipeline (data, training, val evaluation + pseudo-labels).
set -euo pipefail

step_script_usage() {
    cat <<'USAGE'
Usage: bash scripts/step_script.sh --step N [--gpu N] [--ratio R] [options] [KEY=VALUE ...]

Step 0 trains on real frustums with one synthetic proxy each; step N >= 1 needs step N-1's pseudo-labels and
injects proxies (R %) or pasted pseudo-labelled instances. Writes output/carpedcyc_step_00 or
output/carpedcyc_step_0N_ratio_RRR.
USAGE
}

# shellcheck source=scripts/pipeline_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/pipeline_common.sh"
pipeline_run step_script step "$@"
