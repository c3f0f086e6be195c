"""Generated diffs (renames, copies, mode-only, binary, submodules, CRLF, no final newline, empty
hunks, lying hunk headers, hostile paths) and hostile titles and descriptions, classified with the
fake engine: the parser and the budget never raise, and every file is accounted for as shown, cut
or skipped."""

from __future__ import annotations

import io
import json
import time

from fake_engine import FakeEngine
from hostile import diffs, hostile_text
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from prtriage.core.categories import DEFAULT_CATEGORIES
from prtriage.core.settings import Settings
from prtriage.pipeline.budget import fit_change
from prtriage.pipeline.change import Change, change_from_diff
from prtriage.pipeline.diff import parse_diff
from prtriage.pipeline.reasoning_check import ChangeFacts, invented_paths
from prtriage.pipeline.render import print_text, to_json, to_markdown
from prtriage.pipeline.triage import classify


def check_accounting(change: Change, context: int) -> None:
    engine = FakeEngine.answering("fix", 0.7)
    fitted = fit_change(change.title, change.body, change.files, DEFAULT_CATEGORIES, engine, context, 16)
    assert len(fitted.files) == len(change.files)
    for entry, f in zip(fitted.files, change.files):
        assert entry.path == f.path and entry.shown in ("full", "partial", "none")
        assert (entry.reason is None) == (entry.shown == "full"), entry  # anything not shown says why
        assert f.skip is None or entry.shown == "none"
    assert len(fitted.ids) <= context


@given(diffs(), st.sampled_from(["\n", "\r\n"]))
def test_the_parser_and_the_budget_account_for_every_file(pieces: list[str], newline: str) -> None:
    text = "".join(pieces).replace("\n", newline)
    files = parse_diff(text.splitlines(keepends=True))
    assert len(files) == text.count("diff --git ") - sum(p.count("\ndiff --git") for p in pieces)
    for context in (512, 4096):
        check_accounting(change_from_diff("t", "b", text.splitlines(True), ["*.md"]), context)


class Utf8Engine(FakeEngine):
    """The fake engine, tokenizing as llama.cpp does: from the text's UTF-8 bytes."""

    def tokenize(self, text: str, special: bool) -> list[int]:
        text.encode("utf-8")
        return super().tokenize(text, special)


@given(hostile_text(), hostile_text(), diffs(4))
def test_hostile_changes_classify_and_print(title: str, body: str, pieces: list[str]) -> None:
    change = change_from_diff(title, body, "".join(pieces).splitlines(True), ())
    if not change.files:
        return
    engine = Utf8Engine({"fix": -0.1}, "Guards a zero.", rest=None)
    result = classify(change, engine, Settings(scorer="llm", reasoning="model", reasoning_tokens=8))
    print_text(result, Console(file=io.StringIO(), width=60), show_timings=True)
    assert json.loads(to_json(result))["category"] == "fix"
    to_markdown(result).encode("utf-8")
    # The default (fused, the reasoning built from the scores) on the same hostile change.
    fused = classify(change, engine, Settings())
    print_text(fused, Console(file=io.StringIO(), width=60), show_timings=True)
    assert json.loads(to_json(fused))["category"] in Settings().category_names and fused.reasoning
    facts = ChangeFacts.of(change.title, [f.path for f in change.files], "")
    assert invented_paths(fused.reasoning, facts) == []
    to_markdown(fused).encode("utf-8")


def test_ten_thousand_files_are_each_listed_and_fit() -> None:
    one = "diff --git a/f{0}.py b/f{0}.py\n--- a/f{0}.py\n+++ b/f{0}.py\n@@ -1 +1 @@\n-a\n+b{0}\n"
    text = "".join(one.format(i) for i in range(10_000))
    start = time.perf_counter()
    change = change_from_diff("Rename everything", "", text.splitlines(True), ())
    check_accounting(change, 2048)
    assert len(change.files) == 10_000 and time.perf_counter() - start < 60
