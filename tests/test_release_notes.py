"""`prtriage notes A..B`: which changes landed, how they are grouped and shown; one real-model run."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fake_engine import FakeEngine, run_main, use_fake_engine
from fake_github import TOKEN, FakeGitHub, Server
from git_helpers import commit, git
from test_cli import _one_line_error, run

from prtriage import release_notes
from prtriage.core.categories import DEFAULT_CATEGORIES
from prtriage.core.conventional import is_release
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
    override = kw.pop("override", None) or 1.0
    change = Landed(C, A, title, "", number, commit_type, type_category, breaking)
    return Entry(change, result(category, **kw) if category else None, check, override)  # type: ignore[arg-type]


def test_markdown_groups_by_category_in_order_and_flags_disagreeing_types() -> None:
    entries = [  # declared = check: the type decides unless the model is sure; disagreements are marked
        made("Add multiply", "feature", "feat", 13, check=True),
        made("Guard zero", "fix", "feat", 12, check=True),  # the type says feature, the model fix (90%)
        made("Explain install", "docs", check=True),
        made("Speed up parsing", "perf", "fix", 15, check=True, override=0.85),  # the model is surer (90%)
        made("Maybe a test", "test", min_confidence=0.95, check=True),
    ]
    text = to_markdown(entries, Settings(), title="v0.2.0")
    assert text == (
        "# v0.2.0\n\n"
        "## Features\n\n- Add multiply (#13)\n- Guard zero (#12) · model: `fix` (90%)\n\n"
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
        assert e["disagrees"] == (e["type_category"] != e["model_category"])
        assert e["category"] == e["type_category"]  # check-override 1.0: the type's section, always
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
        assert ("commit type" in line or "· model: " in line) == e["disagrees"]


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
        ("feature", "declared type", True), ("chore", "declared type", True),  # the model is not sure
        ("refactor", "declared type", True), ("fix", "model", False),  # enough (80%) to move them
    ]  # fmt: skip
    assert (
        "'feat' means feature, but the change looks like fix (80%): kept under feature (check-override: 1)"
        in out.err
    )
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


# --- notes a maintainer publishes unedited ----------------------------------------------------------


def scoped(
    title: str, scope: str | None, commit_type: str = "fix", number: int | None = None, sha: str = C
) -> Entry:
    """An entry its declared type decided (trust), with a scope."""
    category = {"feat": "feature", "fix": "fix", "docs": "docs", "chore": "chore"}[commit_type]
    return Entry(Landed(sha, A, title, "", number, commit_type, category, scope=scope), None)


def test_a_scope_is_kept_bold_by_default_italic_or_left_out() -> None:
    change = entry(C, (A,), "fix(netlify): ensure preview command is correct (#2561)")
    assert (change.scope, change.title) == ("netlify", "ensure preview command is correct")
    entries = [Entry(change, None), scoped("Guard zero", None, number=12)]
    assert to_markdown(entries, Settings()) == (
        "## Fixes\n\n- **netlify:** ensure preview command is correct (#2561)\n- Guard zero (#12)\n"
    )
    italic = to_markdown(entries, Settings(notes_scope="italic"))
    assert "- *(netlify)* ensure preview command is correct (#2561)" in italic
    assert "- ensure preview command is correct (#2561)" in to_markdown(entries, Settings(notes_scope="none"))
    # the scope is the author's text too: no markup of its own
    assert "- **\\*\\*x\\*\\* @\u2060a:** y (ccccccc)" in to_markdown([scoped("y", "**x** @a")], Settings())


def test_inline_code_stays_code_and_everything_else_stays_defused() -> None:
    title = "add `event.context.cache`, see @octocat <b>x</b> [a](https://e.com) `<img src=x>`"
    change = entry(C, (A,), f"feat: {title} (#2519)")
    assert to_markdown([Entry(change, None)], Settings()).splitlines()[2] == (
        "- add `event.context.cache`, see @\u2060octocat &lt;b&gt;x&lt;/b&gt; "
        "\\[a\\](https:\u2060//e.com) `<img src=x>` (#2519)"  # in a code span, HTML is shown, not run
    )
    lone = Entry(entry(C, (A,), "fix: a lone ` backtick"), None)
    assert "- a lone \\` backtick (ccccccc)" in to_markdown([lone], Settings())


def test_identical_entries_are_one_line_with_every_reference() -> None:
    subjects = [(A, "chore(deps): update all non-major dependencies (#12)"), (B, "chore(deps): update all non-major dependencies"),
                (C, "docs: Fix typo (#3)"), (C, "chore(deps): update all non-major dependencies (#19)"),
                (B, "chore: update all non-major  dependencies (#20)"),  # no scope: another line
                (A, "docs: fix typo (#4)"), (A, "fix: fix typo (#5)")]  # fmt: skip
    text = to_markdown([Entry(entry(sha, (A,), subject), None) for sha, subject in subjects], Settings())
    assert text == (
        "## Fixes\n\n- fix typo (#5)\n\n"  # another section: another line
        "## Documentation\n\n- Fix typo (#3, #4)\n\n"
        "## Dependencies\n\n- **deps:** update all non-major dependencies (#12, bbbbbbb, #19)\n"
        "- update all non-major  dependencies (#20)\n"
    )


def test_release_commits_are_recognised_and_nothing_else() -> None:
    for subject in ("chore(release): v2.9.5", "release: v8.2.2", "chore(main): release 17.11.1 (#2864)",
                    "release: plugin-legacy@8.2.3", "v2.0.0", "Version Packages (#40)", "chore: bump version to 1.2.3"):  # fmt: skip
        assert is_release(subject), subject
    for subject in ("feat(release): support prereleases", "chore: release notes generation", "docs: release process",
                    "Publish the docs site", "fix(release): keep the changelog's links",
                    "build(release): fix the publish job signing", "bump version of eslint to 9",
                    "chore(deps): bump version of x", "chore(release)!: drop node 16"):  # fmt: skip
        assert not is_release(subject), subject
    assert is_release("chore(release): prepare 1.2.0") and is_release("chore(release): publish")


def test_a_breaking_release_commit_is_listed_never_hidden() -> None:
    breaking = Landed(C, A, "v3.0.0", "", None, "chore", "chore", breaking=True, release=True)
    plain = Landed(B, A, "v2.9.6", "", None, "chore", "chore", release=True)
    assert release_notes.split_releases([breaking, plain], Settings()) == ([breaking], [plain])


def release_range(tmp_path: Path) -> Path:
    """v2.9.5, then a fix, the release commit of v2.9.6 and a feature, by two people."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(root, "init", {"a.txt": "a\n"})
    git(root, "tag", "v2.9.5")
    commit(root, "fix(types): infer `T` when method is omitted (#2551)", {"a.txt": "b\n"},
           "--author", "Alice <alice@example.com>", "-m", "Co-authored-by: Mallory <victim@example.com>")  # fmt: skip
    commit(
        root, "chore(release): v2.9.6", {"CHANGELOG.md": "# v2.9.6\n"}, "--author", "Alice <a@example.org>"
    )
    commit(root, "feat: add a cache (#2519)", {"c.txt": "c\n"}, "--author", "Bob <bob@example.com>")
    commit(root, "docs: tidy", {"d.txt": "d\n"}, "--author", "alice <alice@example.com>")
    return root


def test_release_commits_are_counted_not_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = release_range(tmp_path)
    assert run_main("notes", "-C", str(root), "v2.9.5..HEAD") == 0
    out = capsys.readouterr().out
    assert "v2.9.6" not in out.replace("Suggested next version: **v2.10.0**", "")
    assert "_Not listed: 1 release commit._" in out
    assert "- **types:** infer `T` when method is omitted (#2551)" in out
    assert run_main("notes", "-C", str(root), "v2.9.5..HEAD", "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["title"] for c in data["release_commits"]] == ["v2.9.6"]
    assert [e["scope"] for e in data["entries"]] == ["types", None, None]
    (root / ".prtriage.toml").write_text("notes-releases = true\n")  # listed, as before
    assert run_main("notes", "-C", str(root), "v2.9.5..HEAD") == 0
    out = capsys.readouterr().out
    assert "- **release:** v2.9.6 (" in out and "Not listed" not in out


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    state = FakeGitHub(repository="unjs/nitro")
    with Server(state):
        monkeypatch.setenv("GITHUB_API_URL", state.url)
        monkeypatch.setenv("GITHUB_REPOSITORY", "unjs/nitro")
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        yield state


def accounts(root: Path, gh: FakeGitHub, logins: dict[str, str | None]) -> None:
    """GitHub's side: each commit's author account, from its email (None: no account has it)."""
    for line in git(root, "log", "--format=%H %ae").splitlines():
        sha, email = line.split()
        login = logins.get(email)
        gh.commits[sha] = {"login": login, "type": "User"} if login else None


def test_contributors_are_logins_from_the_api_one_request_per_author(
    tmp_path: Path, gh: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    root = release_range(tmp_path)
    commit(root, "fix: more (#2552)", {"e.txt": "e\n"}, "--author", "Bob <bob@example.com>")
    commit(root, "fix: an unlinked email (#2553)", {"f.txt": "f\n"}, "--author", "Carol <carol@example.com>")
    commit(
        root, "fix: a login that is no login (#2554)", {"g.txt": "g\n"}, "--author", "Eve <eve@example.com>"
    )
    accounts(root, gh, {"alice@example.com": "alice-gh", "a@example.org": "alice-gh", "bob@example.com": "bob",
                        "eve@example.com": "x](https://evil)", "victim@example.com": "victim"})  # fmt: skip
    assert run_main("notes", "-C", str(root), "v2.9.5..HEAD") == 0
    out = capsys.readouterr().out
    # Alice's two emails are one person, her co-author trailer is text (a name, never a mention),
    # Carol's email has no account, and what is not a login is not used as one.
    assert out.endswith("## Contributors\n\n@alice-gh, @bob, Carol, Eve, Mallory\n")
    asked = [r.path for r in gh.requests]
    assert len(asked) == len(set(asked)) == 5  # alice@example.com, a@example.org, bob, carol, eve
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in gh.requests)
    assert run_main("notes", "-C", str(root), "v2.9.5..HEAD", "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["logins"] == {"Alice": "alice-gh", "Bob": "bob"}
    assert data["contributors"] == ["Alice", "Bob", "Carol", "Eve", "Mallory"]


def test_contributors_are_names_without_a_token_or_when_the_api_fails(
    tmp_path: Path, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = release_range(tmp_path)
    accounts(root, gh, {"alice@example.com": "alice-gh", "bob@example.com": "bob"})
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.delenv("GH_TOKEN", raising=False)
    assert run_main("notes", "-C", str(root), "v2.9.5..HEAD") == 0
    assert capsys.readouterr().out.endswith("## Contributors\n\nAlice, Bob, Mallory\n") and gh.requests == []
    monkeypatch.setenv("GITHUB_TOKEN", "expired")
    assert run_main("notes", "-C", str(root), "v2.9.5..HEAD") == 0
    out = capsys.readouterr()
    assert out.out.endswith("## Contributors\n\nAlice, Bob, Mallory\n") and len(gh.requests) == 1  # no retry
    assert out.err.count("prtriage: contributors stay names: GitHub API GET") == 1 and "401" in out.err


def test_check_keeps_the_declared_section_unless_the_model_is_surer_than_check_override() -> None:
    def checked(title: str, confidence: float, override: float = 1.0) -> Entry:
        change = Landed(C, A, title, "", 12, "fix", "fix")
        return Entry(change, result("perf", confidence), True, override)

    kept, never = checked("Guard zero", 0.9), checked("Guard one", 1.0)  # the default: never moved
    moved, unsure = checked("Speed up parsing", 0.95, 0.9), checked("Guard two", 0.9, 0.9)
    agree = made("Add multiply", "feature", "feat", 13, check=True)
    assert [(e.category, e.disagrees, e.kept) for e in (kept, never, moved, unsure, agree)] == [
        ("fix", True, True), ("fix", True, True), ("perf", True, False), ("fix", True, True),
        ("feature", False, True),
    ]  # fmt: skip
    # The type decides an entry the model agrees with too: never "uncertain" where a disagreeing,
    # equally unsure one would stay in its section.
    for category in ("fix", "perf"):
        unsure_model = replace(result(category, 0.3), min_confidence=0.5)
        e = Entry(Landed(C, A, "Guard three", "", 14, "fix", "fix"), unsure_model, True)
        assert (e.section, e.uncertain) == ("fix", False), category
    text = to_markdown([kept, moved, agree], Settings())
    assert "## Fixes\n\n- Guard zero (#12) · model: `perf` (90%)\n" in text
    assert "## Performance\n\n- Speed up parsing (#12) · commit type `fix`\n" in text
    assert "- Add multiply (#13)\n" in text
    assert [e["decided_by"] for e in json.loads(to_json("a..b", [kept, moved, agree], []))["entries"]] == [
        "declared type", "model", "declared type",
    ]  # fmt: skip
    first, second = release_notes.disagreements([kept, moved])
    assert first.endswith("looks like perf (90%): kept under fix (check-override: 1)")
    assert second.endswith("looks like perf (95%): listed under perf")
    assert resolve_settings({}, env={"PRTRIAGE_CHECK_OVERRIDE": "0.9"}, cwd=Path("/")).check_override == 0.9


def test_a_breaking_note_that_escapes_to_nothing_adds_no_line() -> None:
    """`  - ` with nothing after it under an entry would turn that entry into a heading."""
    change = entry(C, (A,), "feat!: drop v1 (#14)", "BREAKING CHANGE: \x1b\x7f")
    assert to_markdown([Entry(change, None)], Settings()) == "## Breaking changes\n\n- drop v1 (#14)\n"


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
