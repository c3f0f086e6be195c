from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from prtriage.core.categories import Category
from prtriage.core.errors import ModelError
from prtriage.core.settings import Settings
from prtriage.pipeline.change import change_from_diff
from prtriage.pipeline.engine import LlamaEngine
from prtriage.pipeline.model_files import DEFAULT_ADAPTER, ModelFiles, embedded_model_path, resolve_model
from prtriage.pipeline.prompt import answer_json
from prtriage.pipeline.triage import classify

DIFF = (
    "diff --git a/src/app.py b/src/app.py\n--- a/src/app.py\n+++ b/src/app.py\n"
    "@@ -1,2 +1,4 @@\n def div(a, b):\n+    if b == 0:\n+        raise ValueError('b is zero')\n"
    "     return a / b\n"
)
DOCS_DIFF = (
    "diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n"
    "@@ -1 +1,3 @@\n # demo\n+\n+Install with pip and run `demo`.\n"
)


def _change(diff: str = DIFF, title: str = "Raise a clear error on division by zero"):
    return change_from_diff(title, "It crashed.", diff.splitlines(True), ())


def test_classify_gives_a_distribution_and_parsable_answer(engine) -> None:
    settings = Settings()
    result = classify(_change(), engine, settings)
    assert set(result.probabilities) == set(settings.category_names)
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert result.category == max(result.probabilities, key=result.probabilities.get)
    assert result.confidence == result.probabilities[result.category]
    assert json.loads(answer_json(result.category, result.reasoning))["category"] == result.category
    assert 0 < len(result.reasoning) < 400
    again = classify(_change(), engine, settings)  # deterministic
    assert again.probabilities == result.probabilities and again.reasoning == result.reasoning


def test_scores_match_a_direct_llama_cpp_computation(engine) -> None:
    """The trie-and-cache scoring equals summing log-softmax over a fresh full evaluation."""
    from prtriage.pipeline.engine import load_llama

    prompt = engine.tokenize(
        "<|im_start|>user\nWhich kind of change is a typo fix in README?<|im_end|>\n", True
    )
    candidates = [engine.tokenize(t, False) for t in ('docs"', 'deps"', 'chore"', 'refactor"')]
    got = engine.score(prompt, candidates, 3)
    full = load_llama(engine.files, n_ctx=512, logits_all=True, seed=0)  # with the shipped default LoRA
    for cand, score in zip(candidates, got):
        full.reset()
        full.eval([*prompt, *cand])
        logits = np.asarray(full.scores[: len(prompt) + len(cand)], dtype=np.float64)
        logp = logits - logits.max(axis=1, keepdims=True)
        logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
        expected = sum(logp[len(prompt) - 1 + k, tok] for k, tok in enumerate(cand))
        # Chunking differs (the cached prefix), so allow float noise: tails are amplified.
        assert score == pytest.approx(expected, rel=0.02, abs=0.05)


def test_shared_prefix_is_reused_between_changes(engine) -> None:
    settings = Settings()
    classify(_change(), engine, settings)
    engine.take_timings()
    result = classify(_change(DOCS_DIFF, "Document installation"), engine, settings)
    # The instructions (hundreds of tokens) are not evaluated again.
    assert result.timings["prompt_tokens_evaluated"] < result.prompt_tokens - 200


def test_custom_categories_only(engine) -> None:
    cats = (
        Category("bug", "fixes a defect"),
        Category("docs", "documentation only"),
        Category("other", "anything else"),
    )
    result = classify(_change(), engine, Settings(categories=cats))
    assert set(result.probabilities) == {"bug", "docs", "other"}
    assert result.category in {"bug", "docs", "other"}


def test_reasoning_grammar_compiles_and_constrains_in_a_subprocess() -> None:
    # A bad grammar crashes the process in C, so it is exercised out of process.
    code = (
        "import llama_cpp, json\n"
        "from prtriage.pipeline.engine import REASONING_GRAMMAR, load_llama\n"
        "from prtriage.pipeline.model_files import ModelFiles, embedded_model_path\n"
        "llm = load_llama(ModelFiles('embedded', embedded_model_path(), None), n_ctx=256)\n"
        "g = llama_cpp.LlamaGrammar.from_string(REASONING_GRAMMAR, verbose=False)\n"
        "out = llm.create_completion('Say hello with \"quotes\" and a newline:', max_tokens=40, grammar=g, temperature=0)\n"
        "text = out['choices'][0]['text']\n"
        "print(json.dumps(text))\n"
        "assert all(c not in text.split('\"}')[0] for c in '\\n\\t\\\\') and '\"' not in text.split('\"}')[0]\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_corrupt_and_missing_models_are_clear_errors(tmp_path: Path) -> None:
    not_gguf = tmp_path / "model.gguf"
    not_gguf.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(ModelError, match="not GGUF"):
        resolve_model(str(not_gguf), None)
    with pytest.raises(ModelError, match="not found"):
        resolve_model(str(tmp_path / "missing.gguf"), None)
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(embedded_model_path().read_bytes()[:4096])
    files = resolve_model(str(truncated), None)
    with pytest.raises(ModelError, match="cannot load"):
        LlamaEngine(files, 512)
    with pytest.raises(ModelError, match="adapter file not found"):
        resolve_model(None, str(tmp_path / "nope.gguf"))


def test_default_model_is_the_embedded_one_requantized(engine) -> None:
    assert isinstance(engine.files, ModelFiles)
    assert engine.files.path.name.endswith(".Q8_0.gguf")
    assert engine.files.path.read_bytes()[:4] == b"GGUF"
    # A fine-tuned default adapter is applied when the package ships one (docs/model.md), never
    # with --adapter none.
    assert engine.files.adapter == (DEFAULT_ADAPTER if DEFAULT_ADAPTER.is_file() else None)
    assert resolve_model(None, "none").adapter is None


@pytest.mark.parametrize("amx", [True, False])
def test_amx_cpus_load_without_extra_cpu_buffers(monkeypatch: pytest.MonkeyPatch, amx: bool) -> None:
    # llama.cpp's AMX buffers crash decode on AMX CPUs (a segfault in every real-model test here).
    from prtriage.pipeline import cpu, engine

    monkeypatch.setattr(cpu, "has_amx", lambda: amx)
    llm = engine.load_llama(ModelFiles("embedded", embedded_model_path(), None), n_ctx=64, n_threads=1)
    assert llm.model_params.use_extra_bufts is (not amx)
    if amx:  # decodes (crashed with AMX buffers on an AMX CPU; on others their default is kept)
        llm.eval(llm.tokenize(b"def add(a, b): return a + b"))
