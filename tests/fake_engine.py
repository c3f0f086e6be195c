"""A stand-in for the model behind `prtriage.engine.Engine`: fixed answers, no llama.cpp.

Tokens are words with their leading spaces, so the budget has real counts to work with; `score`
gives the chosen category the chosen probability and shares the rest among the others, so
`triage.classify` ends with exactly `category` and `confidence`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from prtriage.models import ModelFiles

_PIECE = re.compile(r"\s*\S+|\s+")  # a word with the spaces before it, about as dense as BPE


class FakeEngine:
    name = "fake-model"

    def __init__(
        self, category: str = "fix", confidence: float = 0.9, reasoning: str = "Guards a zero."
    ) -> None:
        self.category = category
        self.confidence = confidence
        self.answer = reasoning
        self.files = ModelFiles(self.name, Path("fake.gguf"), None)
        self.opened = 0  # times a command loaded "the model"
        self.scored = 0  # prompts scored: one per classified change
        self._ids: dict[str, int] = {}
        self._pieces: list[str] = []

    @property
    def bos_id(self) -> int | None:
        return None

    def tokenize(self, text: str, special: bool) -> list[int]:
        ids = []
        for piece in _PIECE.findall(text):
            if piece not in self._ids:
                self._ids[piece] = len(self._pieces)
                self._pieces.append(piece)
            ids.append(self._ids[piece])
        return ids

    def score(self, prompt: Sequence[int], candidates: Sequence[Sequence[int]], stable: int) -> list[float]:
        self.scored += 1
        names = ["".join(self._pieces[i] for i in c).removesuffix('"') for c in candidates]
        rest = (1 - self.confidence) / max(1, len(names) - 1)
        return [math.log(self.confidence if n == self.category else rest) for n in names]

    def reasoning(self, prompt: Sequence[int], stable: int, max_tokens: int) -> str:
        return self.answer

    def take_timings(self) -> dict[str, float]:
        return {}


def use_fake_engine(monkeypatch: pytest.MonkeyPatch, engine: FakeEngine) -> FakeEngine:
    """Every command that opens the model gets `engine` (triage.open_engine is the one loader)."""
    from prtriage import triage

    def open_engine(settings: object) -> FakeEngine:
        engine.opened += 1
        return engine

    monkeypatch.setattr(triage, "open_engine", open_engine)
    return engine


def run_main(*args: str) -> int:
    """`prtriage ARGS` in this process (where the fake engine is), returning its exit code."""
    from prtriage import cli

    with pytest.raises(SystemExit) as exit_:
        cli.main(list(args))
    code = exit_.value.code
    assert isinstance(code, int)
    return code
