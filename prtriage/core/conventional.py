"""Conventional Commits: subject parsing, the type → category map, and label-free titles and bodies.

A record built from history must not leak its label into the text the model reads: the title
loses its `type(scope)!:` prefix and trailing `(#123)`, body lines lose the same prefixes (squash
merges repeat the commits' subjects), and trailers such as Co-authored-by are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

SUBJECT = re.compile(r"^(?P<type>[A-Za-z]+)(?:\((?P<scope>[^()\r\n]*)\))?(?P<breaking>!)?:\s+(?P<rest>\S.*)$")
# A trailing "(#123)": it starts where a run of spaces starts, never inside one (from inside a long
# run, each start would scan the rest of the run again: quadratic on a title full of spaces).
# Nor inside a run of them, `(#1)(#2)...`: each would scan the rest of the run again too.
PR_NUMBER = re.compile(r"(?<![\s)])(?:\s*\((?:#\d+(?:,\s*)?)+\))+\s*$")
BODY_PREFIX = re.compile(r"^(?P<lead>\s*(?:[-*+]\s+|\d+\.\s+)?)[A-Za-z]+(?:\([^()\r\n]*\))?!?:\s+(?=\S)")
TRAILER = re.compile(
    r"^\s*(Co-authored-by|Signed-off-by|Reviewed-by|Acked-by|Tested-by|Reported-by|Suggested-by|"
    r"Helped-by|Cc|Change-Id|Reviewed-on|Approved-by|Release-note|Co-Authored-By):",
    re.IGNORECASE,
)
# What release tooling writes: `v1.2.3`, `release 1.2.3` / `release v2` / `release pkg@1.2.3`,
# `bump version to ...`, `publish`, changesets' `Version Packages`; not `release notes page`.
# `pkg@1.2` starts at a word's start and its name stops at `@`: a long word with no `@` would
# otherwise be scanned again from each of its characters (quadratic, under re.search).
_NAME_END = r"\s@:(\["
_VERSION = rf"(v?\d+\.\d+\S*|(?<![^{_NAME_END}])@?[^{_NAME_END}]+@v?\d\S*)"
RELEASE = re.compile(
    rf"^({_VERSION}|(release|publish)(\s*(?::\s*)?({_VERSION}|(new\s+)?versions?\b|packages?\b).*)?|"
    r"(bump|prepare)\s+(the\s+)?version\b(?!\s+of\b).*|version packages\b.*)$",  # not "bump version of eslint"
    re.IGNORECASE,
)
RELEASE_TYPES = ("chore", "build", "release")  # `feat(release): ...` is a feature about releasing
# The words between a verb and its version stop at the next verb, so that each is read once.
_BUMP = r"\b(?:bump|update|upgrade|pin|downgrade)\b"
DEPS_SUBJECT = re.compile(
    rf"({_BUMP}(?:(?!{_BUMP}).)*\b(from|to)\s+v?\d|\bdependenc(y|ies)|\bdeps\b|\block ?file)",
    re.IGNORECASE,
)

# A breaking change's footer (Conventional Commits 1.0: the token, then its description).
BREAKING_FOOTER = re.compile(r"^BREAKING[ -]CHANGE:[ \t]*(?P<note>.*)$", re.MULTILINE)

DEFAULT_TYPE_MAP: dict[str, str] = {
    "feat": "feature", "feature": "feature", "fix": "fix", "bugfix": "fix", "hotfix": "fix",
    "docs": "docs", "doc": "docs", "refactor": "refactor", "style": "refactor", "perf": "perf",
    "test": "test", "tests": "test", "ci": "ci", "build": "build", "chore": "chore",
    "deps": "deps", "dep": "deps",
}  # fmt: skip
DEPS_SCOPES = ("deps", "dep", "deps-dev", "dependencies")


@dataclass(frozen=True)
class Subject:
    type: str
    scope: str | None
    breaking: bool
    description: str


def parse_subject(subject: str) -> Subject | None:
    m = SUBJECT.match(subject.strip())
    if not m:
        return None
    return Subject(m["type"].lower(), m["scope"], bool(m["breaking"]), clean_title(m["rest"]))


def clean_title(text: str) -> str:
    """A title without a Conventional Commits prefix or a trailing PR number."""
    m = SUBJECT.match(text.strip())
    rest = m["rest"] if m else text.strip()
    return PR_NUMBER.sub("", rest).strip()


def clean_body(body: str) -> str:
    """A body without trailers, and with `type(scope):` prefixes removed from its lines."""
    lines = []
    for line in body.splitlines():
        if TRAILER.match(line):
            continue
        lines.append(PR_NUMBER.sub("", BODY_PREFIX.sub(lambda m: m["lead"], line)).rstrip())
    return "\n".join(lines).strip()


def is_release(subject: str) -> bool:
    """A commit release tooling makes (`chore(release): v1.2.3`, `release: v8.2.2`, `chore(main):
    release 17.11.1`, `v2.0.0`, `Version Packages`): no change of its own to list or learn from."""
    parsed = parse_subject(subject)
    if parsed is None:
        return bool(RELEASE.match(PR_NUMBER.sub("", subject).strip()))
    if parsed.type == "release":
        return True
    scope = (parsed.scope or "").lower()
    if parsed.type not in RELEASE_TYPES or scope in DEPS_SCOPES:
        return False
    if RELEASE.match(parsed.description):
        return True
    # `chore(release): prepare 1.2.0` is; `build(release): fix the publish job signing` is a change.
    return scope in ("release", "version") and re.search(_VERSION, parsed.description) is not None


def category_for(subject: Subject, type_map: Mapping[str, str]) -> str | None:
    """The category of a parsed subject; dependency scopes and bump subjects are `deps`."""
    if subject.scope and subject.scope.lower() in DEPS_SCOPES:
        return "deps"
    category = type_map.get(subject.type)
    if category in ("chore", "build", "fix") and DEPS_SUBJECT.search(subject.description):
        return "deps"
    return category


def breaking_note(body: str) -> str | None:
    """The description of a `BREAKING CHANGE:` footer ("" when it has none); None without one."""
    m = BREAKING_FOOTER.search(body)
    return m["note"].strip() if m else None


@dataclass(frozen=True)
class Declared:
    """What a title (and its body's footer) declares: the author's own answer."""

    type: str
    scope: str | None
    category: str | None  # None: the type maps to no category (the default map's)
    breaking: bool  # `type!:` or a BREAKING CHANGE footer

    @property
    def said(self) -> str:
        return f"{self.type}({self.scope})" if self.scope else self.type


def declared_type(title: str, body: str) -> Declared | None:
    """The Conventional Commits type a title declares, if it is one the type map knows
    ("README: ..." is a topic, not a type)."""
    parsed = parse_subject(title)
    if parsed is None or parsed.type not in DEFAULT_TYPE_MAP:
        return None
    breaking = parsed.breaking or breaking_note(body) is not None
    return Declared(parsed.type, parsed.scope, category_for(parsed, DEFAULT_TYPE_MAP), breaking)
