"""What classify answers: a `Result` and the `FileEntry` of each changed file in it.

These are the values every output reads (render.py, batch lines, the GitHub comment, notes): one
JSON shape, `Result.to_json`, versioned by SCHEMA_VERSION.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prtriage.core.conventional import Declared
from prtriage.pipeline.planted_text import PlantedSpan


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
    scorer: str = "llm"
    model_sha256: str | None = None  # the model file's identity (for the default, the embedded file)
    adapter_sha256: str | None = None
    declared: Declared | None = None  # the title's Conventional Commits type (declared = check, trust)
    decided_by: str = "model"  # or "declared type" (declared = trust): the model did not run
    planted: tuple[PlantedSpan, ...] = ()  # text of the change addressed to the classifier
    # The LLM's own probabilities when another scorer was mixed in (fused); for eval, not printed.
    llm_probabilities: dict[str, float] | None = None

    @property
    def uncertain(self) -> bool:
        """The most likely category is below --min-confidence: say so, fail nothing, label nothing."""
        return self.min_confidence is not None and self.confidence < self.min_confidence

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
