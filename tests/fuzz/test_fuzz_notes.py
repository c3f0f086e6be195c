"""Hostile titles, scopes and breaking notes through the release notes page: the only markup a
title may add is the code spans its author wrote; no link, mention, heading, list or HTML."""

from __future__ import annotations

import re

from hostile import hostile_text
from hypothesis import given
from hypothesis import strategies as st
from markdown_check import rendered, tags

from prtriage.core.escape import one_line
from prtriage.core.settings import Settings
from prtriage.release_notes import Contributor, Entry, Landed, to_markdown

A, C = "a" * 40, "c" * 40
_CODE = re.compile(r"<code>.*?</code>", re.DOTALL)
_MENTION = re.compile(r"(?<![\w\u2060])@[A-Za-z0-9]")


def page(title: str, scope: str | None, note: str, name: str, style: str) -> str:
    entries = [
        Entry(Landed(C, A, title, "", 12, "fix", "fix", False, "", scope), None),
        Entry(Landed(A, C, title, "", None, "feat", "feature", True, note, scope), None),
    ]
    people = [Contributor(name), Contributor("Bob", "bob-gh")]
    return to_markdown(entries, Settings(notes_scope=style), contributors=people, releases=1)


@given(hostile_text(), st.none() | hostile_text(4), hostile_text(4), hostile_text(4),
       st.sampled_from(["bold", "italic", "none"]))  # fmt: skip
def test_a_title_adds_code_spans_and_nothing_else(
    title: str, scope: str | None, note: str, name: str, style: str
) -> None:
    hostile = page(title, scope, note, name, style)
    shown = [bool(one_line(x or "")) for x in (scope, note, name)]  # what escaping leaves of them
    plain = page(
        "plain words",
        "api" if shown[0] else None,
        "words" if shown[1] else "",
        "Name" if shown[2] else "",
        style,
    )
    found, expected = tags(hostile), tags(plain)
    for counted in (found, expected):
        counted.pop("code", None), counted.pop("/code", None)
    assert found == expected
    text = _CODE.sub("", rendered(hostile))
    assert _MENTION.findall(text) == ["@b"]  # the login the API gave, and no one the text names
