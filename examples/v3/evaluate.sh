#!/usr/bin/env bash
# Every model number in docs/model.md and the README's first paragraph, from the shared data:
# the exact `prtriage eval` runs, then scripts/model_tables.py --write. Run from the repository
# root after examples/v3/adapter.sh (which makes runs/v3/data, the lexical model and v3's
# adapter). About 45 minutes on 2 CPU cores (AVX-512, quiet); most of it is the two LLMs.
set -euo pipefail
R="${RUNS:-runs/v3}"
mkdir -p "$R/eval"
# The models compared beside v3: v1, the adapter shipped before it, and the lexical model shipped
# with it, both read back from the commits that added them.
git show 23792fc:prtriage/data/default-adapter.gguf > "$R/v1.gguf"
git show c3bc887:prtriage/data/lexical.npz > "$R/lexical-old.npz"
cp "$R/adapter/adapter.gguf" "$R/v3.gguf"

# Validation repositories: each LLM's category probabilities on 300 records (no reasoning: not
# needed to choose). v3 at each context it could be served at: the smallest within 0.01 macro-F1
# of the best is chosen (scripts/model_tables.py --choose-context), then the fused scorer's
# weight and temperature for each LLM. v1 was trained at 512: served longer it is worse.
printf 'reasoning-tokens = 0\n' > "$R/no-reasoning.toml"
val() {  # model context
  prtriage eval --input "$R/data/val.jsonl" --limit 300 --seed 0 --adapter "$R/$1.gguf" \
    --context-size "$2" --config "$R/no-reasoning.toml" --predictions "$R/eval/$1-val-$2.jsonl"
}
val v1 512
for c in 512 768 1024; do val v3 "$c"; done
CTX="$(python scripts/model_tables.py --runs "$R" --choose-context)"
ctx() { [ "$1" = v1 ] && echo 512 || echo "$CTX"; }
for m in v1 v3; do
  prtriage train fuse --lexical "$R/lexical-wide.npz" --validation "$R/data/val.jsonl" \
    --llm-predictions "$R/eval/$m-val-$(ctx $m).jsonl" --output "$R/lexical-$m.npz"
done

# Test repositories, once: the rules on the whole split and on the planted sample; each LLM
# fused with its tuned lexical model on a 400-record sample balanced by category (the LLM's own
# probabilities are kept beside the fused ones), and with instructions planted on a 50 sample.
prtriage eval --model rules --input "$R/data/test.jsonl" --predictions "$R/eval/rules-test.jsonl"
prtriage eval --model rules --input "$R/data/test.jsonl" --limit 50 --seed 0 --attack \
  --predictions "$R/eval/rules-attack.jsonl"
for m in v1 v3; do
  printf 'scorer = "fused"\nlexical = "%s"\n' "$(realpath "$R/lexical-$m.npz")" > "$R/$m-fused.toml"
  prtriage eval --input "$R/data/test.jsonl" --limit 400 --seed 0 --adapter "$R/$m.gguf" \
    --context-size "$(ctx $m)" --config "$R/$m-fused.toml" --predictions "$R/eval/$m-test.jsonl"
  prtriage eval --input "$R/data/test.jsonl" --limit 50 --seed 0 --attack --adapter "$R/$m.gguf" \
    --context-size "$(ctx $m)" --config "$R/$m-fused.toml" --predictions "$R/eval/$m-attack.jsonl"
done
# The default as it ships (issue 27): no model flags, the bundled adapter and lexical model, the
# reasoning built from the scores.
prtriage eval --input "$R/data/test.jsonl" --limit 400 --seed 0 --predictions "$R/eval/default-test.jsonl"
python scripts/model_tables.py --runs "$R" --write
