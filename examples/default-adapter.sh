#!/usr/bin/env bash
# Reproduces the shipped default adapter (docs/model.md): split by repository, a category-balanced
# training sample, the fit (about 2 h on 2 CPU cores), and the export into the package.
# Run from the repository root with the train extra installed; ../shared holds the data set.
set -euo pipefail
bash "$(dirname "$0")/default-sample.sh"
prtriage train fit --config examples/default-adapter.yaml "$@"
prtriage train export --run runs/default-adapter --adapter-output prtriage/bundled/default-adapter.gguf
