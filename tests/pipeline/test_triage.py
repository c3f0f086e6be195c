"""classify's wiring, with a fake engine: what is asked of the model and what the result says."""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest
from fake_clock import Clock
from fake_engine import FakeEngine

from prtriage.core.categories import Category
from prtriage.core.errors import BudgetError, ModelError, UsageError
from prtriage.core.settings import Settings
from prtriage.pipeline import triage
from prtriage.pipeline.budget import Budgeted
from prtriage.pipeline.change import change_from_diff
from prtriage.pipeline.engine_factory import ENGINE_FACTORY_ENV, open_engine
from prtriage.pipeline.prompt import (
    DEFINITIONS,
    NAMES,
    TrainedPrompt,
    category_segment,
    reasoning_prefix_segment,
)
from prtriage.pipeline.triage import budget, classify

DIFF = (
    "diff --git a/src/app.py b/src/app.py\n--- a/src/app.py\n+++ b/src/app.py\n"
    "@@ -1,2 +1,4 @@\n def div(a, b):\n+    if b == 0:\n+        raise ValueError('b is zero')\n"
    "     return a / b\n"
)
SCORES = {"fix": math.log(0.6), "feature": math.log(0.3), "docs": math.log(0.1)}


def _change(title: str = "Raise a clear error on division by zero"):
    return change_from_diff(title, "It crashed.", DIFF.splitlines(True), (), source="HEAD~1..HEAD")


LLM = Settings(scorer="llm")


def test_the_best_scored_category_wins_with_renormalised_probabilities() -> None:
    engine = FakeEngine(SCORES, adapter="lora.gguf")
    result = classify(_change(), engine, LLM)
    assert result.category == "fix"
    assert result.confidence == pytest.approx(0.6, abs=1e-6)  # the other categories get exp(-20)
    assert sum(result.probabilities.values()) == pytest.approx(1.0)
    assert list(result.probabilities) == list(Settings().category_names)
    # Built from the scores (explain.py), not the engine's text: what, where, and the runner-up.
    assert result.reasoning == (
        "Raises a clear error on division by zero in src/app.py. "
        "Chosen over feature: the model gives fix 60%, feature 30%."
    )
    assert result.evidence is not None and result.evidence.runner_up == "feature"
    assert (result.model, result.adapter, result.source) == ("fake.gguf", "lora.gguf", "HEAD~1..HEAD")
    assert not result.uncertain and result.scorer == "llm"


def test_the_default_is_the_fused_scorer_with_a_built_reasoning() -> None:
    engine = FakeEngine(SCORES)
    result = classify(_change(), engine, Settings())
    assert Settings().scorer == "fused" and result.scorer == "fused"
    assert result.llm_probabilities is not None and result.evidence is not None
    assert result.evidence.lexical is not None and result.evidence.lexical_weight is not None
    assert result.reasoning.startswith("Raises a clear error on division by zero in src/app.py. Chosen over ")
    assert engine.scored == 1 and len(engine.calls) == 1  # no text generated: nothing to wait for


def test_reasoning_model_asks_the_engine_and_keeps_a_sentence_that_passes() -> None:
    engine = FakeEngine(SCORES)
    result = classify(_change(), engine, Settings(scorer="llm", reasoning="model"))
    assert result.reasoning == engine.answer  # "Fixes the division by zero in the helper."
    for bad in ("fix", "This is a docs change that touches src/other.py", "zero " * 12):
        engine = FakeEngine(SCORES, answer=bad)
        result = classify(_change(), engine, Settings(scorer="llm", reasoning="model"))
        assert result.reasoning.endswith("Chosen over feature: the model gives fix 60%, feature 30%."), bad


def test_the_engine_is_asked_for_every_category_then_one_reasoning() -> None:
    engine = FakeEngine(SCORES)
    settings = Settings(scorer="llm", reasoning="model")
    fitted = budget(_change(), engine, settings)
    result = classify(_change(), engine, settings)
    scored, reasoned = engine.calls
    assert scored.prompt == fitted.ids and scored.stable == fitted.shared_prefix
    assert scored.candidates == tuple(
        tuple(engine.tokenize(category_segment(n).text, False)) for n in settings.category_names
    )
    # The reasoning continues the prompt after the winning category and the reasoning prefix.
    answer_start = [*engine.tokenize('fix"', False), *engine.tokenize(reasoning_prefix_segment().text, False)]
    assert reasoned.prompt == (*fitted.ids, *answer_start)
    assert reasoned.stable == len(fitted.ids) and reasoned.max_tokens == settings.reasoning_tokens
    assert result.prompt_tokens == len(fitted.ids) and not result.body_cut


class _TimedEngine(FakeEngine):
    """Scoring takes 2 s and the reasoning 1 s on `clock`; the engine reports its own load_s and prompt_s."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(SCORES)
        self.clock = clock

    def score(self, prompt: Sequence[int], candidates: Sequence[Sequence[int]], stable: int) -> list[float]:
        self.clock.now += 2.0
        return super().score(prompt, candidates, stable)

    def reasoning(self, prompt: Sequence[int], stable: int, max_tokens: int) -> str:
        self.clock.now += 1.0
        return super().reasoning(prompt, stable, max_tokens)


def test_timings_add_the_budget_and_the_engines_own(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    real_budget = triage.budget

    def slow_budget(*args: Any) -> Budgeted:
        fitted = real_budget(*args)
        clock.now += 0.125
        return fitted

    monkeypatch.setattr(triage, "time", SimpleNamespace(perf_counter=clock))
    monkeypatch.setattr(triage, "budget", slow_budget)
    result = classify(_change(), _TimedEngine(clock), Settings(reasoning="model"))
    # budget_s is the budget alone; the total is every step since the start plus the model's load.
    assert result.timings == {
        "budget_s": 0.125,
        "load_s": 0.5,
        "prompt_s": 0.25,
        "total_s": 0.125 + 3.0 + 0.5,
    }


def test_only_the_configured_categories_are_scored() -> None:
    cats = (Category("bug", "a bug fix"), Category("other", "anything else"))
    engine = FakeEngine({"bug": -3.0, "other": -1.0})
    result = classify(_change(), engine, Settings(categories=cats))
    assert set(result.probabilities) == {"bug", "other"} and result.category == "other"
    assert len(engine.calls[0].candidates) == 2


def test_below_min_confidence_the_result_is_uncertain() -> None:
    result = classify(_change(), FakeEngine(SCORES), Settings(scorer="llm", min_confidence=0.7))
    assert result.uncertain and result.min_confidence == 0.7
    assert result.to_json()["uncertain"] is True


def test_no_adapter_is_none() -> None:
    assert classify(_change(), FakeEngine(SCORES), Settings()).adapter is None


def test_the_fused_scorer_mixes_in_the_shipped_lexical_model() -> None:
    llm = classify(_change(), FakeEngine(SCORES), LLM)
    fused = classify(_change(), FakeEngine(SCORES), Settings())
    assert fused.scorer == "fused" and sum(fused.probabilities.values()) == pytest.approx(1.0)
    assert fused.probabilities != llm.probabilities


def test_a_context_too_small_fails_before_the_model_is_asked() -> None:
    engine = FakeEngine(SCORES)
    with pytest.raises(BudgetError):
        classify(_change(), engine, Settings(context_size=64))
    assert engine.calls == []


def test_model_errors_reach_the_caller() -> None:
    with pytest.raises(ModelError, match="cannot score"):
        classify(_change("Raise a clear error, boom"), FakeEngine(SCORES, fail_on="boom"), Settings())


def test_an_engine_factory_named_in_the_environment_is_what_open_engine_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENGINE_FACTORY_ENV, "fake_engine:factory")
    engine = open_engine(Settings(threads=3))
    assert type(engine).__name__ == "FactoryEngine"


@pytest.mark.parametrize(
    "spec, message",
    [
        ("fake_engine", "an engine factory is module:function"),
        ("no_such_module:f", "cannot import no_such_module"),
        ("fake_engine:nothing", "fake_engine has no function 'nothing'"),
        ("fake_engine:math", "fake_engine has no function 'math'"),  # a module, not callable
    ],
)
def test_a_bad_engine_factory_is_a_usage_error_naming_it(spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=f"PRTRIAGE_ENGINE={spec}: {message}"):
        open_engine(Settings(), spec)


def _instructions(engine: FakeEngine, settings: Settings) -> str:
    return budget(_change(), engine, settings).segments[0].text


def test_an_adapter_trained_on_names_gets_the_names_prompt_and_more_room() -> None:
    names = Settings().category_names
    trained = FakeEngine(SCORES, trained_prompt=TrainedPrompt(NAMES, names, 512))
    short = budget(_change(), trained, Settings())
    assert _instructions(trained, Settings()).count("\n") == 3  # one task line in its ChatML turn
    assert all(n in short.segments[0].text for n in names)
    v1 = budget(_change(), FakeEngine(SCORES), Settings())  # no metadata: v1's definitions
    assert "- fix: corrects a bug" in v1.segments[0].text
    assert v1.shared_prefix - short.shared_prefix > 100  # the definitions' tokens go to the change


def test_custom_categories_or_a_definitions_adapter_get_the_definitions() -> None:
    names = Settings().category_names
    custom = Settings(categories=(Category("bug", "a defect"), Category("other", "anything else")))
    engine = FakeEngine({"bug": 0.0}, trained_prompt=TrainedPrompt(NAMES, names, 512))
    assert "- bug: a defect" in _instructions(engine, custom)
    v1_style = FakeEngine(SCORES, trained_prompt=TrainedPrompt(DEFINITIONS, names, 512))
    assert "- fix: corrects a bug" in _instructions(v1_style, Settings())
