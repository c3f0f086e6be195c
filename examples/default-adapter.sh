#!/usr/bin/env bash
# Reproduces the shipped default adapter (docs/model.md): split by repository, a category-balanced
# training sample, the fit (about 2 h on 2 CPU cores), and the export into the package.
# Run from the repository root with the train extra installed; ../shared holds the data set.
set -euo pipefail
DATA="${DATA:-../shared/data/commits-train.jsonl.gz}"
mkdir -p runs/data
prtriage data split "$DATA" --by repo --test-repos goreleaser/goreleaser,vitest-dev/vitest \
  --train-output runs/data/train.jsonl --test-output runs/data/test.jsonl
python - <<'PY'
# Up to ~700 of each category; `build` (the rarest, ~180 records) is repeated 3 times so that
# it is not a 3% corner of the sample. Shuffled with a fixed seed.
import json, random
from prtriage.sampling import balanced_sample
records = [json.loads(line) for line in open("runs/data/train.jsonl")]
sample = balanced_sample(records, 6000, 7)
sample += [r for r in sample if r["category"] == "build"] * 2
random.Random(7).shuffle(sample)
with open("runs/data/train-default.jsonl", "w") as f:
    f.writelines(json.dumps(r) + "\n" for r in sample)
print(f"runs/data/train-default.jsonl: {len(sample)} records")
PY
prtriage train fit --config examples/default-adapter.yaml "$@"
prtriage train export --run runs/default-adapter --adapter-output prtriage/data/default-adapter.gguf
