"""The sticky pull-request comment (opt-in): one comment, found again by a hidden marker, edited each run.

Pull-request comments are issue comments (the `issues/{n}/comments` endpoints; the token needs
`pull-requests: write`). Only a comment that the token's own account wrote, that starts with the
marker and that names its own id counts as prtriage's (label_ledger.py): anyone can paste the
marker into a comment of their own, a bot can copy it from the description into its own, and
prtriage must never overwrite someone else's words. When it cannot tell, it writes nothing. The same comment holds the
ledger of the labels prtriage put on; when labels are on without this comment, the ledger's own
one-line note is the comment, and turning the comment on makes that note the full comment.
When a result is uncertain, the comment is not deleted but marked outdated, so reviewers see
that the earlier category no longer holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from prtriage.core.errors import UsageError
from prtriage.core.escape import markdown_text, one_line, without_mentions
from prtriage.github.api import GitHubClient, GitHubError
from prtriage.github.label_ledger import MARKER, create_comment, is_note, read_ledger, whoami, with_block
from prtriage.github.labels import refused
from prtriage.pipeline.diff import KIND_RANK
from prtriage.pipeline.planted_text import MAX_SPAN_CHARS, MAX_SPANS, PlantedSpan
from prtriage.pipeline.render import to_markdown, uncertain_note
from prtriage.pipeline.result import FileEntry, Result

MAX_BODY_CHARS = 65_000  # GitHub refuses bodies over 65,536 characters
HEADING = "### prtriage"
CUT_NOTE = "\n\n*(cut to GitHub's comment size limit)*\n"
MAX_PATH = 4096  # PATH_MAX: longer is no path git printed
FILE_STATUSES = ("added", "deleted", "modified", "renamed")
FILE_KINDS = tuple(KIND_RANK)


@dataclass(frozen=True)
class CommentOutcome:
    number: int
    action: str  # "created", "updated", "unchanged", "marked outdated", "none" or "unsure"
    comment_id: int | None
    doubt: str | None = None  # "unsure": why prtriage cannot tell which comment is its own

    def describe(self) -> str:
        if self.action == "unsure":
            return f"no comment written on #{self.number}: {self.doubt}"
        if self.action == "none":
            return f"no comment on #{self.number}: the result is uncertain and there was none to mark"
        return f"comment {self.action} on #{self.number}"


def _fit(body: str, room: int = 0) -> str:
    """`body` cut to GitHub's limit, less `room` characters kept for the ledger."""
    if len(body) <= MAX_BODY_CHARS - room:
        return body
    return body[: MAX_BODY_CHARS - room - len(CUT_NOTE)] + CUT_NOTE


def comment_body(result: Result, withheld: str | None = None) -> str:
    """The category, probability table, reasoning and what the budget left out, behind the marker;
    first, when the category got no label (`withheld`), that and why."""
    heading = HEADING + (f"\n\n**No category label:** {markdown_text(withheld)}." if withheld else "")
    return _fit(MARKER + "\n" + without_mentions(to_markdown(result, heading=heading)))


def outdated_body(result: Result) -> str:
    """What the comment becomes when the latest result is uncertain: the earlier category is withdrawn."""
    note = uncertain_note(result).removeprefix("uncertain: ")
    lines = [
        MARKER,
        HEADING,
        "",
        f"**Outdated:** the latest push is uncertain ({note}); the category shown here before no longer holds.",
        "",
        "<details><summary>The uncertain result</summary>",
        "",
        to_markdown(result, heading="#### prtriage (uncertain)"),
        "</details>",
        "",
    ]
    return _fit(without_mentions("\n".join(lines)))


def sync_comment(
    client: GitHubClient, repository: str, number: int, result: Result, fork: bool = False,
    withheld: str | None = None,
) -> CommentOutcome:  # fmt: skip
    """Create or edit prtriage's comment; an uncertain result marks an existing one outdated.
    `withheld`: why the category got no label (planted text), said first. The comment always ends
    with the ledger block, which names the comment's own id: what makes it prtriage's."""
    ledger = read_ledger(client, repository, number, whoami(client))
    if ledger.doubt:
        return CommentOutcome(number, "unsure", None, ledger.doubt)
    existing = ledger.comment
    if result.uncertain and (existing is None or is_note(existing)):
        return CommentOutcome(number, "none", None)
    body = outdated_body(result) if result.uncertain else comment_body(result, withheld)
    try:
        if existing is None:  # made first, then named: its id is known only once it exists
            existing = create_comment(client, repository, number, _fit(body))
            ledger.comment, action = existing, "created"
        elif is_note(existing):  # the labels' one-line note becomes the comment
            action = "created"
        else:
            action = "marked outdated" if result.uncertain else "updated"
        comment_id = int(existing["id"])
        body = with_block(_fit(body, len(ledger.block()) + 1), ledger)
        if existing.get("body") == body:
            return CommentOutcome(number, "unchanged", comment_id)
        client.request("PATCH", f"/repos/{repository}/issues/comments/{comment_id}", body={"body": body})
    except GitHubError as e:
        raise refused(e, f"cannot comment on pull request #{number}", fork) from None
    return CommentOutcome(number, action, comment_id)


# --- a result file from another run (label --from --comment): untrusted, checked field by field ----


def _number(data: dict[str, Any], key: str, lo: float, hi: float) -> float:
    value = data.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not lo <= value <= hi:
        raise UsageError(f"result file: {key!r} must be a number from {lo:g} to {hi:g}")
    return float(value)


def _count(data: dict[str, Any], key: str) -> int:
    value = data.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise UsageError(f"result file: {key!r} must be a count")
    return value


def _text(
    data: dict[str, Any], key: str, limit: int, optional: bool = False, lines: bool = False
) -> str | None:
    """A string field of the untrusted file: refused, never cut or mended, when it is not what
    prtriage writes there (text, at most `limit` characters, one line unless `lines`)."""
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise UsageError(f"result file: {key!r} must be text")
    if len(value) > limit:
        raise UsageError(f"result file: {key!r} is longer than {limit} characters")
    if not lines and one_line(value) != value:
        raise UsageError(f"result file: {key!r} must be one line of text")
    return value


def _choice(data: dict[str, Any], key: str, choices: Sequence[str]) -> str:
    value = data.get(key)
    if value not in choices:
        raise UsageError(f"result file: {key!r} must be one of {', '.join(choices)}")
    return str(value)


def _file_entry(item: Any) -> FileEntry:
    if not isinstance(item, dict):
        raise UsageError("result file: a `files` entry is not a file of a classify result")
    # A path may hold any character git allows (a line break too): it is escaped where shown.
    additions, deletions = _count(item, "additions"), _count(item, "deletions")
    # Lines the model saw (a result from before they were counted has none: full files count whole).
    seen = min(_count(item, "shown_lines"), additions + deletions) if "shown_lines" in item else None
    return FileEntry(
        path=str(_text(item, "path", MAX_PATH, lines=True)),
        old_path=_text(item, "old_path", MAX_PATH, optional=True, lines=True),
        status=_choice(item, "status", FILE_STATUSES), kind=_choice(item, "kind", FILE_KINDS),
        additions=additions, deletions=deletions,
        shown=_choice(item, "shown", ("full", "partial", "none")),
        reason=_text(item, "reason", 200, optional=True), shown_lines=seen,
    )  # fmt: skip


def planted_from_json(data: dict[str, Any]) -> tuple[PlantedSpan, ...]:
    """The `planted` spans of a result file: a list of {where, kind, text}, one line each."""
    items = data.get("planted", [])
    if not isinstance(items, list) or len(items) > MAX_SPANS:
        raise UsageError(f"result file: 'planted' must be a list of at most {MAX_SPANS} spans")
    spans = []
    for item in items:
        if not isinstance(item, dict):
            raise UsageError("result file: a 'planted' entry is not a span of a classify result")
        where = str(_text(item, "where", MAX_PATH, lines=True))
        kind, text = str(_text(item, "kind", 40)), str(_text(item, "text", MAX_SPAN_CHARS))
        spans.append(PlantedSpan(where, kind, text))
    return tuple(spans)


def result_from_json(data: dict[str, Any], names: Sequence[str]) -> Result:
    """The Result a `classify --github` JSON describes, for rendering the comment from it."""
    probabilities = data.get("probabilities")
    if not isinstance(probabilities, dict) or set(probabilities) != set(names):
        raise UsageError("result file: 'probabilities' must give every configured category")
    files = data.get("files", [])
    if not isinstance(files, list):
        raise UsageError("result file: 'files' must be a list")
    min_confidence = None
    if data.get("min_confidence") is not None:
        min_confidence = _number(data, "min_confidence", 0, 1)
    return Result(
        category=str(data.get("category")),
        confidence=_number(data, "confidence", 0, 1),
        probabilities={name: _number(probabilities, name, 0, 1) for name in names},
        reasoning=str(_text(data, "reasoning", 4000)),
        files=tuple(_file_entry(f) for f in files),
        model=str(_text(data, "model", 1000)),
        adapter=_text(data, "adapter", 1000, optional=True),
        prompt_tokens=_count(data, "prompt_tokens"),
        body_cut=data.get("description_cut") is True,
        source=str(_text(data, "source", 1000, optional=True) or ""),
        min_confidence=min_confidence,
        planted=planted_from_json(data),
        decided_by=_choice(data, "decided_by", ("model", "declared type"))
        if "decided_by" in data
        else "model",
        saw_little_uncertain=data.get("saw_little_uncertain") is True,
    )
