#!/usr/bin/env bash
# The refinement stage of the ALPI pipeline on the last step's pseudo-labels; writes the final pseudo-labels.
set -euo pipefail

refinement_script_usage() {
    cat <<'USAGE'
Usage: bash scripts/refinement_script.sh [--gpu N] [--ratio R] [--steps K] [options] [KEY=VALUE ...]

Trains the refinement network on step K's pseudo-labels (default K = 2), predicts val and the train frames, and
copies the final pseudo-labels to <output>/label_2_pseudo/. Writes output/carpedcyc_train_refine.
USAGE
}

# shellcheck source=scripts/pipeline_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/pipeline_common.sh"
pipeline_run refinement_script refine "$@"
