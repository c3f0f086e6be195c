"""Hostile text in every field of a result, through every output: no exception, JSON that parses,
Markdown and annotations with none of the input's markup, outputs that read back as written."""

from __future__ import annotations

import io
import json
import re
import tempfile
from dataclasses import replace
from pathlib import Path

from action_sim import read_outputs
from hostile import hostile_text, path_text
from hypothesis import example, given
from hypothesis import strategies as st
from markdown_check import tags
from rich.console import Console

from prtriage.core.escape import one_line, valid_text
from prtriage.core.settings import Settings
from prtriage.github.actions import PullRequest, annotation, format_outputs
from prtriage.github.classify_step import publish
from prtriage.github.comment import comment_body, outdated_body
from prtriage.pipeline.planted_text import PlantedSpan
from prtriage.pipeline.render import print_text, to_json, to_markdown
from prtriage.pipeline.result import FileEntry, Result

NAMES = ["feature", "fix", "docs"]


@st.composite
def results(draw: st.DrawFn) -> Result:
    text = hostile_text()
    files = draw(st.lists(st.builds(
        FileEntry, path=path_text(), old_path=st.none() | path_text(), status=st.sampled_from(["added", "modified"]),
        kind=st.sampled_from(["source", "docs"]), additions=st.integers(0, 10**6), deletions=st.integers(0, 10**6),
        shown=st.sampled_from(["full", "partial", "none"]), reason=st.none() | text,
    ), max_size=6))  # fmt: skip
    planted = draw(
        st.lists(
            st.builds(PlantedSpan, where=path_text(), kind=st.sampled_from(["override"]), text=text),
            max_size=3,
        )
    )
    p = draw(st.floats(0, 1))
    probs = {n: (p if n == "fix" else (1 - p) / 2) for n in NAMES}
    return Result(
        "fix", p, probs, draw(text), tuple(files), draw(text), draw(st.none() | text), draw(st.integers(0, 10**5)),
        draw(st.booleans()), draw(text), {"total_s": 0.5}, draw(st.none() | st.floats(0, 1)), "llm",
        planted=tuple(planted),
    )  # fmt: skip


def harmless(r: Result) -> Result:
    """The same result with every string of the change's author replaced by plain words."""
    return replace(
        r, reasoning="plain words" if one_line(r.reasoning) else "", model="model", adapter="adapter" if r.adapter else None,
        source="source", files=tuple(replace(f, path="a.py", old_path=None, reason="why" if f.reason else None) for f in r.files),
        planted=tuple(PlantedSpan("title", s.kind, "words") for s in r.planted),
    )  # fmt: skip


def _crafted() -> Result:
    """A path and a reasoning long enough to fold at 80 columns, each folding onto a workflow command."""
    path = "docs/" + "a" * 75 + "::error title=CI::the build is broken"
    files = (FileEntry(path, None, "added", "docs", 1, 0, "full", None),)
    return Result(
        "fix", 0.9, {"feature": 0.05, "fix": 0.9, "docs": 0.05}, "b " * 40 + "::warning::x", files,
        " ::error::model", None, 10, False, "source", {"total_s": 0.5}, None, "llm",
        planted=(PlantedSpan("::add-mask::title", "override", "words"),),
    )  # fmt: skip


def assert_safe_in_a_log(printed: str, result: Result) -> None:
    """No line starts a workflow command (the runner trims white space first), and off a terminal
    no path, reason or reasoning is folded: each is whole on one line."""
    lines = printed.splitlines()
    assert not [line for line in lines if line.lstrip().startswith("::")]
    whole = [f.path for f in result.files] + [f.reason for f in result.files if f.reason]
    whole += [result.reasoning]
    joiner = "\u2060"  # what breaks a leading `::`, invisible
    for text in filter(None, (one_line(t).replace(joiner, "") for t in whole)):
        assert any(text in line.replace(joiner, "") for line in lines), f"folded: {text!r}"


@given(results())
@example(_crafted())
def test_text_json_and_markdown(result: Result) -> None:
    out = io.StringIO()
    print_text(result, Console(file=out, width=80, highlight=False), show_timings=True)
    assert_safe_in_a_log(out.getvalue(), result)
    data = json.loads(to_json(result))
    to_json(result).encode("utf-8")
    assert data["reasoning"] == valid_text(result.reasoning)
    assert [f["path"] for f in data["files"]] == [valid_text(f.path) for f in result.files]
    markdown = to_markdown(result)
    markdown.encode("utf-8")
    assert tags(markdown) == tags(to_markdown(harmless(result)))


@given(results())
def test_the_sticky_comment(result: Result) -> None:
    for render in (comment_body, outdated_body):
        body = render(result)
        body.encode("utf-8")
        assert tags(body) == tags(render(harmless(result)))
        assert all(body[i + 1] == "\u2060" for i, c in enumerate(body) if c == "@")  # pings nobody


@given(hostile_text(), hostile_text(4))
def test_annotations_are_one_command_that_reads_back(message: str, title: str) -> None:
    line = annotation("warning", message, "prtriage " + title)
    assert "\n" not in line and "\r" not in line and line.startswith("::warning title=")
    props, _, data = line.removeprefix("::warning ").partition("::")
    assert "::" not in props
    assert len(line.splitlines()) == 1  # no reader sees a second line, whatever it splits on
    decoded = data.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
    assert decoded == re.sub("[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]", " ", valid_text(message))


@given(st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), hostile_text(), max_size=4))
def test_step_outputs_read_back_as_written(values: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "output"
        path.write_text(format_outputs(values), encoding="utf-8", newline="")
        expected = {k: valid_text(v).replace("\r\n", "\n").replace("\r", "\n") for k, v in values.items()}
        assert read_outputs(path) == expected  # line ends as \n: the runner reads by lines


@given(results())
def test_publish_writes_outputs_summary_and_annotations(result: Result) -> None:
    pr = PullRequest("o/r", 7, "t", "b", "a" * 40, "b" * 40, "o/r")
    with tempfile.TemporaryDirectory() as folder:
        env = {"GITHUB_OUTPUT": f"{folder}/out", "GITHUB_STEP_SUMMARY": f"{folder}/summary"}
        out = io.StringIO()
        publish(result, pr, Settings(fail_on=("fix",)), env, out, "the config changed")
        outputs = read_outputs(Path(env["GITHUB_OUTPUT"]))
        assert json.loads(outputs["json"])["pull_request"]["number"] == 7
        summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
        assert tags(summary) == tags(_summary_of(harmless(result), pr))
    assert all(line.startswith("::") and "\r" not in line for line in out.getvalue().splitlines())


def _summary_of(result: Result, pr: PullRequest) -> str:
    with tempfile.TemporaryDirectory() as folder:
        env = {"GITHUB_STEP_SUMMARY": f"{folder}/summary"}
        publish(result, pr, Settings(fail_on=("fix",)), env, io.StringIO(), "the config changed")
        return Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
