"""`classify --github`: event payloads, step outputs, summary, annotations; run through action.yml."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from action_sim import read_outputs, run_step
from fake_github import PERSON, TOKEN, FakeGitHub, Pull, Server
from git_helpers import git, write

from prtriage.core.categories import DEFAULT_CATEGORIES
from prtriage.core.errors import UsageError
from prtriage.github.actions import (
    MAX_SUMMARY_BYTES,
    annotation,
    append_summary,
    commands_stopped,
    format_outputs,
    is_repository,
    is_sha,
    read_pull_request,
)
from prtriage.github.api import GitHubClient
from prtriage.github.labels import sync_label

NAMES = [c.name for c in DEFAULT_CATEGORIES]
VENV = Path(sys.executable).parent.parent  # the venv running the tests has `prtriage` installed


def payload(
    base: str, head: str, *, fork: bool = False, body: str | None = "It crashed."
) -> dict[str, object]:
    return {
        "action": "synchronize",
        "number": 7,
        "repository": {"full_name": "o/r"},
        "pull_request": {
            "number": 7,
            "title": "Raise a clear error on division by zero",
            "body": body,
            "draft": False,
            "base": {"sha": base, "ref": "main", "repo": {"full_name": "o/r"}},
            "head": {"sha": head, "ref": "fix", "repo": {"full_name": "someone/r" if fork else "o/r"}},
        },
    }


def event_env(tmp_path: Path, data: object, name: str = "pull_request") -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(data))
    for f in ("output", "summary"):
        (tmp_path / f).write_text("")
    return {
        "GITHUB_EVENT_NAME": name,
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_ACTIONS": "true",
    }


# --- the event payload ----------------------------------------------------------------------------


def test_pull_request_from_the_event(tmp_path: Path) -> None:
    env = event_env(tmp_path, payload("a" * 40, "b" * 40, fork=True, body=None))
    pr = read_pull_request(env)
    assert (pr.repository, pr.number, pr.base_sha, pr.head_sha) == ("o/r", 7, "a" * 40, "b" * 40)
    assert pr.title.startswith("Raise") and pr.body == "" and pr.is_fork
    same = read_pull_request(event_env(tmp_path, payload("a" * 40, "b" * 40)))
    assert not same.is_fork
    deleted_fork = payload("a" * 40, "b" * 40)
    deleted_fork["pull_request"]["head"]["repo"] = None  # type: ignore[index]
    assert read_pull_request(event_env(tmp_path, deleted_fork)).is_fork  # unknown counts as a fork


@pytest.mark.parametrize(
    ("data", "env_extra", "message"),
    [
        ({"ref": "refs/heads/main"}, {"GITHUB_EVENT_NAME": "push"}, "the push event has no pull request"),
        (payload("a" * 40, "nope"), {}, "pull_request.head.sha"),
        ([1, 2], {}, "not a JSON object"),
    ],
)
def test_bad_events_are_usage_errors(
    tmp_path: Path, data: object, env_extra: dict[str, str], message: str
) -> None:
    env = {**event_env(tmp_path, data), **env_extra}
    with pytest.raises(UsageError, match=message):
        read_pull_request(env)
    with pytest.raises(UsageError, match="GITHUB_EVENT_PATH is not set"):
        read_pull_request({})


# --- outputs, annotations, summary ----------------------------------------------------------------


def test_shas_and_repositories_are_matched_in_full() -> None:
    # A result file's head_sha "abc...\n" passed `^...$`: `$` matches before a final newline.
    sha = "a" * 40
    assert is_sha(sha) and is_sha("b" * 64) and is_repository("o/r")
    assert not is_sha(sha + "\n") and not is_sha("b" * 64 + "\n") and not is_sha("a" * 41)
    assert not is_repository("o/r\n")
    with pytest.raises(ValueError, match="bad output name"):
        format_outputs({"category\n": "fix"})


def test_outputs_survive_multiline_and_hostile_values(tmp_path: Path) -> None:
    hostile = "line one\nEOF\nghadelimiter_\ncategory=docs\n::error::spoofed"
    text = format_outputs({"category": "fix", "reasoning": hostile, "empty": ""})
    (tmp_path / "out").write_text(text)
    assert read_outputs(tmp_path / "out") == {"category": "fix", "reasoning": hostile, "empty": ""}
    delimiters = [line.split("<<")[1] for line in text.splitlines() if "<<" in line]
    assert len(set(delimiters)) == 3 and all(len(d) > 40 for d in delimiters)
    with pytest.raises(ValueError):
        format_outputs({"bad name": "x"})


def test_annotations_are_one_line_and_escaped() -> None:
    line = annotation("error", "100% broken\nsecond line\r::warning::x", title="prtriage: a, b")
    assert line == "::error title=prtriage%3A a%2C b::100%25 broken%0Asecond line%0D::warning::x"
    assert "\n" not in line
    with pytest.raises(ValueError):
        annotation("debug", "x")


def test_untrusted_text_is_printed_with_workflow_commands_stopped() -> None:
    out = io.StringIO()
    with commands_stopped(out):
        out.write("::error::from a file name\n")
    first, middle, last = out.getvalue().splitlines()
    token = first.removeprefix("::stop-commands::")
    assert len(token) == 32 and middle == "::error::from a file name" and last == f"::{token}::"


def test_summary_is_cut_to_githubs_limit(tmp_path: Path) -> None:
    path = tmp_path / "summary"
    append_summary(path, "é" * MAX_SUMMARY_BYTES)
    data = path.read_bytes()
    assert len(data) <= MAX_SUMMARY_BYTES and data.decode("utf-8").endswith("1 MiB limit)*\n")


# --- the whole path, through action.yml's classify step ---------------------------------------------


@pytest.fixture
def pr_repo(tmp_path: Path) -> tuple[Path, str, str]:
    """A clone where a pull request's base and head commits both exist (fetch-depth: 0)."""
    root = tmp_path / "clone"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, "src/app.py", "def div(a, b):\n    return a / b\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "init")
    base = git(root, "rev-parse", "HEAD").strip()
    git(root, "checkout", "-q", "-b", "fix")
    write(
        root,
        "src/app.py",
        "def div(a, b):\n    if b == 0:\n        raise ValueError('b is zero')\n    return a / b\n",
    )
    write(root, "src/::warning::spoof.txt", "a file whose name is a workflow command\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "fix")
    head = git(root, "rev-parse", "HEAD").strip()
    git(root, "checkout", "-q", "main")
    write(root, "NEWS.md", "main moved on after the branch point\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "news")
    base_now = git(root, "rev-parse", "HEAD").strip()  # the base branch's tip at event time
    assert base_now != base
    return root, base_now, head


def classify_step(cwd: Path, env: dict[str, str], **inputs: str) -> subprocess.CompletedProcess[str]:
    """The check step, then the run step with its outputs (the token only where it is needed)."""
    checked = cwd.parent / "check-output"
    checked.write_text("")
    proc = run_step("check", inputs, {}, {**env, "GITHUB_OUTPUT": str(checked)}, cwd)
    assert proc.returncode == 0, proc.stdout
    outputs = {"check": read_outputs(checked), "keys": {"venv": str(VENV)}}
    assert outputs["check"]["mode"] == "classify"
    return run_step("run", inputs, outputs, env, cwd)


@pytest.mark.slow
def test_action_classifies_outputs_summarises_and_fails_on(
    pr_repo: tuple[Path, str, str], tmp_path: Path
) -> None:
    root, base, head = pr_repo
    env = event_env(tmp_path, payload(base, head))
    # Every category in fail-on: whatever the model says, the step must fail, with outputs written.
    proc = classify_step(root, env, **{"fail-on": ",".join(NAMES), "args": "--exclude NEWS.md"})
    assert proc.returncode == 1, proc.stderr
    outputs = read_outputs(tmp_path / "output")
    assert set(outputs) == {"category", "confidence", "reasoning", "json"}
    result = json.loads(outputs["json"])
    assert outputs["category"] == result["category"] and result["category"] in NAMES
    assert abs(float(outputs["confidence"]) - result["confidence"]) < 1e-3
    assert result["pull_request"] == {
        "repository": "o/r", "number": 7, "base_sha": base, "head_sha": head, "fork": False,
    }  # fmt: skip
    # base...head: only the branch's files, not what main gained after the branch point.
    assert sorted(f["path"] for f in result["files"]) == ["src/::warning::spoof.txt", "src/app.py"]
    summary = (tmp_path / "summary").read_text()
    assert summary.startswith("### prtriage: pull request #7\n")
    assert f"**Category:** `{result['category']}`" in summary and "| category | probability |" in summary
    assert "<details><summary>2 files changed" in summary
    lines = proc.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    token = lines[start].removeprefix("::stop-commands::")
    end = lines.index(f"::{token}::")
    assert any("spoof.txt" in line for line in lines[start:end])  # the hostile name is inside
    assert lines[-1].startswith("::error title=prtriage::#7 looks like " + result["category"])
    assert lines[-1].endswith(f"'{result['category']}' is in fail-on.")
    assert "is in fail-on" in proc.stderr


def test_shallow_clone_asks_for_fetch_depth_0(pr_repo: tuple[Path, str, str], tmp_path: Path) -> None:
    root, base, head = pr_repo
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "fix", f"file://{root}", str(shallow))
    env = event_env(tmp_path, payload(base, head))
    proc = classify_step(shallow, env)
    assert proc.returncode == 3, proc.stderr
    assert f"the pull request's base commit {base[:12]} is not in this clone" in proc.stderr
    assert "fetch-depth: 0" in proc.stderr
    assert proc.stdout.startswith("::error title=prtriage::the pull request's base commit")
    assert read_outputs(tmp_path / "output") == {}


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    state = FakeGitHub(repo_labels={"prtriage:feature"})
    state.set_labels(7, {"needs review": PERSON})
    with Server(state):
        categories = [(c.name, c.definition) for c in DEFAULT_CATEGORIES]
        sync_label(GitHubClient(state.url, TOKEN), "o/r", 7, "feature", categories, "prtriage:", False)
        state.requests.clear()  # prtriage:feature is prtriage's, from a run before
        yield state


FIX_DIFF = (
    "diff --git a/src/app.py b/src/app.py\n--- a/src/app.py\n+++ b/src/app.py\n"
    "@@ -1,2 +1,4 @@\n def div(a, b):\n+    if b == 0:\n+        raise ValueError('b is zero')\n     return a / b\n"
)


@pytest.mark.slow
def test_pull_request_target_recipe_diff_as_data_and_label(gh: FakeGitHub, tmp_path: Path) -> None:
    """pull_request_target: nothing checked out (not even a git repository), diff through the API."""
    gh.pulls[7] = Pull("b" * 40, head_repo="someone/r", diff=None, files=[
        {"filename": "src/app.py", "status": "modified", "additions": 2, "deletions": 0,
         "patch": FIX_DIFF.split("\n", 3)[3].rstrip("\n")},
    ])  # fmt: skip
    empty = tmp_path / "workspace"
    empty.mkdir()
    env = {**event_env(tmp_path, payload("a" * 40, "b" * 40, fork=True), "pull_request_target"),
           "GITHUB_API_URL": gh.url}  # fmt: skip
    proc = classify_step(empty, env, **{"diff-from": "github", "label": "true", "create-labels": "true"})
    assert proc.returncode == 0, proc.stderr + proc.stdout
    category = read_outputs(tmp_path / "output")["category"]
    assert gh.issue_labels[7][0] == "needs review"  # the human's label stays
    assert gh.issue_labels[7] == ["needs review", f"prtriage:{category}"]  # prtriage:feature went, if stale
    # The config is read from the base commit through the contents API (there is no clone).
    config_reads = [r for r in gh.requests if r.path.startswith("/repos/o/r/contents/")]
    assert {r.path for r in config_reads} == {
        "/repos/o/r/contents/.prtriage.toml",
        "/repos/o/r/contents/pyproject.toml",
    }
    assert {r.query["ref"] for r in config_reads} == {"a" * 40}
    got = [(r.method, r.path, r.headers.get("accept")) for r in gh.requests if r not in config_reads]
    assert got[0] == ("GET", "/repos/o/r/pulls/7", "application/vnd.github.diff")  # 406: too large
    assert got[1][:2] == ("GET", "/repos/o/r/pulls/7/files")
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in gh.requests)
    assert "::notice title=prtriage::#7 looks like" in proc.stdout
    assert f"prtriage:{category}" in proc.stderr


def test_github_flags_are_checked(tmp_path: Path, repo: Path) -> None:
    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")} | (env or {})
        return subprocess.run(
            [sys.executable, "-m", "prtriage", "classify", *args], cwd=repo, env=full,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    assert "--label goes with --github" in run("--label").stderr
    assert "--diff-from github goes with --github" in run("--diff-from", "github").stderr
    assert "--github and --base/--staged/--range are exclusive" in run("--github", "--staged").stderr
    no_event = run("--github")
    assert no_event.returncode == 2 and "GITHUB_EVENT_PATH is not set" in no_event.stderr
    push = run("--github", env=event_env(tmp_path, {"ref": "x"}, "push"))
    assert push.returncode == 2 and "the push event has no pull request" in push.stderr
    assert "::error title=prtriage::the push event has no pull request" in push.stdout


@pytest.mark.slow
def test_uncertain_result_neither_fails_nor_labels_with_a_category(gh: FakeGitHub, tmp_path: Path) -> None:
    gh.pulls[7] = Pull("b" * 40, diff=FIX_DIFF)
    empty = tmp_path / "workspace"
    empty.mkdir()
    env = {**event_env(tmp_path, payload("a" * 40, "b" * 40), "pull_request_target"),
           "GITHUB_API_URL": gh.url}  # fmt: skip
    inputs = {"diff-from": "github", "label": "true", "create-labels": "true", "min-confidence": "1",
              "uncertain-label": "needs-triage", "fail-on": ",".join(NAMES)}  # fmt: skip
    proc = classify_step(empty, env, **inputs)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    result = json.loads(read_outputs(tmp_path / "output")["json"])
    assert result["uncertain"] is True and result["category"] in NAMES
    assert gh.issue_labels[7] == ["needs review", "needs-triage"]  # prtriage:feature came off
    summary = (tmp_path / "summary").read_text()
    assert "**Uncertain:** the most likely category" in summary and "no category label" in summary
    assert "::notice title=prtriage::#7: uncertain: the most likely category" in proc.stdout
    assert "::error" not in proc.stdout


def test_action_checks_min_confidence(tmp_path: Path) -> None:
    proc = run_step("check", {"min-confidence": "1.5"}, {}, {"GITHUB_EVENT_NAME": "pull_request"}, tmp_path)
    assert proc.returncode == 2 and "min-confidence must be a number from 0 to 1" in proc.stdout


@pytest.mark.slow
def test_action_with_label_map_and_comment_edits_one_comment(gh: FakeGitHub, tmp_path: Path) -> None:
    """The README's label map: a mapped category gets the team's label; two runs, one comment."""
    label_map = "fix=bug,feature=enhancement,docs=documentation"
    mapped = dict(pair.split("=") for pair in label_map.split(","))
    gh.pulls[7] = Pull("b" * 40, diff=FIX_DIFF)
    gh.label_by(7, "bug", PERSON)  # a person already said it is a bug
    empty = tmp_path / "workspace"
    empty.mkdir()
    env = {**event_env(tmp_path, payload("a" * 40, "b" * 40), "pull_request_target"),
           "GITHUB_API_URL": gh.url}  # fmt: skip
    inputs = {"diff-from": "github", "label": "true", "create-labels": "true", "comment": "true",
              "label-map": label_map}  # fmt: skip
    for run in (1, 2):
        proc = classify_step(empty, env, **inputs)
        assert proc.returncode == 0, proc.stderr + proc.stdout
        category = json.loads(read_outputs(tmp_path / "output")["json"])["category"]
        (tmp_path / "output").write_text("")
        label = mapped.get(category, f"prtriage:{category}")
        assert gh.issue_labels[7][:2] == ["needs review", "bug"]  # the person's labels stay, once
        assert label in gh.issue_labels[7] and gh.issue_labels[7].count("bug") == 1
        assert "prtriage:feature" not in gh.issue_labels[7]  # prefixed: prtriage's own, stale now
        (comment,) = gh.comments[7]
        assert comment["body"].startswith("<!-- prtriage:comment -->") and f"`{category}`" in comment["body"]
        assert ("comment created on #7" if run == 1 else "comment unchanged on #7") in proc.stderr
