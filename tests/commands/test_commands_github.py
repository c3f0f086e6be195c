"""`classify --github` (prtriage/commands/github.py) with a fake engine: outputs, annotation, fail-on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import git
from fake_engine import FakeEngine, run_main, use_fake_engine

from prtriage.errors import EXIT_FAIL_ON, EXIT_OK


@pytest.fixture
def actions(fix_branch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pull_request event for fix_branch (main ← feature), as GitHub Actions sets it up."""
    base, head = (git(fix_branch, "rev-parse", ref).strip() for ref in ("main", "HEAD"))
    side = {"repo": {"full_name": "o/r"}}
    pr = {"number": 7, "title": "Raise on zero", "body": "It crashed.", "draft": False,
          "base": {"sha": base, "ref": "main", **side}, "head": {"sha": head, "ref": "feature", **side}}  # fmt: skip
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "opened", "number": 7, "repository": {"full_name": "o/r"},
                                 "pull_request": pr}))  # fmt: skip
    for name in ("output", "summary"):
        (tmp_path / name).write_text("")
    env = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event), "GITHUB_ACTIONS": "true",
           "GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
           "GITHUB_REPOSITORY": "o/r"}  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return fix_branch


def test_outputs_summary_and_a_notice(
    actions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_fake_engine(monkeypatch, FakeEngine.answering("fix", 0.8, "Guards a zero."))
    assert run_main("classify", "-C", str(actions), "--github", "--format", "json") == EXIT_OK
    out = capsys.readouterr().out
    assert json.loads(out.splitlines()[0])["category"] == "fix"
    assert "::notice title=prtriage::#7 looks like fix (80%25): Guards a zero." in out
    assert "category<<" in (tmp_path / "output").read_text()
    assert "pull request #7" in (tmp_path / "summary").read_text()


def test_fail_on_is_an_error_annotation_and_exit_1(
    actions: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_fake_engine(monkeypatch, FakeEngine.answering("fix", 0.8))
    assert run_main("classify", "-C", str(actions), "--github", "--fail-on", "fix") == EXIT_FAIL_ON
    out = capsys.readouterr()
    assert "::error title=prtriage::#7 looks like fix" in out.out and "'fix' is in fail-on" in out.err


def test_pull_request_target_refuses_a_checkout_diff(
    actions: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = use_fake_engine(monkeypatch, FakeEngine.answering("fix", 0.8))
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request_target")
    assert run_main("classify", "-C", str(actions), "--github") == 2
    out = capsys.readouterr()
    assert "under pull_request_target, --diff-from git would diff a checkout" in out.err
    assert "--diff-from github" in out.err and fake.opened == 0
    assert out.out.startswith("::error title=prtriage::under pull_request_target")
