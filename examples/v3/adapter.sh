#!/usr/bin/env bash
# Model v3 from the shared data, end to end (docs/model.md): the repository split, the lexical
# model, the training sample and its teacher, the adapter (about 70 minutes on 2 CPU cores with
# AVX-512-BF16; resumable: add --resume after a stop), and its export. Then
# examples/v3/evaluate.sh measures it. Run from the repository root; ../shared holds the data.
set -euo pipefail
python examples/v3/data.py --shared "${SHARED:-../shared/data}" --out runs/v3/data
prtriage train lexical --data runs/v3/data/train.jsonl --output runs/v3/lexical-wide.npz
python examples/v3/sample.py --data runs/v3/data/train.jsonl --out runs/v3/data/sample.jsonl
prtriage data teach runs/v3/data/sample.jsonl -o runs/v3/data/sample-taught.jsonl \
  --title-dropout 0.3 --planted 0.3 --seed 19
prtriage train fit --config examples/v3/adapter.yaml "$@"
prtriage train export --run runs/v3/adapter --type q8_0 --adapter-output runs/v3/adapter/adapter.gguf
