"""Markdown rendered as GitHub would (CommonMark, raw HTML, tables), to check that text from a change
added no markup: the same document with harmless text in its place must give the same HTML tags."""

from __future__ import annotations

import re
from collections import Counter

from markdown_it import MarkdownIt

_RENDERER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_TAG = re.compile(r"<(/?[a-zA-Z][a-zA-Z0-9]*)")
_CODE = re.compile(r"<code>.*?</code>", re.DOTALL)
# GitHub also links bare URLs and `www.` (the autolink extension markdown-it lacks here).
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp)://|\bwww\.")


def rendered(markdown: str) -> str:
    return _RENDERER.render(markdown)


def tags(markdown: str) -> Counter[str]:
    """Every HTML tag the Markdown renders to, counted; and `autolink` for what GitHub would link."""
    html = rendered(markdown)
    found = Counter(_TAG.findall(html))
    found["autolink"] = len(_AUTOLINK.findall(_CODE.sub("", html)))  # GitHub links no code span
    return found
