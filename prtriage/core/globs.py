"""Path globs as actions/labeler reads them (minimatch with `dot: true`), for path label rules.

`*` and `?` stay within one path segment, `**` as a whole segment spans any number of them,
`[abc]`/`[!abc]` are classes, `{a,b}` alternatives (expanded first, as minimatch does), `\\x` a
literal x. As in actions/labeler, a pattern without a slash is matched against the whole path, so
`*.md` means Markdown files at the top level; `**/*.md` means all of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache


class GlobError(ValueError):
    """A pattern that actions/labeler would not read as we do."""


def _expand_braces(pattern: str) -> list[str]:
    """`a{b,c{d,e}}f` → abf, acdf, acef; a brace without a comma stays literal, as in minimatch."""
    depth, start = 0, -1
    for i, ch in enumerate(pattern):
        if ch == "\\":
            continue
        if i and pattern[i - 1] == "\\":
            continue
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                options = _split_top_level(pattern[start + 1 : i])
                if len(options) < 2:
                    return [pattern[: i + 1] + p for p in _expand_braces(pattern[i + 1 :])]
                return [
                    pattern[:start] + option + rest
                    for option in options
                    for rest in _expand_braces(pattern[i + 1 :])
                ]
    if depth:
        raise GlobError("an unclosed '{'")
    return [pattern]


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for i, ch in enumerate(text):
        escaped = i > 0 and text[i - 1] == "\\"
        if ch == "{" and not escaped:
            depth += 1
        elif ch == "}" and not escaped:
            depth -= 1
        if ch == "," and depth == 0 and not escaped:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [option for part in parts for option in _expand_braces(part)]


def _segment(seg: str) -> str:
    out, i = "", 0
    while i < len(seg):
        ch = seg[i]
        if ch == "\\" and i + 1 < len(seg):
            out += re.escape(seg[i + 1])
            i += 2
            continue
        if ch == "*":
            while i + 1 < len(seg) and seg[i + 1] == "*":
                i += 1  # `a**b` inside a segment is a plain star
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[":
            end = seg.find("]", i + 2 if seg[i + 1 : i + 2] in ("!", "^") else i + 1)
            if end < 0:
                raise GlobError("an unclosed '['")
            body = seg[i + 1 : end]
            negate = body[:1] in ("!", "^")
            body = body[1:] if negate else body
            out += "[" + ("^/" if negate else "") + body.replace("\\", "\\\\") + "]"
            i = end
        else:
            out += re.escape(ch)
        i += 1
    return out


def _regex(pattern: str) -> str:
    segments = pattern.split("/")
    out = ""
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == "**":
            out += ".*" if last else "(?:[^/]+/)*"
        else:
            out += _segment(seg) + ("" if last else "/")
    return out


@cache
def compile_glob(pattern: str) -> re.Pattern[str]:
    """The pattern as one regular expression over a whole repository-relative path."""
    if not pattern or pattern != pattern.strip():
        raise GlobError("an empty pattern, or one with surrounding spaces")
    if pattern.startswith("!"):
        raise GlobError("a negated pattern ('!'): list the paths that should get the label instead")
    if pattern.startswith("/"):
        raise GlobError("a leading '/': paths are relative to the repository root")
    if re.search(r"[+@!?*]\(", pattern):
        raise GlobError("an extglob such as +(a|b): use {a,b}")
    alternatives = [_regex(p) for p in _expand_braces(pattern)]
    try:
        return re.compile("(?:" + "|".join(alternatives) + r")\Z", re.DOTALL)
    except re.error as e:
        raise GlobError(f"not a glob ({e})") from None


def matches(path: str, pattern: str) -> bool:
    return compile_glob(pattern).match(path) is not None


def any_match(paths: Iterable[str], pattern: str) -> bool:
    compiled = compile_glob(pattern)
    return any(compiled.match(p) for p in paths)
