"""`prtriage notes A..B`: release notes from a range, one entry per change that landed, by category.

A change that landed is a first-parent commit of B not in A: a pull request's merge commit
("Merge pull request #12 from ...", its title on the first body line), a squash commit ("Title
(#12)"), or a commit pushed or rebased onto the branch. A Conventional Commits type in its title
is the author's answer: with `declared = "trust"` (the notes' default) it decides the section and
the model runs only on the changes without one; `check` runs the model on every change and keeps
the type's section unless the model disagrees with more confidence than `check-override` (by
default never: measured, docs/notes.md), marking the disagreement either way; `ignore` sorts by the model alone. The model reads each
title without its prefix or `(#12)`, so it cannot read the answer. A `!` or a `BREAKING CHANGE:`
footer puts a change under Breaking changes, first and never hidden. An entry shows its scope
(`**api:** text`, as Conventional Changelog does) and the inline code of its title as code;
identical entries are one line with every reference; release commits are counted, not listed.
The page ends with the contributors (authors and Co-authored-by trailers, bots left out; as
@login when the GitHub API says whose commits they are), and, given the previous tag, a
suggested next version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from prtriage.core.conventional import (
    PR_NUMBER,
    breaking_note,
    clean_body,
    clean_title,
    declared_type,
    is_release,
)
from prtriage.core.errors import GitError, UsageError
from prtriage.core.escape import markdown_text, markdown_text_with_code
from prtriage.core.progress import ProgressLine
from prtriage.core.settings import Settings
from prtriage.pipeline import (
    engine_factory,  # engine_factory.open_engine looked up when called: tests swap in a fake
    git,
)
from prtriage.pipeline.change import change_from_git
from prtriage.pipeline.engine import Engine
from prtriage.pipeline.result import SCHEMA_VERSION, Result
from prtriage.pipeline.triage import classify

DEFAULT_HEADINGS: tuple[tuple[str, str], ...] = (
    ("feature", "Features"), ("fix", "Fixes"), ("perf", "Performance"), ("docs", "Documentation"),
    ("refactor", "Refactoring"), ("test", "Tests"), ("ci", "CI"), ("build", "Build"),
    ("deps", "Dependencies"), ("chore", "Chores"),
)  # fmt: skip
UNCERTAIN = "uncertain"  # the group of results below min-confidence, last
UNCERTAIN_HEADING = "Not sorted (below min-confidence)"
BREAKING = "breaking"  # the group of breaking changes, first, whatever their category
BREAKING_HEADING = "Breaking changes"
NOTES_DECLARED = "trust"  # the notes' default for `declared`: a type is the author's answer
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
    breaking: bool = False  # `type!:` or a BREAKING CHANGE footer
    breaking_note: str = ""  # the footer's description
    scope: str | None = None  # the Conventional Commits scope, as written
    release: bool = False  # a commit release tooling made (`chore(release): v1.2.3`)

    @property
    def reference(self) -> str:
        """How GitHub links it in Markdown: the pull request, else the short commit."""
        return f"#{self.number}" if self.number else self.sha[:7]


@dataclass(frozen=True)
class Entry:
    """A landed change and its category: the model's result, or (declared = trust) its type's."""

    change: Landed
    result: Result | None  # None: the declared type decided and the model did not run
    check: bool = False  # declared = check: flag where the type and the model disagree
    override: float = 1.0  # declared = check: the model's category wins only above this confidence

    @property
    def category(self) -> str:
        if self.result is None or self.kept:
            assert self.change.type_category is not None
            return self.change.type_category
        return self.result.category

    @property
    def kept(self) -> bool:
        """declared = check: the entry stays in its declared type's section, whether the model
        agrees or disagrees, unless the model disagrees more confidently than check-override (then
        it moves). A kept entry is never "uncertain": its type decided, however sure the model was."""
        r = self.result
        if not self.check or r is None or self.change.type_category is None:
            return False
        return not (self.disagrees and r.confidence > self.override)

    @property
    def uncertain(self) -> bool:
        return self.result is not None and self.result.uncertain and not self.kept

    @property
    def disagrees(self) -> bool:
        """The commit's type names another category than the model's."""
        c, r = self.change, self.result
        return c.type_category is not None and r is not None and c.type_category != r.category

    @property
    def section(self) -> str:
        """Where the notes list it: breaking changes first, else by category, uncertain last."""
        if self.change.breaking:
            return BREAKING
        return UNCERTAIN if self.uncertain else self.category

    def to_json(self) -> dict[str, object]:
        c, r = self.change, self.result
        return {
            "sha": c.sha, "number": c.number, "title": c.title, "category": self.category,
            "decided_by": "model" if r and not self.kept else "declared type", "scope": c.scope,
            "model_category": r.category if r else None,
            "confidence": round(r.confidence, 6) if r else None, "uncertain": self.uncertain,
            "reasoning": r.reasoning if r else None, "breaking": c.breaking,
            "breaking_note": c.breaking_note or None, "commit_type": c.commit_type,
            "type_category": c.type_category, "disagrees": self.disagrees,
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
    declared = declared_type(title, body)  # "README: ..." is a topic, not a type: None
    note = breaking_note(body)
    return Landed(
        sha=entry.sha,
        parent=entry.parents[0] if entry.parents else None,
        title=clean_title(title) if declared else PR_NUMBER.sub("", title).strip(),
        body=clean_body(body),
        number=number,
        commit_type=declared.type if declared else None,
        type_category=declared.category if declared else None,
        breaking=(declared is not None and declared.breaking) or note is not None,
        breaking_note=" ".join((note or "").split()),
        scope=(declared.scope or "").strip() or None if declared else None,
        release=is_release(title),
    )


def declared_mode(settings: Settings) -> str:
    return settings.declared or NOTES_DECLARED


def needs_model(change: Landed, settings: Settings) -> bool:
    """Under `trust`, a change whose type maps to a configured category needs no model."""
    trusted = declared_mode(settings) == "trust" and change.type_category in settings.category_names
    return not trusted


def classify_all(
    repo: Path, changes: Sequence[Landed], engine: Engine | None, settings: Settings,
    advance: Callable[[], None] = lambda: None,
) -> tuple[list[Entry], list[Skipped]]:  # fmt: skip
    """Classify the changes that need the model with one engine (the shared prompt prefix stays
    cached between them); the others keep their declared type."""
    entries, skipped = [], []
    check = declared_mode(settings) == "check"
    for change in changes:
        if not needs_model(change, settings):
            entries.append(Entry(change, None))
            continue
        assert engine is not None
        try:
            if change.parent is None:
                raise GitError("a root commit: nothing to diff it against")
            spec = git.DiffSpec(range=f"{change.parent}..{change.sha}")
            found = change_from_git(repo, spec, settings.exclude, change.title, change.body)
            # a type outside the configured categories has no section to keep it in
            checked = check and change.type_category in settings.category_names
            entries.append(Entry(change, classify(found, engine, settings), checked, settings.check_override))
        except GitError as e:  # e.g. an empty merge: one change must not lose the others
            skipped.append(Skipped(change.sha, change.title, e.message))
        advance()
    return entries, skipped


def disagreements(entries: Sequence[Entry]) -> list[str]:
    """declared = check: one line per change whose type the model disagrees with (as the
    commit-msg hook says it)."""
    lines = []
    for e in entries:
        if e.check and e.disagrees and e.result is not None:
            c, r = e.change, e.result
            where = (
                f"kept under {c.type_category} (check-override: {e.override:g})"
                if e.kept
                else f"listed under {r.category}"
            )
            lines.append(
                f"{c.sha[:12]} {c.title!r}: '{c.commit_type}' means {c.type_category}, but the change "
                f"looks like {r.category} ({r.confidence:.0%}): {where}"
            )
    return lines


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


def _scope(scope: str | None, style: str) -> str:
    """The scope before an entry's text, as the notes-scope setting says (none: left out)."""
    shown = markdown_text(scope or "") if style != "none" else ""
    if not shown:
        return ""
    return f"*({shown})* " if style == "italic" else f"**{shown}:** "


def _text(entry: Entry, style: str) -> str:
    c = entry.change
    return f"{_scope(c.scope, style)}{markdown_text_with_code(c.title) or c.sha[:12]}"


def _mark(entry: Entry) -> str:
    """declared = check: where the type and the model disagree, what the other one said."""
    c, r = entry.change, entry.result
    if not (entry.check and entry.disagrees and r is not None):
        return ""
    return (
        f" · model: `{r.category}` ({r.confidence:.0%})"
        if entry.kept
        else f" · commit type `{c.commit_type}`"
    )


def _lines(group: Sequence[Entry], style: str) -> list[str]:
    """One line per distinct entry of a section: identical ones (same scope, text, mark and
    breaking note, case aside) are one line with every reference, in the order they landed."""
    merged: dict[tuple[str, str, str], list[Entry]] = {}
    for entry in group:
        text = " ".join(_text(entry, style).split()).casefold()
        merged.setdefault((text, _mark(entry), entry.change.breaking_note.casefold()), []).append(entry)
    lines = []
    for same in merged.values():
        first = same[0]
        refs = ", ".join(dict.fromkeys(e.change.reference for e in same))
        lines.append(f"- {_text(first, style)} ({refs}){_mark(first)}")
        note = markdown_text_with_code(first.change.breaking_note) if first.section == BREAKING else ""
        if note:  # an empty item under a line would make that line a heading (`  -` underlines it)
            lines.append(f"  - {note}")
    return lines


def _not_listed(releases: int, hidden: dict[str, int]) -> str:
    """The line that counts what the page leaves out: release commits, and hidden categories."""
    parts = [f"{releases} release commit{'s' if releases != 1 else ''}"] if releases else []
    if hidden:
        counts = ", ".join(f"{n} {section}" for section, n in hidden.items())
        parts.append(f"{counts} (hidden by the notes config)")
    return f"_Not listed: {'; '.join(parts)}._"


def to_markdown(
    entries: Sequence[Entry], settings: Settings, title: str | None = None,
    version: Version | None = None, contributors: Sequence[Contributor] = (), releases: int = 0,
) -> str:  # fmt: skip
    """The page: title, suggested version, breaking changes, each category, the uncertain ones,
    what it leaves out (counted: release commits, hidden categories), contributors (a login from
    the GitHub API as `@login`, a name as text)."""
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(entry.section, []).append(entry)
    lines = [f"# {markdown_text(title)}", ""] if title else []
    if version is not None:
        lines += [f"Suggested next version: **{version.next}** ({version.why})", ""]
    shown = [(BREAKING, BREAKING_HEADING), *headings(settings), (UNCERTAIN, UNCERTAIN_HEADING)]
    for section, heading in shown:
        if groups.get(section):
            lines += [f"## {heading}", "", *_lines(groups[section], settings.notes_scope), ""]
    listed = {section for section, _ in shown}
    hidden = {section: len(group) for section, group in groups.items() if section not in listed}
    if hidden or releases:
        lines += [_not_listed(releases, hidden), ""]
    people = [text for text in map(contributor_markdown, contributors) if text]
    if people:
        lines += ["## Contributors", "", ", ".join(people), ""]
    return "\n".join(lines).rstrip("\n") + "\n" if groups or lines else "No changes to list.\n"


def hidden_counts(entries: Sequence[Entry], settings: Settings) -> dict[str, int]:
    listed = {BREAKING, UNCERTAIN, *(c for c, _ in headings(settings))}
    counts: dict[str, int] = {}
    for e in entries:
        if e.section not in listed:
            counts[e.section] = counts.get(e.section, 0) + 1
    return counts


def to_json(
    spec: str, entries: Sequence[Entry], skipped: Sequence[Skipped], settings: Settings | None = None,
    version: Version | None = None, contributors: Sequence[Contributor] = (),
    releases: Sequence[Landed] = (),
) -> str:  # fmt: skip
    settings = settings or Settings()
    return json.dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "range": spec,
            "declared": declared_mode(settings),
            "next_version": version.to_json() if version else None,
            "entries": [e.to_json() for e in entries],
            "hidden": hidden_counts(entries, settings),
            "contributors": [p.name for p in contributors],
            "logins": {p.name: p.login for p in contributors if p.login},
            "release_commits": [{"sha": c.sha, "title": c.title} for c in releases],
            "skipped": [{"sha": s.sha, "title": s.title, "reason": s.reason} for s in skipped],
        },
        ensure_ascii=False,
        indent=2,
    )


# --- the suggested next version -----------------------------------------------------------------

SEMVER = re.compile(r"^(?P<prefix>v?)(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)(?P<rest>[-+].*)?$")


@dataclass(frozen=True)
class Version:
    previous: str  # the tag the range starts from
    next: str
    bump: str  # major, minor or patch

    @property
    def why(self) -> str:
        reason = {"major": "breaking changes", "minor": "new features", "patch": "no new features"}
        return f"{reason[self.bump]} since {self.previous}"

    def to_json(self) -> dict[str, str]:
        return {"previous": self.previous, "next": self.next, "bump": self.bump}


def next_version(previous: str, entries: Sequence[Entry]) -> Version | None:
    """Breaking → major, a feature → minor, else patch, from a `vMAJOR.MINOR.PATCH` tag."""
    m = SEMVER.match(previous)
    if m is None:
        return None
    major, minor, patch = int(m["major"]), int(m["minor"]), int(m["patch"])
    if any(e.change.breaking for e in entries):
        bump, numbers = "major", (major + 1, 0, 0)
    elif any(e.category == "feature" and not e.uncertain for e in entries):
        bump, numbers = "minor", (major, minor + 1, 0)
    elif m["rest"] and m["rest"].startswith("-"):  # v1.2.0-rc.1 → v1.2.0: the release itself
        bump, numbers = "patch", (major, minor, patch)
    else:
        bump, numbers = "patch", (major, minor, patch + 1)
    return Version(previous, m["prefix"] + ".".join(map(str, numbers)), bump)


# Accounts that open or author changes for a team but are no contributor (besides any `[bot]`).
BOT_NAMES = frozenset({
    "dependabot", "dependabot-preview", "renovate", "renovate-bot", "github-actions", "pre-commit-ci",
    "mergify", "greenkeeper", "snyk-bot", "allcontributors", "semantic-release-bot", "copilot",
})  # fmt: skip


def is_bot(name: str, email: str) -> bool:
    return "[bot]" in name.lower() or "[bot]" in email.lower() or name.strip().lower() in BOT_NAMES


# A GitHub login: letters, digits and single inner hyphens, at most 39 characters. Nothing else
# from the API reaches the page as a mention (an app's `name[bot]` is no person anyway).
LOGIN = re.compile(r"^[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}$")


@dataclass(frozen=True)
class Contributor:
    name: str  # from git: the author's own text, always defused
    login: str | None = None  # from the GitHub API: whose account the commit is, a real @mention


def contributor_markdown(person: Contributor) -> str:
    return f"@{person.login}" if person.login else markdown_text(person.name)


def contributors(
    repo: Path, revs: str, login_of: Callable[[str], str | None] | None = None
) -> list[Contributor]:
    """The people behind the range's commits (authors and Co-authored-by trailers), once each,
    bots left out, sorted. With `login_of` (a commit → its author's GitHub login, through the API)
    an author becomes `@login`: one lookup per distinct author email, people with one login are
    one. A trailer is the commit's text, so a co-author stays a name (unless they also wrote a
    commit in the range under the same name)."""
    people: dict[tuple[str, str], Contributor] = {}  # by login, else by name (case-insensitively)
    asked: dict[str, str | None] = {}  # email → login
    for author in git.authors(repo, revs):
        name = " ".join(author.name.split())
        if not name or is_bot(name, author.email):
            continue
        login = None
        if login_of is not None and not author.trailer:
            email = author.email.casefold()
            if email not in asked:
                asked[email] = login_of(author.sha)
            found = asked[email]
            login = found if found and LOGIN.match(found) else None
        key = ("login", login.casefold()) if login else ("name", name.casefold())
        people.setdefault(key, Contributor(name, login))
    named = {p.name.casefold() for p in people.values() if p.login}  # alice (a name) is @alice too
    listed = [p for p in people.values() if p.login or p.name.casefold() not in named]
    return sorted(listed, key=lambda p: (p.login or p.name).casefold())


def previous_tag(repo: Path, start: str) -> str | None:
    """The range's start when it is a version tag, else the nearest version tag before it."""
    if SEMVER.match(start) and git.is_tag(repo, start):
        return start
    found = git.nearest_tag(repo, start)
    return found if found and SEMVER.match(found) else None


def split_releases(changes: Sequence[Landed], settings: Settings) -> tuple[list[Landed], list[Landed]]:
    """The changes to list, and the release commits left out (counted), unless notes-releases."""
    if settings.notes_releases:
        return list(changes), []

    def hidden(c: Landed) -> bool:
        return c.release and not c.breaking  # a breaking change is never hidden

    return [c for c in changes if not hidden(c)], [c for c in changes if hidden(c)]


def release_notes(
    repo: Path, spec: str, settings: Settings, fmt: str, title: str | None, stderr: Console,
    login_of: Callable[[str], str | None] | None = None,
) -> str:  # fmt: skip
    """The notes for A..B as `fmt` (markdown or json); the model loads once, after the range is
    known good, and only when a change needs it. `login_of` names a commit's author's GitHub login."""
    landed_all = landed_changes(repo, spec)  # a bad ref or an empty range fails before the model loads
    changes, releases = split_releases(landed_all, settings)
    start, end = parse_range(spec)
    todo = sum(needs_model(c, settings) for c in changes)
    if todo:
        with stderr.status("loading the model"):
            engine = engine_factory.open_engine(settings)
        with ProgressLine(stderr, "classifying", todo, "changes") as bar:
            entries, skipped = classify_all(repo, changes, engine, settings, bar.advance)
    else:  # every change declares its type: no model at all
        entries, skipped = classify_all(repo, changes, None, settings)
    for s in skipped:
        stderr.print(f"prtriage: skipped {s.sha[:12]} {s.title!r}: {s.reason}", markup=False, highlight=False)
    for line in disagreements(entries):
        stderr.print(f"prtriage: {line}", markup=False, highlight=False)
    previous = previous_tag(repo, start)
    version = next_version(previous, entries) if previous else None
    people = contributors(repo, f"{start}..{end}", login_of)
    if fmt == "json":
        return to_json(spec, entries, skipped, settings, version, people, releases) + "\n"
    return to_markdown(entries, settings, title, version, people, len(releases))
