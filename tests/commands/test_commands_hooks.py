"""The pre-commit modes (prtriage/commands/hooks.py) with a fake engine: --pre-push and --commit-msg."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_engine import FakeEngine, run_main, use_fake_engine
from git_helpers import git, write

from prtriage.core.errors import EXIT_FAIL_ON, EXIT_OK


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    return use_fake_engine(monkeypatch, FakeEngine.answering("fix", 0.8, "Guards a zero."))


# --- pre-push ---------------------------------------------------------------------------------------


def test_pre_push_classifies_what_the_push_sends(
    fix_branch: Path, fake: FakeEngine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRTRIAGE_BASE", "main")  # no remote here: the base comes from the settings
    assert run_main("classify", "-C", str(fix_branch), "--pre-push") == EXIT_OK
    assert "src/app.py" in capsys.readouterr().out and fake.scored == 1


def test_pre_push_fail_on_blocks_the_push(
    fix_branch: Path, fake: FakeEngine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRTRIAGE_BASE", "main")
    monkeypatch.setenv("PRTRIAGE_FAIL_ON", "fix")  # what the hook inherits
    assert run_main("classify", "-C", str(fix_branch), "--pre-push") == EXIT_FAIL_ON
    assert "category 'fix' is in fail-on" in capsys.readouterr().err


def test_deleting_a_remote_branch_classifies_nothing(
    fix_branch: Path, fake: FakeEngine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "0" * 40)
    assert run_main("classify", "-C", str(fix_branch), "--pre-push", "--fail-on", "fix") == EXIT_OK
    assert "this push sends no file changes" in capsys.readouterr().err and fake.opened == 0


# --- commit-msg -------------------------------------------------------------------------------------


def commit_msg(repo: Path, message: str, *flags: str) -> int:
    (repo / ".git" / "COMMIT_EDITMSG").write_text(message + "\n")
    return run_main(
        "classify", "-C", str(repo), "--commit-msg", *flags, str(repo / ".git" / "COMMIT_EDITMSG")
    )


@pytest.fixture
def staged(repo: Path) -> Path:
    write(repo, "src/app.py", "def div(a, b):\n    return a // b\n")
    git(repo, "add", ".")
    return repo


def test_an_agreeing_type_passes(staged: Path, fake: FakeEngine, capsys: pytest.CaptureFixture[str]) -> None:
    assert commit_msg(staged, "fix: integer division", "--fail-on-mismatch") == EXIT_OK
    assert "prtriage: 'fix' agrees with the change: fix (80%)" in capsys.readouterr().err


def test_a_disagreeing_type_warns_and_blocks_only_when_asked(
    staged: Path, fake: FakeEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert commit_msg(staged, "docs: integer division") == EXIT_OK
    said = (
        "prtriage: 'docs' means docs (2%), but the change looks like fix (80%): Fixes integer division "
        "in src/app.py. Chosen over feature: the model gives fix 80%, feature 2%."
    )
    assert said in capsys.readouterr().err
    assert commit_msg(staged, "docs: integer division", "--fail-on-mismatch") == EXIT_FAIL_ON


def test_an_uncertain_result_blocks_nothing(
    staged: Path, fake: FakeEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ("--fail-on-mismatch", "--fail-on", "fix", "--min-confidence", "0.9")
    assert commit_msg(staged, "docs: integer division", *flags) == EXIT_OK
    assert "is in fail-on, but the result is uncertain" in capsys.readouterr().err


def test_fail_on_applies_to_the_commit_too(staged: Path, fake: FakeEngine) -> None:
    assert commit_msg(staged, "fix: integer division", "--fail-on", "fix") == EXIT_FAIL_ON


def test_no_type_or_nothing_staged_is_not_checked(
    repo: Path, fake: FakeEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert commit_msg(repo, "Tidy things", "--fail-on-mismatch") == EXIT_OK
    assert "nothing to check (no Conventional Commits type in the title)" in capsys.readouterr().err
    assert commit_msg(repo, "fix: nothing staged", "--fail-on-mismatch") == EXIT_OK
    assert "nothing to check (no staged changes)" in capsys.readouterr().err
    assert fake.opened == 0
