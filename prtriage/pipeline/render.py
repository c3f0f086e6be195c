"""Results → what people and programs read: rich text, JSON, markdown."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from prtriage.core.escape import markdown_code, markdown_text, no_workflow_command, one_line, valid_text
from prtriage.pipeline.planted_text import PlantedSpan
from prtriage.pipeline.result import FileEntry, Result

FORMATS = ("text", "json", "markdown")
DECLARED_NOTE = "declared by the title's Conventional Commits type: the model did not run"
MARKDOWN_FILE_ROWS = 50


def to_json(result: Result) -> str:
    """One line of JSON that parses whatever the change held (no lone surrogate reaches it)."""
    return valid_text(json.dumps(result.to_json(), ensure_ascii=False))


def _ranked(result: Result) -> list[tuple[str, float]]:
    return sorted(result.probabilities.items(), key=lambda kv: -kv[1])


def _bar(p: float, width: int = 20) -> str:
    filled = round(p * width)
    return "█" * filled + "·" * (width - filled)


def _file_note(f: FileEntry) -> str:
    return {"full": "shown", "partial": "partly shown"}.get(f.shown, "not shown") + (
        f" ({f.reason})" if f.reason else ""
    )


def uncertain_note(result: Result) -> str:
    """Why an uncertain result is not acted on, in one line (empty when the result is not uncertain)."""
    if not result.uncertain:
        return ""
    if result.min_confidence is None or not result.below_min_confidence:
        return "uncertain: the model saw little of the change (saw-little = uncertain): no fail-on, no category label"
    return (
        f"uncertain: the most likely category, {result.category}, has {result.confidence:.0%}, "
        f"below min-confidence {result.min_confidence:.0%}: no fail-on, no category label"
    )


def saw_little_note(result: Result) -> str:
    """How little of the change the model saw, in one line (empty when it saw enough)."""
    if not result.saw_little:
        return ""
    fraction, biggest = result.shown_fraction, result.biggest_unseen
    parts = [] if fraction is None else [f"the model was shown {fraction:.0%} of the changed lines"]
    if biggest is not None:
        parts.append(f"not {one_line(biggest.path)}, the most changed file")
    said = "saw little: " + " and ".join(parts)
    return said + (": counted as uncertain (saw-little = uncertain)" if result.saw_little_uncertain else "")


def planted_note(result: Result) -> str:
    """Why the result may have been steered, in one line (empty when nothing was planted)."""
    if not result.planted:
        return ""
    places = sorted({span.where for span in result.planted})
    return (
        f"planted text: the change holds text addressed to the classifier ({', '.join(places)}); "
        "the category may have been steered: review it"
    )


def _shown(text: str) -> str:
    """A string of the change's author as one line of text that may start a line of a CI log."""
    return no_workflow_command(one_line(text))


def _unfolded(console: Console, result: Result) -> Console:
    """Off a terminal (a pipe, a CI log) a console wide enough that no table row is folded: a
    folded path or reason would start a new line with text of the change's author."""
    if console.is_terminal:
        return console
    paths = max((cell_len(_shown(f.path)) for f in result.files), default=0)
    notes = max((cell_len(_shown(_file_note(f))) for f in result.files), default=0)
    widest = paths + notes  # the table's columns are as wide as their widest cell
    if widest + 40 <= console.width:
        return console
    return type(console)(file=console.file, width=widest + 40, highlight=False, no_color=console.no_color)


def print_text(result: Result, console: Console, show_timings: bool = True) -> None:
    """The result for people. Untrusted text (paths, reasons, reasoning, planted spans) is one line
    each, never starts a workflow command, and off a terminal is never folded onto a new line."""
    console = _unfolded(console, result)
    if result.uncertain:
        console.print(Text(uncertain_note(result), style="bold yellow"), soft_wrap=True)
    if result.planted:
        console.print(Text(one_line(planted_note(result)), style="bold red"), soft_wrap=True)
        for span in result.planted:
            line = f"  {_shown(span.where)} ({one_line(span.kind)}): {one_line(span.text)}"
            console.print(Text(line, style="red"), soft_wrap=True)
    head = Text()
    head.append(result.category, style="bold green")
    head.append(f"  {result.confidence:.0%} ", style="bold")
    head.append(_bar(result.confidence), style="green")
    console.print(head)
    if result.saw_little:
        console.print(Text(saw_little_note(result), style="yellow"), soft_wrap=True)
    if result.decided_by != "model":
        console.print(Text(DECLARED_NOTE, style="dim"), soft_wrap=True)
    if one_line(result.reasoning):  # soft_wrap: a terminal wraps it, a log gets one line
        why = Text("why: ", style="bold")
        why.append(_shown(result.reasoning), style="italic")
        console.print(why, soft_wrap=True)
    table = Table(title="Categories", show_edge=False, pad_edge=False, box=None)
    table.add_column("category")
    table.add_column("probability", justify="right")
    table.add_column("")
    for name, p in _ranked(result):
        table.add_row(Text(name), f"{p:.1%}", _bar(p))
    console.print(table)
    files = Table(title="Files", show_edge=False, pad_edge=False, box=None)
    files.add_column("path", overflow="fold")
    files.add_column("+", justify="right", style="green")
    files.add_column("-", justify="right", style="red")
    files.add_column("in prompt")
    # Paths and reasons are the change author's text: rich Text, never markup (`docs/[/x].md`).
    for f in result.files:
        files.add_row(Text(_shown(f.path)), str(f.additions), str(f.deletions), Text(_shown(_file_note(f))))
    console.print(files)
    if result.body_cut:
        console.print(Text("The description was cut to fit the context.", style="dim"))
    if show_timings and result.timings:
        t = result.timings
        footer = (
            result.model
            + (f" + {result.adapter}" if result.adapter else "")
            + f" · {result.prompt_tokens} prompt tokens · "
            + " · ".join(f"{k[:-2]} {v:.2f}s" for k, v in t.items() if k.endswith("_s"))
        )
        # soft_wrap: no line breaks of ours, so a long adapter path is never cut mid-word and
        # stays one copyable piece; the terminal wraps it, a pipe or log gets one line.
        console.print(Text(_shown(footer), style="dim"), soft_wrap=True)


def to_markdown(result: Result, heading: str = "### prtriage") -> str:
    lines = [heading, ""]
    if result.uncertain:
        lines += [f"**Uncertain:** {markdown_text(uncertain_note(result).removeprefix('uncertain: '))}.", ""]
    if result.planted:
        lines += [
            f"**Planted text:** {markdown_text(planted_note(result).removeprefix('planted text: '))}.",
            "",
        ]
        lines += [_planted_item(span) for span in result.planted] + [""]
    lines += [f"**Category:** {markdown_code(result.category)} ({result.confidence:.0%})", ""]
    if result.saw_little:
        lines += [
            f"**Saw little:** {markdown_text(saw_little_note(result).removeprefix('saw little: '))}.",
            "",
        ]
    if result.decided_by != "model":
        lines += [f"_{DECLARED_NOTE}._", ""]
    if one_line(result.reasoning):
        lines += [f"**Why:** {markdown_text(result.reasoning)}", ""]
    lines += ["| category | probability |", "| --- | ---: |"]
    lines += [f"| {markdown_text(name)} | {p:.1%} |" for name, p in _ranked(result)]
    lines += ["", _files_details(result.files), ""]
    model = markdown_text(result.model) + (
        f" + adapter {markdown_code(result.adapter)}" if result.adapter else ""
    )
    lines.append(f"<sub>{model} · {result.prompt_tokens} prompt tokens</sub>")
    return "\n".join(lines) + "\n"


def _planted_item(span: PlantedSpan) -> str:
    return f"- {markdown_code(span.where)} ({markdown_text(span.kind)}): “{markdown_text(span.text)}”"


def _files_details(files: Sequence[FileEntry]) -> str:
    dropped = sum(1 for f in files if f.shown != "full")
    rows = ["| file | + | - | in prompt |", "| --- | ---: | ---: | --- |"]
    for f in files[:MARKDOWN_FILE_ROWS]:
        path, note = markdown_code(f.path, in_table=True), markdown_text(_file_note(f))
        rows.append(f"| {path} | {f.additions} | {f.deletions} | {note} |")
    if len(files) > MARKDOWN_FILE_ROWS:
        rows.append(f"| … and {len(files) - MARKDOWN_FILE_ROWS} more | | | |")
    summary = f"{len(files)} files changed, {dropped} not fully shown to the model"
    return f"<details><summary>{summary}</summary>\n\n" + "\n".join(rows) + "\n\n</details>"
