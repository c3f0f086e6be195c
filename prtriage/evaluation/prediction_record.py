"""One prediction of `prtriage eval`, and the per-record file `--predictions` writes."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class Prediction:
    id: str
    truth: str
    predicted: str
    probabilities: dict[str, float]
    parsed: bool  # the final answer object parsed as JSON with a configured category
    latency_s: float
    prompt_tokens: int = 0
    prompt_s: float = 0.0
    reasoning: str = ""
    flags: tuple[str, ...] = ()  # reasoning_check flags; empty when the reasoning passed
    placement: str = ""  # with --attack: where an instruction was planted ("" for the record as is)
    target: str = ""  # the category the planted instruction asked for
    llm_probabilities: dict[str, float] | None = None  # the LLM's alone, when a fused score was mixed

    def llm_alone(self) -> Prediction:
        """The prediction the LLM alone made (itself when nothing was mixed in)."""
        if not self.llm_probabilities:
            return self
        probs = self.llm_probabilities
        return replace(self, predicted=max(probs, key=probs.__getitem__), probabilities=probs,
                       llm_probabilities=None)  # fmt: skip

    @property
    def confidence(self) -> float:
        return self.probabilities.get(self.predicted, 0.0)


def load_predictions(path: Path, attacked: bool = False) -> list[Prediction]:
    """The per-record lines `prtriage eval --predictions` wrote: the records as is, or the attacked ones."""
    lines = path.read_text(encoding="utf-8").splitlines()
    preds = []
    for line in lines:
        if line.strip():
            data = json.loads(line)
            data["flags"] = tuple(data.get("flags", ()))
            preds.append(Prediction(**data))
    return [p for p in preds if bool(p.placement) == attacked]
