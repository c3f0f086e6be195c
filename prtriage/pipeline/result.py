"""What classify answers: a `Result` and the `FileEntry` of each changed file in it.

These are the values every output reads (render.py, batch lines, the GitHub comment, notes): one
JSON shape, `Result.to_json`, versioned by SCHEMA_VERSION.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prtriage.core.conventional import Declared
from prtriage.pipeline.planted_text import PlantedSpan

SAW_LITTLE_SHARE = 0.5  # under this share of the changed lines shown, the result says so
# Files left out of the prompt by design (binary, lock, generated, excluded) are not counted: the
# model is not meant to read them, and a dependency bump would otherwise always "see little".
NO_ROOM = "no room in the context"  # the one reason a file with text changes went unseen for room


@dataclass(frozen=True)
class FileEntry:
    """One changed file as the result reports it: its counts and how much of it the model saw."""

    path: str
    old_path: str | None
    status: str
    kind: str
    additions: int
    deletions: int
    shown: str  # "full", "partial" or "none"
    reason: str | None  # why not (fully) shown
    shown_lines: int | None = None  # of its added and removed lines, how many the model saw

    @property
    def lines_seen(self) -> int:
        """Changed lines the model saw (when not counted: all of a file shown whole, else none)."""
        if self.shown_lines is not None:
            return self.shown_lines
        return self.additions + self.deletions if self.shown == "full" else 0

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "old_path": self.old_path,
            "status": self.status,
            "kind": self.kind,
            "additions": self.additions,
            "deletions": self.deletions,
            "included": self.shown != "none",
            "shown": self.shown,
            "reason": self.reason,
            "shown_lines": self.lines_seen,
        }


@dataclass(frozen=True)
class Term:
    """One term of the change and how far it pushed the answer over the runner-up."""

    term: str
    field: str  # "text" (title and description), "paths" or "diff"
    push: float  # its share of the lexical model's log-odds of the answer over the runner-up

    def to_json(self) -> dict[str, object]:
        return {"term": self.term, "field": self.field, "push": round(self.push, 4)}


@dataclass(frozen=True)
class Evidence:
    """What decided between the answer and the runner-up, as the reasoning states it."""

    runner_up: str
    llm: tuple[float, float]  # the LLM alone: the answer's probability, the runner-up's
    lexical: tuple[float, float] | None  # the lexical model alone (fused scorer), same order
    lexical_weight: float | None  # the lexical model's share of the fused log-probabilities
    terms: tuple[Term, ...]  # the strongest pushes for the answer, strongest first
    paths: tuple[str, ...]  # the change's files the reasoning names

    def to_json(self) -> dict[str, object]:
        pair = ("answer", "runner_up")
        return {
            "runner_up": self.runner_up,
            "llm": {k: round(v, 6) for k, v in zip(pair, self.llm)},
            "lexical": None if self.lexical is None else {k: round(v, 6) for k, v in zip(pair, self.lexical)},
            "lexical_weight": self.lexical_weight,
            "terms": [t.to_json() for t in self.terms],
            "paths": list(self.paths),
        }


# The version of the JSON a result is written as (classify --format json, --github's `json`
# output, batch lines, notes --format json): raised when a key changes meaning or goes away
# (docs/compatibility.md). New keys may appear in any version.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Result:
    category: str
    confidence: float
    probabilities: dict[str, float]
    reasoning: str
    files: tuple[FileEntry, ...]
    model: str
    adapter: str | None
    prompt_tokens: int
    body_cut: bool
    source: str
    timings: dict[str, float] = field(default_factory=dict)
    min_confidence: float | None = None  # the threshold it was judged against, when one is set
    scorer: str = "fused"
    model_sha256: str | None = None  # the model file's identity (for the default, the embedded file)
    adapter_sha256: str | None = None
    declared: Declared | None = None  # the title's Conventional Commits type (declared = check, trust)
    decided_by: str = "model"  # or "declared type" (declared = trust): the model did not run
    planted: tuple[PlantedSpan, ...] = ()  # text of the change addressed to the classifier
    # The LLM's own probabilities when another scorer was mixed in (fused); for eval, not printed.
    llm_probabilities: dict[str, float] | None = None
    evidence: Evidence | None = None  # what the reasoning states decided the answer (explain.py)
    saw_little_uncertain: bool = False  # saw-little = "uncertain": such a result counts as uncertain

    @property
    def below_min_confidence(self) -> bool:
        return self.min_confidence is not None and self.confidence < self.min_confidence

    @property
    def uncertain(self) -> bool:
        """Below --min-confidence (or, when asked, the model saw little): say so, fail and label nothing."""
        return self.below_min_confidence or (self.saw_little_uncertain and self.saw_little)

    def _readable(self) -> list[FileEntry]:
        return [
            f for f in self.files if (f.shown != "none" or f.reason == NO_ROOM) and f.additions + f.deletions
        ]

    @property
    def shown_fraction(self) -> float | None:
        """Of the changed lines the model was meant to read, the share it was shown (None: no such line)."""
        readable = self._readable()
        total = sum(f.additions + f.deletions for f in readable)
        return sum(f.lines_seen for f in readable) / total if total else None

    @property
    def biggest_unseen(self) -> FileEntry | None:
        """The file with the most changed lines, when the model saw none of its diff."""
        readable = self._readable()
        biggest = max(readable, key=lambda f: f.additions + f.deletions, default=None)
        return biggest if biggest is not None and biggest.shown == "none" else None

    @property
    def saw_little(self) -> bool:
        """The model saw under half of the changed lines, or not the most changed file."""
        if self.decided_by != "model":
            return False
        fraction = self.shown_fraction
        return (fraction is not None and fraction < SAW_LITTLE_SHARE) or self.biggest_unseen is not None

    def to_json(self) -> dict[str, object]:
        return {
            "schema_version": SCHEMA_VERSION,
            "category": self.category,
            "confidence": round(self.confidence, 6),
            "uncertain": self.uncertain,
            "min_confidence": self.min_confidence,
            "scorer": self.scorer,
            "decided_by": self.decided_by,
            "declared": self._declared_json(),
            "probabilities": {k: round(v, 6) for k, v in self.probabilities.items()},
            "reasoning": self.reasoning,
            "evidence": None if self.evidence is None else self.evidence.to_json(),
            "shown_fraction": None if (fraction := self.shown_fraction) is None else round(fraction, 4),
            "saw_little": self.saw_little,
            "saw_little_uncertain": self.saw_little_uncertain,
            "files": [f.to_json() for f in self.files],
            "dropped": [f.path for f in self.files if f.shown != "full"],
            "model": self.model,
            "model_sha256": self.model_sha256,
            "adapter": self.adapter,
            "adapter_sha256": self.adapter_sha256,
            "source": self.source,
            "prompt_tokens": self.prompt_tokens,
            "description_cut": self.body_cut,
            "planted": [span.to_json() for span in self.planted],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }

    def _declared_json(self) -> dict[str, object] | None:
        d = self.declared
        if d is None:
            return None
        return {"type": d.type, "scope": d.scope, "category": d.category, "breaking": d.breaking,
                "agrees": d.category == self.category}  # fmt: skip
