"""`label --from` with generated result files: only the documented usage error (exit 2, one line
naming the field) or a label and a comment with none of the file's markup."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_github import TOKEN, FakeGitHub, Pull, Server
from hostile import hostile_text
from hypothesis import event, given
from hypothesis import strategies as st
from markdown_check import tags

from prtriage import cli
from prtriage.core.categories import DEFAULT_CATEGORIES
from prtriage.core.errors import UsageError
from prtriage.core.settings import Settings
from prtriage.github.comment import comment_body, result_from_json
from prtriage.github.label_step import read_result_file

NAMES = [c.name for c in DEFAULT_CATEGORIES]
HEAD = "b" * 40
GOOD: dict[str, Any] = {
    "category": "fix", "confidence": 0.8, "uncertain": False, "min_confidence": None,
    "probabilities": {n: (0.8 if n == "fix" else 0.2 / 9) for n in NAMES}, "reasoning": "Guards a zero.",
    "files": [{"path": "a.py", "old_path": None, "status": "modified", "kind": "source", "additions": 1,
               "deletions": 0, "shown": "full", "reason": None}],
    "model": "m.gguf", "adapter": None, "source": "#7", "prompt_tokens": 10, "description_cut": False,
    "planted": [], "pull_request": {"repository": "o/r", "number": 7, "head_sha": HEAD, "base_sha": "a" * 40},
}  # fmt: skip
ENV = {"GITHUB_REPOSITORY": "o/r", "GITHUB_TOKEN": TOKEN}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | hostile_text(6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text(2), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def result_files(draw: st.DrawFn) -> dict[str, Any]:
    """A good result with some fields replaced: hostile text, wrong types, or missing."""
    data = json.loads(json.dumps(GOOD))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(["top", "file", "planted", "pull_request"]))
        files = data.get("files")
        first = files[0] if isinstance(files, list) and files and isinstance(files[0], dict) else None
        pr = data.get("pull_request") if isinstance(data.get("pull_request"), dict) else None
        target = {"top": data, "file": first, "pull_request": pr}.get(where)
        if where == "planted":
            data["planted"] = draw(st.lists(st.fixed_dictionaries(
                {"where": hostile_text(3), "kind": st.just("override"), "text": hostile_text(4)}), max_size=6))  # fmt: skip
            continue
        if not target:
            continue
        key = draw(st.sampled_from(sorted(target)))
        value = draw(st.one_of(hostile_text(), json_values, st.just(None)))
        if draw(st.integers(0, 9)) == 0:
            target.pop(key)
        else:
            target[key] = value
    return data


def write(data: object, folder: str) -> Path:
    path = Path(folder) / "result.json"
    path.write_text(json.dumps(data), encoding="utf-8", errors="surrogatepass")
    return path


@given(result_files())
def test_a_result_file_is_refused_by_name_or_rendered_inert(data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write(data, folder)
        try:
            read_result_file(path, Settings(), ENV)
            result = result_from_json(data, NAMES)
        except UsageError as e:
            event("refused")
            assert "\n" not in e.message and (e.message.startswith("result file: ") or str(path) in e.message)
            return
    event("rendered")
    body = comment_body(result)
    harmless = result_from_json(json.loads(json.dumps(GOOD)) | {"category": result.category}, NAMES)
    assert len(tags(body)) > 0 and "@" not in body.replace("@\u2060", "")
    # Tags differ only by the rows the file has (files, planted spans): compare per kind of element.
    assert {k for k in tags(body)} <= {k for k in tags(comment_body(harmless))} | {
        "ul",
        "/ul",
        "li",
        "/li",
        "code",
        "/code",
    }


@pytest.fixture(scope="module")
def github() -> Iterator[FakeGitHub]:
    state = FakeGitHub(repo_labels={"prtriage:fix"}, issue_labels={7: []}, pulls={7: Pull(HEAD)})
    with Server(state):
        yield state


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@given(data=result_files())
def test_label_from_exits_0_or_2_with_one_line(github: FakeGitHub, data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write(data, folder)
        err = io.StringIO()
        env = {**ENV, "GITHUB_API_URL": github.url, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
        with (
            environment(env),
            contextlib.redirect_stderr(err),
            contextlib.redirect_stdout(io.StringIO()),
            pytest.raises(SystemExit) as exit_,
        ):
            cli.main(["label", "--from", str(path), "--comment"])
    lines = err.getvalue().splitlines()
    assert exit_.value.code in (0, 2), err.getvalue()
    event(f"exit {exit_.value.code}")
    if exit_.value.code == 2:
        assert lines[0].startswith("prtriage: error: ") and len(lines) <= 2
    for comment in github.comments.get(7, []):
        assert {"script", "a", "img", "h2"}.isdisjoint(tags(comment["body"]))
