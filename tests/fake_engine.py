"""A stand-in for the model behind `prtriage.pipeline.engine.Engine`: whitespace tokens and fixed answers.

For tests of the layers above the engine: budget and triage call it directly, batch is handed it,
and the command tests (tests/commands/) put it where the commands load the model
(`use_fake_engine`) and run the CLI in this process (`run_main`). Fast, and exact where the real
model is only approximately predictable. The engine itself is tested against the real model in
tests/pipeline/test_engine.py.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from prtriage.core.errors import ModelError
from prtriage.pipeline.model_files import ModelFiles
from prtriage.pipeline.prompt import TrainedPrompt, category_segment


def fake_sha256(name: str) -> str:
    """The identity a fake model file reports (the sha256 of its name)."""
    return hashlib.sha256(name.encode()).hexdigest()


class WordTokenizer:
    """One token per whitespace-separated word; each new word gets the next id."""

    def __init__(self, bos_id: int | None = None) -> None:
        self._bos = bos_id
        self.vocab: dict[str, int] = {}

    @property
    def bos_id(self) -> int | None:
        return self._bos

    def tokenize(self, text: str, special: bool) -> list[int]:
        return [self.vocab.setdefault(word, len(self.vocab) + 100) for word in text.split()]

    def words(self, ids: Sequence[int]) -> list[str]:
        by_id = {i: w for w, i in self.vocab.items()}
        return [by_id[i] for i in ids]


@dataclass
class Call:
    prompt: tuple[int, ...]
    stable: int
    candidates: tuple[tuple[int, ...], ...] = ()
    max_tokens: int = 0


class FakeEngine(WordTokenizer):
    """Scores each category's answer with a fixed log-probability from `scores`.

    A category not in `scores` gets `rest` (-20: next to nothing), or with `rest=None` an even
    share of the probability the given ones leave: `FakeEngine.answering("fix", 0.8)` ends
    classify with exactly fix at 0.8. `fail_on`: a word whose presence in a prompt makes scoring
    fail, as a model error would.

    Where commands load the model it stands in for `LlamaEngine`, so it also carries the loader's
    `files` (the adapter warning reads them) and counts the loads in `opened`.
    """

    def __init__(
        self, scores: Mapping[str, float], answer: str = "Fixes the division by zero in the helper.",
        fail_on: str | None = None, adapter: str | None = None, name: str = "fake.gguf",
        rest: float | None = -20.0, trained_prompt: TrainedPrompt | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.scores, self.answer, self.fail_on, self.rest, self.name = scores, answer, fail_on, rest, name
        self.files = ModelFiles(name, Path(name), Path(adapter) if adapter else None, fake_sha256(name),
                                fake_sha256(adapter) if adapter else None)  # fmt: skip
        self.trained_prompt = trained_prompt  # what an adapter's metadata would say (None: v1)
        self.calls: list[Call] = []  # every score and reasoning request, in order
        self.opened = 0  # times a command loaded "the model" (use_fake_engine)

    @classmethod
    def answering(
        cls, category: str = "fix", confidence: float = 0.9, answer: str = "Guards a zero."
    ) -> FakeEngine:
        """`category` at exactly `confidence`, the other categories sharing the rest evenly."""
        return cls({category: math.log(confidence)}, answer, rest=None)

    @property
    def adapter(self) -> str | None:
        return str(self.files.adapter) if self.files.adapter else None

    @property
    def scored(self) -> int:
        """Prompts scored: one per classified change."""
        return sum(1 for call in self.calls if call.candidates)

    def _category(self, candidate: Sequence[int]) -> str | None:
        return next(
            (n for n in self.scores if self.tokenize(category_segment(n).text, False) == list(candidate)),
            None,
        )

    def score(self, prompt: Sequence[int], candidates: Sequence[Sequence[int]], stable: int) -> list[float]:
        if self.fail_on is not None and self.fail_on in self.words(prompt):
            raise ModelError(f"cannot score a prompt with {self.fail_on!r}")
        self.calls.append(Call(tuple(prompt), stable, tuple(tuple(c) for c in candidates)))
        names = [self._category(c) for c in candidates]
        rest, others = self.rest, names.count(None)
        if rest is None:
            left = 1 - sum(math.exp(self.scores[n]) for n in names if n is not None)
            rest = math.log(left / others) if others and left > 0 else -20.0
        return [self.scores[n] if n is not None else rest for n in names]

    def reasoning(self, prompt: Sequence[int], stable: int, max_tokens: int) -> str:
        self.calls.append(Call(tuple(prompt), stable, max_tokens=max_tokens))
        return " ".join(self.answer.split()[:max_tokens])

    def take_timings(self) -> dict[str, float]:
        return {"load_s": 0.5, "prompt_s": 0.25}


def use_fake_engine(monkeypatch: pytest.MonkeyPatch, engine: FakeEngine, fused: bool = False) -> FakeEngine:
    """Every command that opens the model gets `engine` (engine_factory.open_engine is the one loader).

    Unless `fused`, the fake's scores decide alone (PRTRIAGE_SCORER=llm, which a flag or config
    still overrides): these tests pin what commands do with the model's answer, which the shipped
    lexical model of the fused default would move. The fused default has its own tests."""
    from prtriage.pipeline import engine_factory

    if not fused:
        monkeypatch.setenv("PRTRIAGE_SCORER", "llm")

    def open_engine(settings: object) -> FakeEngine:
        engine.opened += 1
        return engine

    monkeypatch.setattr(engine_factory, "open_engine", open_engine)
    return engine


def run_main(*args: str) -> int:
    """`prtriage ARGS` in this process (where the fake engine is), returning its exit code."""
    from prtriage import cli

    with pytest.raises(SystemExit) as exit_:
        cli.main(list(args))
    code = exit_.value.code
    assert isinstance(code, int)
    return code


class FactoryEngine(FakeEngine):
    """The fake as `PRTRIAGE_ENGINE=fake_engine:factory` loads it in another process (a CLI run in a
    subprocess, a Ray worker): configured by environment variables, and keeping no calls (a long
    run's memory stays flat).

    FAKE_ENGINE_DELAY: seconds each score takes. FAKE_ENGINE_LOG: a file that gets one byte per
    score, appended (how many records were classified, across processes). FAKE_ENGINE_PIDS: a
    folder where each engine, once loaded, writes a file named after its process id.
    """

    def __init__(self) -> None:
        super().__init__({"fix": math.log(0.7)}, "Guards a zero.", rest=None)
        self.delay = float(os.environ.get("FAKE_ENGINE_DELAY", "0"))
        self.log = os.environ.get("FAKE_ENGINE_LOG")
        pids = os.environ.get("FAKE_ENGINE_PIDS")
        if pids:
            Path(pids, str(os.getpid())).touch()

    def score(self, prompt: Sequence[int], candidates: Sequence[Sequence[int]], stable: int) -> list[float]:
        scores = super().score(prompt, candidates, stable)
        self.calls.clear()
        if self.delay:
            time.sleep(self.delay)
        if self.log:
            with open(self.log, "ab") as f:
                f.write(b".")
        return scores

    def reasoning(self, prompt: Sequence[int], stable: int, max_tokens: int) -> str:
        text = super().reasoning(prompt, stable, max_tokens)
        self.calls.clear()
        return text


def factory(settings: object) -> FactoryEngine:
    """An engine factory (prtriage/pipeline/engine_factory.py, PRTRIAGE_ENGINE): needs tests/ on PYTHONPATH."""
    return FactoryEngine()


def failing_factory(settings: object) -> FakeEngine:
    """An engine factory whose model cannot load, as a missing file would."""
    raise ModelError("model file not found: missing.gguf", hint="check --model")
