from __future__ import annotations

from pathlib import Path

import pytest
from git_helpers import git, write

from prtriage.core.errors import GitError
from prtriage.pipeline import git as gitmod
from prtriage.pipeline.change import change_from_git


def test_branch_change_with_title_and_body_from_commits(fix_branch: Path) -> None:
    change = change_from_git(fix_branch, gitmod.DiffSpec(), ())
    assert change.title == "Raise a clear error on division by zero"
    assert change.body == "It crashed deep in the stack."
    assert [f.path for f in change.files] == ["src/app.py"]


def test_several_commits_list_their_subjects(fix_branch: Path) -> None:
    write(fix_branch, "tests/test_app.py", "def test_div(): pass\n")
    git(fix_branch, "add", ".")
    git(fix_branch, "commit", "-q", "-m", "Test the error")
    change = change_from_git(fix_branch, gitmod.DiffSpec(), (), title="Explicit")
    assert change.title == "Explicit"
    assert change.body == "- Raise a clear error on division by zero\n- Test the error"


def test_base_resolution_prefers_origin_head(fix_branch: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(fix_branch), str(remote))
    git(fix_branch, "remote", "add", "origin", str(remote))
    git(fix_branch, "fetch", "-q", "origin")
    git(fix_branch, "remote", "set-head", "origin", "main")
    assert gitmod.default_base(fix_branch) == "origin/main"


def test_master_fallback(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "master")
    write(tmp_path, "a.txt", "a\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "a")
    assert gitmod.default_base(tmp_path) == "master"


def test_staged_and_range(fix_branch: Path) -> None:
    write(fix_branch, "README.md", "# demo\n\nMore docs.\n")
    git(fix_branch, "add", "README.md")
    staged = change_from_git(fix_branch, gitmod.DiffSpec(staged=True), ())
    assert [f.path for f in staged.files] == ["README.md"]
    assert staged.source == "staged changes"
    ranged = change_from_git(fix_branch, gitmod.DiffSpec(range="main..feature"), ())
    assert [f.path for f in ranged.files] == ["src/app.py"]


def test_not_a_repo(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not a git repository"):
        change_from_git(tmp_path, gitmod.DiffSpec(), ())


def test_no_commits(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    with pytest.raises(GitError, match="no commits") as info:
        change_from_git(tmp_path, gitmod.DiffSpec(), ())
    assert "--staged" in (info.value.hint or "")


def test_unknown_base(fix_branch: Path) -> None:
    with pytest.raises(GitError, match="unknown base ref: nope"):
        change_from_git(fix_branch, gitmod.DiffSpec(base="nope"), ())
    with pytest.raises(GitError, match="unknown ref in --range: nope"):
        change_from_git(fix_branch, gitmod.DiffSpec(range="nope..HEAD"), ())


def test_empty_diff(repo: Path) -> None:
    with pytest.raises(GitError, match="empty diff"):
        change_from_git(repo, gitmod.DiffSpec(), ())


def test_no_base_branch(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "trunk")
    write(tmp_path, "a.txt", "a\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "a")
    with pytest.raises(GitError, match="cannot find a base branch") as info:
        change_from_git(tmp_path, gitmod.DiffSpec(), ())
    assert "--base" in (info.value.hint or "")


def test_shallow_clone_asks_for_full_history(fix_branch: Path, tmp_path: Path) -> None:
    for i in range(3):
        write(fix_branch, "src/app.py", f"v = {i}\n")
        git(fix_branch, "commit", "-q", "-am", f"change {i}")
    # A shallow clone of the branch, and the base fetched shallowly too: no common history.
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{fix_branch}", str(clone))
    git(clone, "fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    with pytest.raises(GitError, match="shallow clone") as info:
        change_from_git(clone, gitmod.DiffSpec(base="origin/main"), ())
    assert "fetch-depth: 0" in (info.value.hint or "")


def test_unrelated_histories(fix_branch: Path) -> None:
    git(fix_branch, "checkout", "-q", "--orphan", "other")
    write(fix_branch, "x.txt", "x\n")
    git(fix_branch, "add", "x.txt")
    git(fix_branch, "commit", "-q", "-m", "orphan")
    with pytest.raises(GitError, match="share no history"):
        change_from_git(fix_branch, gitmod.DiffSpec(base="main"), ())


def test_user_diff_config_does_not_change_the_diff(fix_branch: Path) -> None:
    git(fix_branch, "config", "diff.noprefix", "true")
    git(fix_branch, "config", "diff.external", "false")
    git(fix_branch, "config", "color.diff", "always")
    change = change_from_git(fix_branch, gitmod.DiffSpec(), ())
    assert [f.path for f in change.files] == ["src/app.py"]
    assert change.files[0].additions == 2


def test_a_range_from_a_branch_behind_main_is_the_branchs_own_change(fix_branch: Path) -> None:
    """`--range main..HEAD` means what `git log main..HEAD` lists: main's later commits stay out."""
    git(fix_branch, "checkout", "-q", "main")
    write(fix_branch, "docs/later.md", "# main moved on\n")
    git(fix_branch, "add", ".")
    git(fix_branch, "commit", "-q", "-m", "A later commit on main")
    git(fix_branch, "checkout", "-q", "feature")
    for spec in ("main..HEAD", "main...HEAD", "main.."):
        ranged = change_from_git(fix_branch, gitmod.DiffSpec(range=spec), ())
        assert [f.path for f in ranged.files] == ["src/app.py"], spec
        assert ranged.title == "Raise a clear error on division by zero"


def test_commit_diff_reports_a_git_failure_and_keeps_its_early_stop(fix_branch: Path) -> None:
    """Issue 18, case 6: a git failure read as an empty diff; stopping at max_bytes is no failure."""
    head = gitmod.first_parent_log(fix_branch)[0]
    text, cut = gitmod.commit_diff(fix_branch, head, 20)
    assert len(text) == 20 and cut
    missing = gitmod.LogEntry("f" * 40, ("e" * 40,), "", "gone", "")
    with pytest.raises(GitError, match="git diff failed: .*"):
        gitmod.commit_diff(fix_branch, missing, 1000)


def test_stream_diff_drains_stderr_while_stdout_streams(
    fix_branch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A git that fills its stderr pipe before its stdout ends must not hang the reader."""
    import threading

    fake = tmp_path / "bin" / "git"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        "head -c 300000 /dev/zero | tr '\\0' 'w' >&2; echo >&2\n"
        "printf 'diff --git a/x b/x\\n'\n"
        "echo 'fatal: something broke' >&2\n"
        "exit 128\n"
    )
    fake.chmod(0o755)
    monkeypatch.setattr(gitmod, "_GIT", (str(fake),))
    outcome: list[object] = []

    def read() -> None:
        try:
            outcome.append(list(gitmod.stream_diff(fix_branch, ("a", "b"))))
        except GitError as e:
            outcome.append(e)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive(), "stream_diff hung on a full stderr pipe"
    (error,) = outcome
    assert isinstance(error, GitError) and error.message == "git diff failed: fatal: something broke"
