"""Fit a change into the model's context, counting tokens with the model's own tokenizer.

Order of what gets room: instructions and the answer (fixed), title, description (capped), the
changed-file list (capped), then hunks by file kind — source, tests, config, docs — and smaller
files first within a kind, so that a large file cannot crowd out every other file; the file list
still shows every file with its +/- counts, whatever happens to its hunks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from prtriage.core.categories import Category
from prtriage.core.errors import BudgetError
from prtriage.pipeline.diff import FileDiff, prompt_order
from prtriage.pipeline.prompt import (
    DEFINITIONS,
    PromptChange,
    Segment,
    Tokenizer,
    category_segment,
    input_segments,
    reasoning_prefix_segment,
    tokenize_segments,
)
from prtriage.pipeline.result import NO_ROOM, FileEntry

TITLE_MAX_CHARS = 300
BODY_SHARE = 0.2  # of the room left for the change
FILE_LIST_SHARE = 0.2
MIN_HUNK_TOKENS = 24  # a cut hunk shorter than this says too little to be worth its header


@dataclass(frozen=True)
class Budgeted:
    change: PromptChange
    files: tuple[FileEntry, ...]
    segments: tuple[Segment, ...]
    ids: tuple[int, ...]  # the exact prompt the model evaluates
    shared_prefix: int  # leading ids that every change's prompt shares (the instructions)
    body_cut: bool
    budget_tokens: int  # room for the prompt: context minus what the answer needs
    shown: tuple[tuple[FileDiff, str], ...] = ()  # each file the diff shows, with the hunk text shown
    listed: int | None = None  # how many files the file list names: the first ones, in the diff's order

    @property
    def dropped(self) -> list[FileEntry]:
        return [f for f in self.files if f.shown != "full"]


def answer_reserve(categories: Sequence[Category], tokenizer: Tokenizer, reasoning_tokens: int) -> int:
    """Tokens the answer needs after the prompt: the longest category, the reasoning and its framing."""
    longest = max(len(tokenizer.tokenize(category_segment(c.name).text, False)) for c in categories)
    prefix = len(tokenizer.tokenize(reasoning_prefix_segment().text, False))
    return longest + prefix + reasoning_tokens + 2


def _count(tokenizer: Tokenizer) -> Callable[[str], int]:
    return lambda text: len(tokenizer.tokenize(text, False))


def cut_to_tokens(text: str, limit: int, count: Callable[[str], int]) -> tuple[str, bool]:
    """The longest prefix of `text` (at a line end when possible) with at most `limit` tokens.

    Only a window of the text is counted, to bound the work on huge descriptions; it starts at
    16 characters a token and doubles while it still fits, since some tokens are much longer
    (the embedded vocabulary has tokens of 81 characters, e.g. a run of `#`).
    """
    if limit <= 0:
        return "", bool(text)
    window = limit * 16
    while window < len(text) and count(text[:window]) <= limit:
        window *= 2
    head = text[:window]
    if len(head) == len(text) and count(text) <= limit:
        return text, False
    lo, hi = 0, len(head)
    while lo < hi:  # largest n with count(head[:n]) <= limit
        mid = (lo + hi + 1) // 2
        if count(head[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    cut = head[:lo]
    newline = cut.rfind("\n")
    return (cut[: newline + 1] if newline > len(cut) // 2 else cut), True


def _file_line(f: FileDiff) -> str:
    name = f"{f.old_path} -> {f.path}" if f.old_path and f.status == "renamed" else f.path
    note = f" [{f.skip}]" if f.skip else ""
    return f"{f.status[0].upper()} {name} (+{f.additions} -{f.deletions}){note}"


def file_list(files: Sequence[FileDiff], limit: int, count: Callable[[str], int]) -> tuple[str, int]:
    """The file list within `limit` tokens, and how many files it names (the first ones)."""
    lines = [_file_line(f) for f in files]
    text = "\n".join(lines)
    if count(text) <= limit:
        return text, len(lines)
    kept: list[str] = []
    used = 0
    for line in lines:
        cost = count(line + "\n")
        if used + cost + 12 > limit:  # room for the "... more" line
            break
        kept.append(line)
        used += cost
    named = len(kept)
    more = [f"... and {len(lines) - named} more files"] if named < len(lines) else []
    return "\n".join(kept + more), named


def _fit_hunks(
    files: Sequence[FileDiff], room: int, count: Callable[[str], int]
) -> tuple[list[tuple[FileDiff, str]], dict[int, str]]:
    """Each file's hunk text that fits in `room` tokens, and each shown file's state ("full"/"partial")."""
    pieces: list[tuple[FileDiff, str]] = []
    state: dict[int, str] = {}
    left = room
    for f in prompt_order(files):
        if left < MIN_HUNK_TOKENS:
            break
        header = f.header
        header_cost = count(header)
        file_pieces: list[str] = []
        full = not f.cut
        for hunk in f.hunks:
            cost = count(hunk)
            if header_cost + cost <= left:
                file_pieces.append(hunk)
                left -= cost
                continue
            full = False
            cut, _ = cut_to_tokens(hunk, left - header_cost, count)
            if cut.count("\n") >= 2 and count(cut) >= MIN_HUNK_TOKENS:
                file_pieces.append(cut)
                left -= count(cut)
            break
        if file_pieces:
            pieces.append((f, "".join(file_pieces)))
            left -= header_cost
            state[id(f)] = "full" if full else "partial"
    return pieces, state


def _changed_lines(text: str) -> int:
    """The added and removed lines in a file's shown hunk text."""
    return sum(1 for line in text.splitlines() if line[:1] in "+-")


def _entries(
    files: Sequence[FileDiff], state: dict[int, str], pieces: Sequence[tuple[FileDiff, str]] = ()
) -> tuple[FileEntry, ...]:
    shown_text = {id(f): text for f, text in pieces}
    entries = []
    for f in files:
        shown = state.get(id(f), "none")
        lines = 0
        if shown == "full":
            lines = f.additions + f.deletions
        elif shown == "partial":
            lines = min(_changed_lines(shown_text.get(id(f), "")), f.additions + f.deletions)
        if f.skip:
            reason: str | None = f.skip
        elif shown == "full":
            reason = None
        elif shown == "partial":
            reason = "cut to fit the context"
        elif not f.hunks:
            reason = "no text changes"
        else:
            reason = NO_ROOM
        entries.append(
            FileEntry(f.path, f.old_path, f.status, f.kind, f.additions, f.deletions, shown, reason, lines)
        )
    return tuple(entries)


def fit_change(
    title: str,
    body: str,
    files: Sequence[FileDiff],
    categories: Sequence[Category],
    tokenizer: Tokenizer,
    context_size: int,
    reasoning_tokens: int,
    prompt_format: str = DEFINITIONS,
) -> Budgeted:
    """The prompt for this change, within `context_size` tokens with room for the answer."""
    count = _count(tokenizer)
    budget = context_size - answer_reserve(categories, tokenizer, reasoning_tokens)
    title = " ".join(title.split())[:TITLE_MAX_CHARS]
    skeleton = PromptChange(title=title, body="", file_list="", diff="")
    fixed = sum(
        len(p) for p in tokenize_segments(input_segments(skeleton, categories, prompt_format), tokenizer)
    )
    room = budget - fixed
    if room < 64:
        raise BudgetError(
            f"context-size {context_size} leaves no room for the change "
            f"(instructions, title and answer take {fixed + context_size - budget} tokens)",
            hint="raise context-size, or shorten the category definitions",
        )
    body, body_cut = cut_to_tokens(body.strip(), int(room * BODY_SHARE), count)
    room -= count(body)
    listing, listed = file_list(files, int(room * FILE_LIST_SHARE) if len(files) > 1 else room, count)
    room -= count(listing)
    pieces, state = _fit_hunks(files, room, count)
    # Pieces were counted one by one; the segment is tokenized whole. Check the exact total.
    while True:
        diff = "".join(f.header + text for f, text in pieces)
        change = PromptChange(title=title, body=body, file_list=listing, diff=diff)
        segments = input_segments(change, categories, prompt_format)
        pieces_ids = tokenize_segments(segments, tokenizer)
        ids = [i for piece in pieces_ids for i in piece]
        if len(ids) <= budget or not pieces:
            break
        pieces.pop()
    if len(ids) > budget:
        raise BudgetError(f"the change does not fit in context-size {context_size}")
    kept = {id(f) for f, _ in pieces}
    state = {k: v for k, v in state.items() if k in kept}
    return Budgeted(
        change, _entries(files, state, pieces), tuple(segments), tuple(ids), len(pieces_ids[0]), body_cut,
        budget, tuple(pieces), listed,
    )  # fmt: skip
