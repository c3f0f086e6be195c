"""`prtriage notes A..B`: release notes from a range, one entry per change that landed, by category.

A change that landed is a first-parent commit of B not in A: a pull request's merge commit
("Merge pull request #12 from ...", its title on the first body line), a squash commit ("Title
(#12)"), or a commit pushed or rebased onto the branch. Its title reaches the model without a
Conventional Commits prefix or `(#12)`, so that the model cannot read the answer and the type can
be checked against it: the notes show the type only where it disagrees with the model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from prtriage import git
from prtriage.change import Result
from prtriage.config import Settings
from prtriage.conventional import DEFAULT_TYPE_MAP, PR_NUMBER, category_for, clean_body, parse_subject
from prtriage.engine import Engine
from prtriage.errors import GitError, UsageError
from prtriage.escape import without_mentions
from prtriage.progress import ProgressLine
from prtriage.triage import change_from_git, classify, open_engine

DEFAULT_HEADINGS: tuple[tuple[str, str], ...] = (
    ("feature", "Features"), ("fix", "Fixes"), ("perf", "Performance"), ("docs", "Documentation"),
    ("refactor", "Refactoring"), ("test", "Tests"), ("ci", "CI"), ("build", "Build"),
    ("deps", "Dependencies"), ("chore", "Chores"),
)  # fmt: skip
UNCERTAIN = "uncertain"  # the group of results below min-confidence, last
UNCERTAIN_HEADING = "Not sorted (below min-confidence)"
MERGE_PR = re.compile(r"^Merge pull request #(?P<number>\d+) from (?P<branch>\S+)")
SQUASH_NUMBER = re.compile(r"\(#(?P<number>\d+)\)\s*$")


@dataclass(frozen=True)
class Landed:
    """One change that landed in the range, before classification."""

    sha: str
    parent: str | None  # None for a root commit
    title: str  # as the notes show it: no type prefix, no (#N)
    body: str
    number: int | None  # the pull request, when the commit names one
    commit_type: str | None  # the Conventional Commits type, as written
    type_category: str | None  # the category that type maps to


@dataclass(frozen=True)
class Entry:
    change: Landed
    result: Result

    @property
    def disagrees(self) -> bool:
        """The commit's type names another category than the model's."""
        return self.change.type_category is not None and self.change.type_category != self.result.category

    def to_json(self) -> dict[str, object]:
        c, r = self.change, self.result
        return {
            "sha": c.sha, "number": c.number, "title": c.title, "category": r.category,
            "confidence": round(r.confidence, 6), "uncertain": r.uncertain, "reasoning": r.reasoning,
            "commit_type": c.commit_type, "type_category": c.type_category, "disagrees": self.disagrees,
        }  # fmt: skip


@dataclass(frozen=True)
class Skipped:
    sha: str
    title: str
    reason: str


def parse_range(spec: str) -> tuple[str, str]:
    """`A..B` (or `A..` or `A`, up to HEAD) as its two refs: the changes of B not in A, as
    `git log A..B` lists them. `A...B` means the same here (and in `classify --range`)."""
    start, _, end = spec.partition("..." if "..." in spec else "..")
    if not start or start.startswith("-") or end.startswith("-"):
        raise UsageError(f"range {spec!r} is not A..B", hint="e.g. prtriage notes v0.1.0..HEAD")
    return start, end or "HEAD"


def landed_changes(repo: Path, spec: str) -> list[Landed]:
    """The changes that landed in A..B, oldest first; an unknown ref or an empty range is an error."""
    start, end = parse_range(spec)
    for ref in (start, end):
        if not git.ref_exists(repo, ref):
            raise GitError(
                f"unknown ref {ref!r} in {spec}", hint="check the name, or fetch tags: git fetch --tags"
            )
    log = git.first_parent_log(repo, revs=f"{start}..{end}")
    if not log:
        raise GitError(f"no changes in {start}..{end}", hint=f"is {end} ahead of {start}?")
    return [landed(entry) for entry in reversed(log)]


def landed(entry: git.LogEntry) -> Landed:
    """Title, body and pull request number of one first-parent commit."""
    title, body, number = entry.subject, entry.body, None
    merge = MERGE_PR.match(entry.subject) if len(entry.parents) > 1 else None
    if merge:  # GitHub's merge commit: the pull request's title is the first body line
        number = int(merge["number"])
        first, _, rest = entry.body.partition("\n")
        title, body = (first.strip(), rest.strip()) if first.strip() else (merge["branch"], "")
    else:
        squash = SQUASH_NUMBER.search(entry.subject)
        number = int(squash["number"]) if squash else None
    parsed = parse_subject(title)
    if parsed is not None and parsed.type not in DEFAULT_TYPE_MAP:
        parsed = None  # "README: ..." or "eval: ...": a topic, not a Conventional Commits type
    return Landed(
        sha=entry.sha,
        parent=entry.parents[0] if entry.parents else None,
        title=parsed.description if parsed else PR_NUMBER.sub("", title).strip(),
        body=clean_body(body),
        number=number,
        commit_type=parsed.type if parsed else None,
        type_category=category_for(parsed, DEFAULT_TYPE_MAP) if parsed else None,
    )


def classify_all(
    repo: Path, changes: Sequence[Landed], engine: Engine, settings: Settings,
    advance: Callable[[], None] = lambda: None,
) -> tuple[list[Entry], list[Skipped]]:  # fmt: skip
    """Classify every change with one engine (the shared prompt prefix stays cached between them)."""
    entries, skipped = [], []
    for change in changes:
        try:
            if change.parent is None:
                raise GitError("a root commit: nothing to diff it against")
            spec = git.DiffSpec(range=f"{change.parent}..{change.sha}")
            found = change_from_git(repo, spec, settings.exclude, change.title, change.body)
            entries.append(Entry(change, classify(found, engine, settings)))
        except GitError as e:  # e.g. an empty merge: one change must not lose the others
            skipped.append(Skipped(change.sha, change.title, e.message))
        advance()
    return entries, skipped


def headings(settings: Settings) -> list[tuple[str, str]]:
    """(category, heading) in the notes' order: the configured ones first, the rest after; "" hides."""
    configured = dict(settings.notes)
    defaults = dict(DEFAULT_HEADINGS)
    order = [c for c, _ in settings.notes] + [c for c, _ in DEFAULT_HEADINGS]
    order += [c.name for c in settings.categories]
    seen: set[str] = set()
    result = []
    for name in order:
        if name in seen or name not in settings.category_names:
            continue
        seen.add(name)
        heading = configured.get(name, defaults.get(name, name.capitalize()))
        if heading:
            result.append((name, heading))
    return result


def _escape(text: str) -> str:
    """A title is the pull request author's text: no HTML, no line breaks, no @mentions."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return without_mentions(" ".join(text.split()))


def _line(entry: Entry) -> str:
    c = entry.change
    line = f"- {_escape(c.title) or c.sha[:12]}"
    line += f" (#{c.number})" if c.number else f" ({c.sha[:7]})"
    if entry.disagrees:
        line += f" · commit type `{c.commit_type}`"
    return line


def to_markdown(entries: Sequence[Entry], settings: Settings, title: str | None = None) -> str:
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(UNCERTAIN if entry.result.uncertain else entry.result.category, []).append(entry)
    lines = [f"# {_escape(title)}", ""] if title else []
    for category, heading in [*headings(settings), (UNCERTAIN, UNCERTAIN_HEADING)]:
        if groups.get(category):
            lines += [f"## {heading}", "", *(_line(e) for e in groups[category]), ""]
    return "\n".join(lines).rstrip("\n") + "\n" if lines else "No changes to list.\n"


def to_json(spec: str, entries: Sequence[Entry], skipped: Sequence[Skipped]) -> str:
    return json.dumps(
        {
            "range": spec,
            "entries": [e.to_json() for e in entries],
            "skipped": [{"sha": s.sha, "title": s.title, "reason": s.reason} for s in skipped],
        },
        ensure_ascii=False,
        indent=2,
    )


def release_notes(
    repo: Path, spec: str, settings: Settings, fmt: str, title: str | None, stderr: Console
) -> str:
    """The notes for A..B as `fmt` (markdown or json); the model loads once, after the range is known good."""
    changes = landed_changes(repo, spec)  # a bad ref or an empty range fails before the model loads
    with stderr.status("loading the model"):
        engine = open_engine(settings)
    with ProgressLine(stderr, "classifying", len(changes), "changes") as bar:
        entries, skipped = classify_all(repo, changes, engine, settings, bar.advance)
    for s in skipped:
        stderr.print(f"prtriage: skipped {s.sha[:12]} {s.title!r}: {s.reason}", markup=False, highlight=False)
    if fmt == "json":
        return to_json(spec, entries, skipped) + "\n"
    return to_markdown(entries, settings, title)
