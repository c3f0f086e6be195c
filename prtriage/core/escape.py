"""Text from a change (title, description, paths, reasoning) made safe for each output it reaches.

One home for every escape, below report, notes and the GitHub side, so each output format is
escaped one way wherever it is written. A pull request's author writes that text: in every output
it must stay data, never become markup, a link, a heading, a mention or a workflow command.
"""

from __future__ import annotations

import re

# Lone surrogates (from `\ud800` in a JSON payload) cannot be written as UTF-8: replaced.
_SURROGATE = re.compile("[\ud800-\udfff]")
# Control characters, line and paragraph separators, and the bidirectional controls that make
# text read differently from what it holds (Trojan Source): none survives a one-line field.
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+")
# Markdown that works anywhere in a line; `<`, `>` and `&` become entities instead (HTML).
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]!|~$#])")
# What only works at the start of a line: a list item, an ordered list, a setext underline.
_LINE_START = re.compile(r"^(\s*)([-+=]|\d{1,9}[.)])")
_URL_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,31}):(?=//)")
_WWW = re.compile(r"(?i)\bwww\.")
_OTHER_LINE_ENDS = re.compile("[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_JOINER = "\u2060"  # a word joiner: invisible, and it breaks what it sits in (mentions, links)
_MENTION = re.compile("@(?!\u2060)")  # once is enough: escaping twice changes nothing
# The Actions runner trims a line's leading white space, then takes `::name ...::` for a command.
# Every line's start: after `\n` and `\r` (where the runner splits its log), and after the other
# line ends Python and editors know, to be safe. The white space stops at a line end, so each run
# of it is scanned from one start only (linear).
_LINE_ENDS = "\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029"
_WORKFLOW_COMMAND = re.compile(rf"(?<![^{_LINE_ENDS}])([^\S{_LINE_ENDS}]*):(?=:)")


def valid_text(text: str) -> str:
    """Text that can be written as UTF-8 whatever it came from: lone surrogates become U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def one_line(text: str) -> str:
    """One line of plain text: line breaks, control and bidirectional characters become one space."""
    return _NOT_ONE_LINE.sub(" ", valid_text(text)).strip()


def without_mentions(text: str) -> str:
    """A comment's `@name` notifies that person: the reasoning and file names must not ping anyone."""
    return _MENTION.sub("@" + _JOINER, text)


def no_workflow_command(text: str) -> str:
    """Text that may start a line of a CI log (a contributor's name, a path, the reasoning): a
    `::` that starts any of its lines, after any white space, gets a word joiner between its
    colons, so the runner does not read the line as a workflow command (`::error title=CI::...`,
    `::add-mask::...`)."""
    return _WORKFLOW_COMMAND.sub(r"\1:" + _JOINER, text)


def without_links(text: str) -> str:
    """No automatic link: GitHub links `https://...` and `www.` in plain text, so both are broken."""
    return _WWW.sub("www" + _JOINER + ".", _URL_SCHEME.sub(r"\1:" + _JOINER, text))


def markdown_text(text: str) -> str:
    """One line of Markdown that shows `text` as written: no HTML, link, image, heading, list,
    emphasis, code, math, table column, mention, line break or workflow command of its own (a table
    cell, a quote, a line of release notes)."""
    text = one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN_INLINE.sub(r"\\\1", text)
    text = _LINE_START.sub(lambda m: m.group(1) + _escape_last(m.group(2)), text)
    return no_workflow_command(without_mentions(without_links(text)))


def _escape_last(marker: str) -> str:
    return marker[:-1] + "\\" + marker[-1]


def markdown_code(text: str, in_table: bool = False) -> str:
    """`text` as an inline code span (a path, a name): a fence longer than any backtick run inside.

    In a table cell GitHub splits columns at `|` even inside code, so there it is escaped.
    """
    text = one_line(text)  # nothing in a code span is markup, a link or a mention
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    if text.startswith(("`", " ")) or text.endswith(("`", " ")) or not text:
        text = f" {text} "
    if in_table:
        text = text.replace("|", "\\|")
    return fence + text + fence


# A code span as CommonMark reads one: a run of backticks, text, and a run of the same length.
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")


def markdown_text_with_code(text: str) -> str:
    """`markdown_text`, except that the code spans the author wrote (`` `event.context.cache` ``)
    stay code: in a code span nothing is markup, a link or a mention, so it needs no escape.
    Everything around them is escaped as `markdown_text` escapes it."""
    text = one_line(text)
    parts, last = [], 0
    for m in _CODE_SPAN.finditer(text):
        parts += [_kept_spaces(text[last : m.start()]), markdown_code(m.group(2))]
        last = m.end()
    parts.append(_kept_spaces(text[last:]))
    return "".join(parts)


def _kept_spaces(text: str) -> str:
    """markdown_text of a piece of a line, keeping the spaces that separate it from a code span."""
    core = text.strip()
    if not core:
        return text
    return text[: len(text) - len(text.lstrip())] + markdown_text(core) + text[len(text.rstrip()) :]


def workflow_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF escaped, so it stays one command; the other
    characters some readers take for a line end (form feed, U+2028, ...) become spaces."""
    text = _OTHER_LINE_ENDS.sub(" ", valid_text(text))
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """A workflow command's property value (`title=`): its `:` and `,` escaped too."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")
