"""`prtriage notes A..B`: which changes landed, how they are grouped and shown; one real-model run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fake_engine import FakeEngine, run_main, use_fake_engine
from git_helpers import commit, git
from test_cli import _one_line_error, run

from prtriage import release_notes
from prtriage.core.categories import DEFAULT_CATEGORIES
from prtriage.core.errors import UsageError
from prtriage.core.settings import Settings, resolve_settings
from prtriage.pipeline.git import LogEntry
from prtriage.pipeline.result import Result
from prtriage.release_notes import (
    Entry,
    Landed,
    Version,
    landed,
    landed_changes,
    parse_range,
    to_json,
    to_markdown,
)

NAMES = [c.name for c in DEFAULT_CATEGORIES]
A, B, C = "a" * 40, "b" * 40, "c" * 40


def entry(sha: str, parents: tuple[str, ...], subject: str, body: str = "") -> Landed:
    return landed(LogEntry(sha, parents, "2026-01-01T00:00:00Z", subject, body))


def test_what_each_kind_of_landed_commit_says() -> None:
    merge = entry(C, (A, B), "Merge pull request #12 from me/fix-zero", "fix: Guard division by zero\n\nmore")
    assert (merge.number, merge.title, merge.body, merge.commit_type, merge.type_category) == (
        12, "Guard division by zero", "more", "fix", "fix",
    )  # fmt: skip
    assert merge.parent == A  # the change is what the merge brought to the first parent
    squash = entry(C, (A,), "feat(cli): add --comment (#13)", "* feat: add --comment\n* fix typo")
    assert (squash.number, squash.title, squash.commit_type) == (13, "add --comment", "feat")
    assert squash.body == "* add --comment\n* fix typo"
    topic = entry(C, (A,), "README: say how to install")  # a topic, not a Conventional type
    assert (topic.title, topic.commit_type, topic.type_category, topic.number) == (
        "README: say how to install", None, None, None,
    )  # fmt: skip
    bump = entry(C, (A,), "chore(deps): bump rich from 13 to 14 (#20)")
    assert bump.type_category == "deps"
    bare = entry(C, (A, B), "Merge pull request #14 from me/branch-name")
    assert (bare.title, bare.number) == ("me/branch-name", 14)


def test_ranges_read_as_git_log_reads_them() -> None:
    assert parse_range("v0.1.0..HEAD") == ("v0.1.0", "HEAD")
    assert parse_range("v0.1.0..") == parse_range("v0.1.0") == ("v0.1.0", "HEAD")
    assert parse_range("v1...v2") == parse_range("v1..v2") == ("v1", "v2")  # as classify --range reads them
    for bad in ("..HEAD", "...HEAD", "--all..HEAD"):
        with pytest.raises(UsageError):
            parse_range(bad)


def history(tmp_path: Path) -> Path:
    """main: v0.1.0, a merged pull request (#12) with two commits, a squash (#13), a direct commit."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(root, "init", {"src/calc.py": "def div(a, b):\n    return a / b\n", "README.md": "# calc\n"})
    git(root, "tag", "v0.1.0")
    git(root, "checkout", "-q", "-b", "fix-zero")
    commit(root, "fix: guard the division", {"src/calc.py": (
        "def div(a, b):\n    if b == 0:\n        raise ZeroDivisionError('b must not be 0')\n    return a / b\n")})  # fmt: skip
    commit(root, "test: cover division by zero", {"tests/test_calc.py": (
        "import pytest\nfrom calc import div\n\ndef test_zero():\n    with pytest.raises(ZeroDivisionError):\n"
        "        div(1, 0)\n")})  # fmt: skip
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-ff", "fix-zero", "-m", "Merge pull request #12 from me/fix-zero",
        "-m", "fix: raise a clear error when dividing by zero")  # fmt: skip
    commit(root, "feat: add a multiply function (#13)", {"src/calc.py": (
        "def div(a, b):\n    if b == 0:\n        raise ZeroDivisionError('b must not be 0')\n    return a / b\n\n\n"
        "def mul(a, b):\n    return a * b\n")})  # fmt: skip
    commit(root, "docs: explain how to install and use calc", {"README.md": (
        "# calc\n\nInstall with `pip install calc`, then:\n\n```python\nfrom calc import div, mul\n"
        "print(mul(2, div(6, 3)))\n```\n")})  # fmt: skip
    return root


def test_landed_changes_follow_the_first_parent(tmp_path: Path) -> None:
    root = history(tmp_path)
    found = landed_changes(root, "v0.1.0..HEAD")
    assert [(c.title, c.number) for c in found] == [
        ("raise a clear error when dividing by zero", 12),  # the branch's own commits are not listed
        ("add a multiply function", 13),
        ("explain how to install and use calc", None),
    ]
    assert landed_changes(root, "v0.1.0...HEAD") == found  # as `classify --range` reads it


def test_bad_ref_and_empty_range_fail_before_the_model(tmp_path: Path) -> None:
    root = history(tmp_path)
    _one_line_error(run(root, "notes", "v9.9.9..HEAD"), 3, "unknown ref 'v9.9.9' in v9.9.9..HEAD")
    _one_line_error(run(root, "notes", "HEAD..v0.1.0"), 3, "no changes in HEAD..v0.1.0")
    _one_line_error(run(tmp_path, "notes", "HEAD~1..HEAD"), 3, "not a git repository")


def result(category: str, confidence: float = 0.9, min_confidence: float | None = None) -> Result:
    probs = {n: (confidence if n == category else 0.0) for n in NAMES}
    return Result(category, confidence, probs, "r", (), "m", None, 10, False, "", {}, min_confidence)


def made(title: str, category: str | None, commit_type: str | None = None, number: int | None = None,
         check: bool = False, breaking: bool = False, **kw: float | None) -> Entry:  # fmt: skip
    """An entry: the model's `category`, or None for one its declared type decided (trust)."""
    type_category = {"feat": "feature", "fix": "fix", "docs": "docs", "chore": "chore"}.get(commit_type or "")
    change = Landed(C, A, title, "", number, commit_type, type_category, breaking)
    return Entry(change, result(category, **kw) if category else None, check)  # type: ignore[arg-type]


def test_markdown_groups_by_category_in_order_and_flags_disagreeing_types() -> None:
    entries = [  # declared = check: the model decides, the disagreements are marked
        made("Add multiply", "feature", "feat", 13, check=True),
        made("Guard zero", "fix", "feat", 12, check=True),  # the type says feature, the model fix
        made("Explain install", "docs", check=True),
        made("Speed up parsing", "perf", "fix", 15, check=True),
        made("Maybe a test", "test", min_confidence=0.95, check=True),
    ]
    text = to_markdown(entries, Settings(), title="v0.2.0")
    assert text == (
        "# v0.2.0\n\n"
        "## Features\n\n- Add multiply (#13)\n\n"
        "## Fixes\n\n- Guard zero (#12) · commit type `feat`\n\n"
        "## Performance\n\n- Speed up parsing (#15) · commit type `fix`\n\n"
        "## Documentation\n\n- Explain install (ccccccc)\n\n"
        "## Not sorted (below min-confidence)\n\n- Maybe a test (ccccccc)\n"
    )
    assert to_markdown([], Settings()) == "No changes to list.\n"


def test_configured_headings_reorder_rename_and_hide(tmp_path: Path) -> None:
    (tmp_path / ".prtriage.toml").write_text('[notes]\nfix = "Bug fixes"\nfeature = "New"\ndocs = ""\n')
    settings = resolve_settings({}, env={}, cwd=tmp_path)
    entries = [made("Add", "feature"), made("Guard", "fix"), made("Explain", "docs"), made("Bump", "deps")]
    text = to_markdown(entries, settings)
    assert re.findall(r"^## (.*)$", text, re.MULTILINE) == ["Bug fixes", "New", "Dependencies"]
    assert "Explain" not in text  # docs = "": hidden from the Markdown
    assert [e["title"] for e in json.loads(to_json("a..b", entries, []))["entries"]] == [
        "Add", "Guard", "Explain", "Bump",
    ]  # fmt: skip


def test_titles_cannot_inject_html_or_mention_people() -> None:
    text = to_markdown([made("Thanks @octocat <script>x</script>\nmore", "fix")], Settings())
    assert "@octocat" not in text and "<script>" not in text and "&lt;script&gt;" in text
    assert "- Thanks @\u2060octocat &lt;script&gt;x&lt;/script&gt; more (ccccccc)" in text


@pytest.mark.slow
def test_notes_for_a_range_in_one_process(tmp_path: Path) -> None:
    root = history(tmp_path)
    check = {"PRTRIAGE_DECLARED": "check"}  # the model reads every change (trust would skip all three)
    proc = run(root, "notes", "v0.1.0..HEAD", "--format", "json", env=check)
    assert proc.returncode == 0, proc.stderr
    assert "classifying: 3/3 changes (100%)" in proc.stderr  # plain progress lines: stderr is a pipe
    data = json.loads(proc.stdout)
    entries = data["entries"]
    assert data["range"] == "v0.1.0..HEAD" and data["skipped"] == []
    assert [(e["number"], e["commit_type"]) for e in entries] == [(12, "fix"), (13, "feat"), (None, "docs")]
    for e in entries:
        assert e["category"] in NAMES and 0 < e["confidence"] <= 1 and e["uncertain"] is False
        assert e["disagrees"] == (e["type_category"] != e["category"])
    (root / ".prtriage.toml").write_text('[notes]\ndocs = "Docs first"\n')
    md = run(root, "notes", "v0.1.0..", "--title", "calc v0.2.0", env=check)
    assert md.returncode == 0, md.stderr
    headings = re.findall(r"^## (.*)$", md.stdout, re.MULTILINE)
    assert md.stdout.startswith("# calc v0.2.0\n\nSuggested next version: **v0.")  # from the tag v0.1.0
    assert headings.pop() == "Contributors" and md.stdout.endswith("## Contributors\n\nTest\n")
    assert headings == list(dict.fromkeys(headings)) and len(headings) <= 3
    assert headings[0] == "Docs first" or all(e["category"] != "docs" for e in entries)
    for e, marker in zip(entries, ["(#12)", "(#13)", "("]):
        line = next(x for x in md.stdout.splitlines() if x.startswith(f"- {e['title']} {marker}"))
        section = md.stdout[: md.stdout.index(line)].rsplit("## ", 1)[1].split("\n")[0]
        expected = dict([("docs", "Docs first"), ("feature", "Features"), ("fix", "Fixes"),
                         ("perf", "Performance"), ("refactor", "Refactoring"), ("test", "Tests"),
                         ("ci", "CI"), ("build", "Build"), ("deps", "Dependencies"), ("chore", "Chores")])  # fmt: skip
        assert section == expected[e["category"]]
        assert ("commit type" in line) == e["disagrees"]


# --- declared types, breaking changes, contributors and the next version ---------------------------


def release_history(tmp_path: Path) -> Path:
    """v1.4.2, then: a feature by Alice with Bob (and a bot) as co-authors, a bot's chore, Carol's
    breaking refactor (a BREAKING CHANGE footer), and Alice's change without a type."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(root, "init", {"src/calc.py": "def div(a, b):\n    return a / b\n"})
    git(root, "tag", "v1.4.2")
    commit(root, "feat: add a multiply function (#13)", {"src/calc.py": "def div(a, b):\n    return a / b\n\n\n"
           "def mul(a, b):\n    return a * b\n"}, "--author", "Alice <alice@example.com>", "-m",
           "Co-authored-by: Bob <bob@example.com>\nCo-authored-by: dependabot[bot] <1+dependabot[bot]@users.noreply.github.com>")  # fmt: skip
    commit(root, "chore: tidy the build (#15)", {"Makefile": "all:\n\ttrue\n"},
           "--author", "renovate[bot] <2+renovate[bot]@users.noreply.github.com>")  # fmt: skip
    commit(root, "refactor: rename div to divide (#16)", {"src/calc.py": "def divide(a, b):\n    return a / b\n\n\n"
           "def mul(a, b):\n    return a * b\n"}, "--author", "Carol <carol@example.com>", "-m",
           "BREAKING CHANGE: div is gone, use divide")  # fmt: skip
    commit(root, "Tidy the helpers", {"src/util.py": "X = 1\n"}, "--author", "alice <alice@example.org>")
    return root


def test_breaking_changes_come_first_and_hidden_categories_are_counted(tmp_path: Path) -> None:
    (tmp_path / ".prtriage.toml").write_text('[notes]\nfeature = ""\nchore = ""\n')
    settings = resolve_settings({}, env={}, cwd=tmp_path)
    entries = [made("Guard zero", None, "fix", 12), made("Drop v1", None, "feat", 14, breaking=True),
               made("Add multiply", None, "feat", 13), made("Tidy", None, "chore"), made("Lint", None, "chore")]  # fmt: skip
    assert to_markdown(entries, settings) == (
        "## Breaking changes\n\n- Drop v1 (#14)\n\n"  # a hidden category never hides a breaking change
        "## Fixes\n\n- Guard zero (#12)\n\n"
        "_Not listed: 1 feature, 2 chore (hidden by the notes config)._\n"
    )
    assert json.loads(to_json("a..b", entries, [], settings))["hidden"] == {"feature": 1, "chore": 2}


def test_declared_types_decide_and_the_model_reads_only_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = release_history(tmp_path)
    fake = use_fake_engine(monkeypatch, FakeEngine.answering("fix", 0.8))
    assert run_main("notes", "-C", str(root), "v1.4.2..HEAD", "--title", "v2.0.0") == 0
    untyped = git(root, "rev-parse", "--short=7", "HEAD").strip()
    assert capsys.readouterr().out == (
        "# v2.0.0\n\n"
        "Suggested next version: **v2.0.0** (breaking changes since v1.4.2)\n\n"
        "## Breaking changes\n\n- rename div to divide (#16)\n  - div is gone, use divide\n\n"
        "## Features\n\n- add a multiply function (#13)\n\n"
        f"## Fixes\n\n- Tidy the helpers ({untyped})\n\n"
        "## Chores\n\n- tidy the build (#15)\n\n"
        "## Contributors\n\nAlice, Bob, Carol\n"  # bots left out; alice and Alice are one person
    )
    assert fake.scored == 1  # only the change without a type went to the model


def test_check_reports_disagreements_and_ignore_sorts_by_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = release_history(tmp_path)
    fake = use_fake_engine(monkeypatch, FakeEngine.answering("fix", 0.8))
    monkeypatch.setenv("PRTRIAGE_DECLARED", "check")
    assert run_main("notes", "-C", str(root), "v1.4.2..", "--format", "json") == 0
    out = capsys.readouterr()
    data = json.loads(out.out)
    assert fake.scored == 4 and data["declared"] == "check" and data["schema_version"] == 1
    assert [(e["category"], e["decided_by"], e["disagrees"]) for e in data["entries"]] == [
        ("fix", "model", True), ("fix", "model", True), ("fix", "model", True), ("fix", "model", False),
    ]  # fmt: skip
    assert "'feat' means feature, but the change looks like fix (80%)" in out.err
    assert data["next_version"] == {"previous": "v1.4.2", "next": "v2.0.0", "bump": "major"}
    assert data["contributors"] == ["Alice", "Bob", "Carol"] and data["entries"][2]["breaking"] is True
    monkeypatch.setenv("PRTRIAGE_DECLARED", "ignore")
    assert run_main("notes", "-C", str(root), "v1.4.2..") == 0
    out = capsys.readouterr()
    assert "commit type" not in out.out and "means" not in out.err
    assert re.findall(r"^## (.*)$", out.out, re.MULTILINE) == ["Breaking changes", "Fixes", "Contributors"]


def test_the_next_version_follows_the_changes_from_the_previous_tag(tmp_path: Path) -> None:
    fix, feat = made("Guard", None, "fix"), made("Add", None, "feat")
    breaking = made("Drop", None, "fix", breaking=True)
    unsure = made("Maybe", "feature", min_confidence=0.95)  # an uncertain feature bumps nothing
    assert [release_notes.next_version("v1.4.2", e).next for e in ([fix], [fix, feat], [feat, breaking], [fix, unsure])] == [  # type: ignore[union-attr]
        "v1.4.3", "v1.5.0", "v2.0.0", "v1.4.3",
    ]  # fmt: skip
    assert release_notes.next_version("0.9.0", [feat]) == Version("0.9.0", "0.10.0", "minor")
    assert release_notes.next_version("v2.0.0-rc.2", [fix]) == Version("v2.0.0-rc.2", "v2.0.0", "patch")
    assert release_notes.next_version("release-3", [fix]) is None
    root = release_history(tmp_path)
    start = git(root, "rev-parse", "v1.4.2~0").strip()
    git(root, "tag", "not-a-version", "HEAD~2")
    assert release_notes.previous_tag(root, "v1.4.2") == "v1.4.2"
    assert release_notes.previous_tag(root, start) == "v1.4.2"  # the nearest tag before a commit
    assert release_notes.previous_tag(root, "HEAD~1") is None  # the nearest is no version


def test_no_line_of_the_notes_starts_a_workflow_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Names and titles come from commits: `Co-authored-by: ::warning::x` made a line `::warning::x`,
    # which an Actions log runs as a command (it trims leading white space first).
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(root, "init", {"a.txt": "1\n"})
    git(root, "tag", "v1.0.0")
    commit(root, "fix: ::error title=CI::broken (#3)", {"a.txt": "2\n"}, "--author", "::notice::a <a@x.invalid>",
           "-m", "Co-authored-by: ::warning::x <e@x.invalid>\nCo-authored-by:  ::add-mask::y <f@x.invalid>")  # fmt: skip
    use_fake_engine(monkeypatch, FakeEngine.answering("fix", 0.8))
    assert run_main("notes", "-C", str(root), "v1.0.0..HEAD") == 0
    out = capsys.readouterr().out
    assert "warning" in out and "add-mask" in out  # the names are still there, as text
    assert [line for line in out.splitlines() if line.lstrip().startswith("::")] == []
