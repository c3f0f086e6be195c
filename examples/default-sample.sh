#!/usr/bin/env bash
# The training sample of the default adapter and of the v2 candidate (docs/model.md): the shared
# data split by repository, then a category-balanced, seeded sample in runs/data/train-default.jsonl.
# Run from the repository root; ../shared holds the data set.
set -euo pipefail
DATA="${DATA:-../shared/data/commits-train.jsonl.gz}"
mkdir -p runs/data
prtriage data split "$DATA" --by repo --test-repos goreleaser/goreleaser,vitest-dev/vitest \
  --train-output runs/data/train.jsonl --test-output runs/data/test.jsonl
python - <<'PY'
# Up to ~700 of each category; `build` (the rarest, ~180 records) is repeated 3 times so that
# it is not a 3% corner of the sample. Shuffled with a fixed seed.
import json, random
from prtriage.dataset.sampling import balanced_sample
records = [json.loads(line) for line in open("runs/data/train.jsonl")]
sample = balanced_sample(records, 6000, 7)
sample += [r for r in sample if r["category"] == "build"] * 2
random.Random(7).shuffle(sample)
with open("runs/data/train-default.jsonl", "w") as f:
    f.writelines(json.dumps(r) + "\n" for r in sample)
print(f"runs/data/train-default.jsonl: {len(sample)} records")
PY
