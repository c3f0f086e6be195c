"""A change to classify and its result: the types every layer passes around, and how a change is built.

`Change` is what git, a pull request or a labeled record gives; `Result` is what classify answers.
A change record becomes a `Change` here and nowhere else (`change_from_record`), so batch, eval,
the teacher and the training data parse and mark its files as classify does. Changes read from git
are built in `triage.change_from_git`, pull requests in `github.mode`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prtriage.conventional import Declared
from prtriage.diff import FileDiff, mark_skipped, parse_diff
from prtriage.planted_text import PlantedSpan


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


@dataclass(frozen=True)
class Change:
    """A change to classify, before the budget: what git (or a record) gave us."""

    title: str
    body: str
    files: list[FileDiff]
    source: str = ""  # where it came from, e.g. "origin/main...HEAD"


# The version of the JSON a result is written as (classify --format json, --github's `json`
# output, batch lines, notes --format json): raised when a key changes meaning or goes away
# (README: Compatibility). New keys may appear in any version.
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


def change_from_diff(
    title: str, body: str, diff_lines: Iterable[str], exclude: Sequence[str], source: str = "",
    attrs: dict[str, set[str]] | None = None,
) -> Change:  # fmt: skip
    files = parse_diff(diff_lines)
    mark_skipped(files, exclude, attrs or {})
    return Change(title=title, body=body, files=files, source=source)


def change_from_record(record: Mapping[str, Any], exclude: Sequence[str], source: str = "") -> Change:
    """A change record (`title`, `body`, `diff`; checked by `records.check_change_record`) as a Change.

    A missing or null title or body is empty, as classify sees a commit without one.
    """
    return change_from_diff(
        record.get("title") or "", record.get("body") or "", record["diff"].splitlines(True), exclude, source
    )
