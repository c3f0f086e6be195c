from __future__ import annotations

import tracemalloc
from pathlib import Path

from git_helpers import git, write

from prtriage.pipeline import diff
from prtriage.pipeline import git as gitmod
from prtriage.pipeline.diff import CONFIG, DOCS, SOURCE, TEST, classify_path, parse_diff, skip_reason


def _parse_repo(repo: Path, base: str = "main") -> dict[str, diff.FileDiff]:
    span = gitmod.resolve_range(repo, gitmod.DiffSpec(base=base))
    return {f.path: f for f in parse_diff(gitmod.stream_diff(repo, span))}


def test_statuses_counts_and_odd_paths(repo: Path) -> None:
    write(repo, "src/new file.py", "x = 1\ny = 2\n")
    write(repo, "docs/été.md", "accents\n")
    (repo / "README.md").unlink()
    git(repo, "mv", "src/app.py", "src/calc.py")
    write(repo, "logo.png", "")
    (repo / "logo.png").write_bytes(b"\x89PNG\x00\x01\x02" * 50)
    # Lines that look like headers inside a hunk: a removed "-- x" and an added "++ y".
    write(repo, "notes.txt", "-- x\nkeep\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "prep")
    git(repo, "checkout", "-q", "-b", "second")
    write(repo, "notes.txt", "++ y\nkeep\n")
    git(repo, "commit", "-q", "-am", "edit")
    files = _parse_repo(repo, "feature")
    assert files["notes.txt"].additions == 1 and files["notes.txt"].deletions == 1
    files = _parse_repo(repo)
    assert files["src/new file.py"].status == "added"
    assert (files["src/new file.py"].additions, files["src/new file.py"].deletions) == (2, 0)
    assert files["docs/été.md"].status == "added"
    assert files["README.md"].status == "deleted" and files["README.md"].deletions == 1
    assert files["src/calc.py"].status == "renamed" and files["src/calc.py"].old_path == "src/app.py"
    assert files["logo.png"].binary
    assert "@@" in files["src/new file.py"].hunks[0]


def test_no_newline_marker_and_blank_context_lines() -> None:
    text = (
        "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1,3 +1,3 @@\n x\n\n-old\n+new\n"
        "\\ No newline at end of file\n"
        "diff --git a/b.py b/b.py\n--- a/b.py\n+++ b/b.py\n@@ -1 +1 @@\n-1\n+2\n"
    )
    files = parse_diff(text.splitlines(True))
    assert [f.path for f in files] == ["a.py", "b.py"]
    assert (files[0].additions, files[0].deletions) == (1, 1)
    assert (files[1].additions, files[1].deletions) == (1, 1)


def test_kinds_and_skips() -> None:
    assert classify_path("src/prtriage/budget.py") == SOURCE
    assert classify_path("tests/test_budget.py") == TEST
    assert classify_path("pkg/foo_test.go") == TEST
    assert classify_path("web/src/App.test.tsx") == TEST
    assert classify_path(".github/workflows/ci.yml") == CONFIG
    assert classify_path("pyproject.toml") == CONFIG
    assert classify_path("docs/guide.rst") == DOCS
    assert classify_path("README.md") == DOCS
    assert skip_reason("web/pnpm-lock.yaml", False, (), set()) == "lock file"
    assert skip_reason("static/app.min.js", False, (), set()) == "generated"
    assert skip_reason("vendor/lib/x.go", False, (), set()) == "vendored"
    assert skip_reason("gen/api.py", False, ("gen/*",), set()) == "excluded by config"
    assert skip_reason("src/x.py", False, (), {"linguist-generated"}) == "generated"
    assert skip_reason("img.png", True, (), set()) == "binary"
    assert skip_reason("src/x.py", False, (), set()) is None


def test_gitattributes_linguist(repo: Path) -> None:
    write(repo, ".gitattributes", "api/*.py linguist-generated\nthird/** linguist-vendored=true\n")
    write(repo, "api/client.py", "a = 1\n")
    write(repo, "third/lib.py", "b = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "gen")
    attrs = gitmod.check_attrs(
        repo,
        ["api/client.py", "third/lib.py", "src/app.py"],
        ("linguist-generated", "linguist-vendored"),
        "HEAD",
    )
    assert attrs == {"api/client.py": {"linguist-generated"}, "third/lib.py": {"linguist-vendored"}}


def _huge_diff(n_files: int, lines_per_file: int):
    for i in range(n_files):
        yield f"diff --git a/src/f{i}.py b/src/f{i}.py\n"
        yield f"--- a/src/f{i}.py\n"
        yield f"+++ b/src/f{i}.py\n"
        yield f"@@ -0,0 +1,{lines_per_file} @@\n"
        for j in range(lines_per_file):
            yield f"+line {j} of a very large generated change that goes on and on\n"


def test_huge_diff_is_parsed_in_bounded_memory(monkeypatch) -> None:
    # ~12 MB of diff with the total cap lowered to 1 MB: memory must follow the cap, not the input.
    monkeypatch.setattr(diff, "MAX_KEPT_BYTES_TOTAL", 1_000_000)
    tracemalloc.start()
    files = parse_diff(_huge_diff(200, 1000))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(files) == 200
    assert all(f.additions == 1000 for f in files)  # counts stay exact when text is not kept
    kept = sum(len(h) for f in files for h in f.hunks)
    assert kept <= 1_000_000
    assert files[-1].cut and not files[-1].hunks
    assert peak < 4_000_000


def test_a_quoted_path_with_bad_octal_escapes_is_kept_as_written() -> None:
    diff = 'diff --git "a/x\\999\\777\\303\\251" "b/x\\999\\777\\303\\251"\nBinary files differ\n'
    (f,) = parse_diff(diff.splitlines(True))
    assert f.path == "x999777é"  # no crash: what git never writes is read leniently
