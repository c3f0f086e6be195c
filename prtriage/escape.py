"""Text from a change (title, description, paths, reasoning) made safe for each output it reaches.

One home for every escape, below report, notes and the GitHub side, so each output format is
escaped one way wherever it is written.
"""

from __future__ import annotations


def without_mentions(text: str) -> str:
    """A comment's `@name` notifies that person: the reasoning and file names must not ping anyone."""
    return text.replace("@", "@\u2060")  # a word joiner breaks the mention and stays invisible


def markdown_cell(text: str) -> str:
    """One line of Markdown table or quote text: no column breaks, no HTML, no line breaks."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def workflow_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF escaped, so it stays one command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """A workflow command's property value (`title=`): its `:` and `,` escaped too."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")
