"""Every git call prtriage makes, and the parsing of what git prints."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from prtriage.core.errors import GitError

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's empty tree: the base of a root commit

# Flags that make `git diff` output the same whatever the user's git config says.
DIFF_FLAGS = (
    "--no-ext-diff",
    "--no-textconv",
    "--no-color",
    "--find-renames",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)
_GIT = ("git", "-c", "core.quotepath=off", "-c", "diff.mnemonicPrefix=false")


@dataclass(frozen=True)
class DiffSpec:
    """What to diff: exactly one of the three ways."""

    base: str | None = None  # merge base of this ref and HEAD .. HEAD
    range: str | None = None  # A..B or A...B
    staged: bool = False


@dataclass(frozen=True)
class Commit:
    subject: str
    body: str


def run_git(repo: Path, *args: str, check: bool = True) -> str:
    try:
        proc = subprocess.run(
            [*_GIT, *args], cwd=repo, capture_output=True, check=False, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        raise GitError("git is not installed", hint="install git and try again") from None
    if check and proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {err[-1] if err else 'exit ' + str(proc.returncode)}")
    return proc.stdout.decode("utf-8", "replace")


def _ok(repo: Path, *args: str) -> bool:
    proc = subprocess.run([*_GIT, *args], cwd=repo, capture_output=True, stdin=subprocess.DEVNULL)
    return proc.returncode == 0


def repo_root(cwd: Path) -> Path:
    if not cwd.is_dir():
        raise GitError(f"not a folder: {cwd}")
    try:
        out = run_git(cwd, "rev-parse", "--show-toplevel")
    except GitError:
        raise GitError(f"not a git repository: {cwd}", hint="run prtriage inside a git repository") from None
    return Path(out.strip())


def has_commits(repo: Path) -> bool:
    return _ok(repo, "rev-parse", "--verify", "-q", "HEAD^{commit}")


def ref_exists(repo: Path, ref: str) -> bool:
    return not ref.startswith("-") and _ok(repo, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}")


def is_shallow(repo: Path) -> bool:
    return run_git(repo, "rev-parse", "--is-shallow-repository", check=False).strip() == "true"


def remote_default_branch(repo: Path, remote: str = "origin") -> str | None:
    """`<remote>/HEAD` as the remote's default branch, else `<remote>/main` or `<remote>/master`."""
    head = run_git(repo, "symbolic-ref", "-q", "--short", f"refs/remotes/{remote}/HEAD", check=False).strip()
    for ref in [*([head] if head else []), f"{remote}/main", f"{remote}/master"]:
        if ref_exists(repo, ref):
            return ref
    return None


def default_base(repo: Path) -> str:
    """The remote's default branch (origin/HEAD), else main or master, local or on origin."""
    found = remote_default_branch(repo) or next((r for r in ("main", "master") if ref_exists(repo, r)), None)
    if found:
        return found
    raise GitError(
        "cannot find a base branch (no origin/HEAD, main or master)",
        hint="pass --base REF, or --staged, or --range A..B",
    )


def commit_id(repo: Path, ref: str) -> str | None:
    """The full id of the commit `ref` names; None for an empty or all-zero ref, or an unknown one."""
    if not ref or set(ref) == {"0"} or not ref_exists(repo, ref):
        return None
    return run_git(repo, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}").strip()


def read_blob(repo: Path, commit: str, path: str) -> bytes | None:
    """The file `path` (from the repository root) as `commit` holds it, or None when it has none.

    Read from the object store, never the working tree: under --github the working tree may be
    the pull request's.
    """
    spec = f"{commit}:{path}"
    if commit.startswith("-") or run_git(repo, "cat-file", "-t", spec, check=False).strip() != "blob":
        return None
    try:
        proc = subprocess.run(
            [*_GIT, "cat-file", "blob", spec], cwd=repo, capture_output=True, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        raise GitError("git is not installed", hint="install git and try again") from None
    if proc.returncode != 0:
        raise _failure("cat-file", proc.stderr, proc.returncode)
    return proc.stdout


def find_merge_base(repo: Path, a: str, b: str) -> str | None:
    return run_git(repo, "merge-base", a, b, check=False).strip() or None


def changed_paths(repo: Path, start: str, end: str) -> list[str]:
    return [p for p in run_git(repo, "diff", "--name-only", "-z", start, end).split("\0") if p]


def has_staged_changes(repo: Path) -> bool:
    return bool(run_git(repo, "diff", "--cached", "--name-only").strip())


def merge_base(repo: Path, base: str, head: str = "HEAD") -> str:
    if not ref_exists(repo, base):
        hint = "fetch it first (in GitHub Actions: actions/checkout with fetch-depth: 0)"
        raise GitError(f"unknown base ref: {base}", hint=hint)
    found = find_merge_base(repo, base, head)
    if found:
        return found
    if is_shallow(repo):
        raise GitError(
            f"no merge base between {base} and {head}: this is a shallow clone",
            hint="fetch full history (actions/checkout with fetch-depth: 0, or git fetch --unshallow)",
        )
    raise GitError(f"no merge base between {base} and {head}: they share no history")


def split_range(spec: str) -> tuple[str, str]:
    """`A..B` or `A...B` as (A, B); an empty side is HEAD, as git reads it."""
    sep = "..." if "..." in spec else ".."
    start, _, end = spec.partition(sep)
    return start or "HEAD", end or "HEAD"


def resolve_range(repo: Path, spec: DiffSpec) -> tuple[str, str] | None:
    """(from, to) commits for the spec, or None for staged changes (index against HEAD)."""
    if spec.staged:
        return None
    if not has_commits(repo):
        raise GitError("the repository has no commits yet", hint="commit first, or use --staged")
    if spec.range:
        start, end = split_range(spec.range)
        for ref in (start, end):
            if not ref_exists(repo, ref):
                raise GitError(f"unknown ref in --range: {ref}", hint="check the name, or fetch it")
        # A..B is what `git log A..B` lists, the commits of B not in A: their change is B against
        # the merge base. Diffing A's tree would add A's later commits, reversed. A...B is the same.
        return merge_base(repo, start, end), end
    base = spec.base or default_base(repo)
    return merge_base(repo, base), "HEAD"


@dataclass(frozen=True)
class AttrSource:
    """How to run git so that it reads `.gitattributes` from one commit only (attributes_from)."""

    options: tuple[str, ...]  # before the subcommand
    env: dict[str, str]
    cwd: Path


@contextmanager
def attributes_from(repo: Path, commit: str | None) -> Iterator[AttrSource]:
    """A way to run git that reads `.gitattributes` from `commit` only.

    git reads attributes from the working tree, and under --github (or any checkout of a pull
    request) that is the head: a head that adds `* -diff` would turn every file binary, and
    `* linguist-generated` hide every file. So git runs in an empty working tree (from inside it:
    git 2.39 still reads the repository's own tree when started elsewhere) with a scratch index
    that holds only `commit`'s `.gitattributes` files (none when `commit` is None: git then
    decides which files are binary by their content alone). The machine's attribute files (system,
    core.attributesFile) are left out too, so every machine reads a change alike. `--attr-source`
    would do this in git 2.40, which the machines this runs on do not have.
    """
    # A failure here shows in the call that follows, with git's own message.
    git_dir = run_git(repo, "rev-parse", "--absolute-git-dir", check=False).strip() or str(repo / ".git")
    with tempfile.TemporaryDirectory(prefix="prtriage-attrs-") as tmp:
        index, tree, empty = Path(tmp, "index"), Path(tmp, "tree"), Path(tmp, "no-attributes")
        tree.mkdir()
        empty.write_bytes(b"")
        env = {**os.environ, "GIT_INDEX_FILE": str(index), "GIT_ATTR_NOSYSTEM": "1"}
        if commit is not None and not commit.startswith("-"):
            listing = run_git(repo, "ls-tree", "-r", "-z", "--full-tree", commit, check=False)
            entries = [
                e for e in listing.split("\0") if e.startswith("100644 blob ") and _is_attributes_file(e)
            ]
            if entries:
                subprocess.run(
                    [*_GIT, "update-index", "-z", "--index-info"], cwd=repo, env=env,
                    input="".join(e + "\0" for e in entries).encode(), capture_output=True, check=False,
                )  # fmt: skip
        options = ("--git-dir", git_dir, "--work-tree", str(tree), "-c", f"core.attributesFile={empty}")
        yield AttrSource(options, env, tree)


def _is_attributes_file(ls_tree_entry: str) -> bool:
    path = ls_tree_entry.split("\t", 1)[-1]
    return path == ".gitattributes" or path.endswith("/.gitattributes")


def diff_args(span: tuple[str, str] | None) -> list[str]:
    if span is None:
        return ["diff", *DIFF_FLAGS, "--cached"]
    return ["diff", *DIFF_FLAGS, span[0], span[1]]


def _drain(stream: IO[bytes], into: list[bytes]) -> threading.Thread:
    """Read `stream` to its end in a thread: a child blocked on a full stderr pipe never ends stdout."""
    thread = threading.Thread(target=lambda: into.append(stream.read()), daemon=True)
    thread.start()
    return thread


def _failure(what: str, stderr: bytes, code: int) -> GitError:
    """git's own last line of stderr (e.g. `fatal: bad object ...`), else its exit status."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return GitError(f"git {what} failed: {lines[-1] if lines else 'exit ' + str(code)}")


def stream_diff(repo: Path, span: tuple[str, str] | None) -> Iterator[str]:
    """Lines of the unified diff, read as git writes them (a huge diff is never held whole).

    No attribute from the change decides what git shows: between two commits no `.gitattributes`
    is read at all, so a file is binary by its content alone (a NUL byte near its start), never
    because the head says `-diff`. Staged changes (your own, under a commit being written) keep
    the attributes of the index.
    """
    if span is None:
        yield from _stream_diff(span, AttrSource((), dict(os.environ), repo))
        return
    with attributes_from(repo, None) as source:
        yield from _stream_diff(span, source)


def _stream_diff(span: tuple[str, str] | None, source: AttrSource) -> Iterator[str]:
    proc = subprocess.Popen(
        [*_GIT, *source.options, *diff_args(span)],
        cwd=source.cwd,
        env=source.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout is not None and proc.stderr is not None
    err: list[bytes] = []
    drain = _drain(proc.stderr, err)
    try:
        for raw in proc.stdout:
            yield raw.decode("utf-8", "replace")
    finally:
        proc.stdout.close()
        if proc.poll() is None and drain.is_alive():
            proc.kill()  # the reader stopped early (an error above): git must not outlive it
        code = proc.wait()
        drain.join()
        proc.stderr.close()
    if code != 0:
        raise _failure("diff", b"".join(err), code)


def commits(repo: Path, revs: str) -> list[Commit]:
    """Commits of `revs` (A..B, or one commit and its whole history), oldest first, merges skipped
    (they repeat their parents' messages)."""
    out = run_git(repo, "log", "--no-merges", "--reverse", "--format=%s%x00%b%x1e", revs)
    result = []
    for record in out.split("\x1e"):
        record = record.strip("\n")
        if record:
            subject, _, body = record.partition("\x00")
            result.append(Commit(subject.strip(), body.strip()))
    return result


def summarize(found: list[Commit]) -> tuple[str, str]:
    """What a pull request of these commits would say: one commit's message, or a list of subjects."""
    if not found:
        return "", ""
    if len(found) == 1:
        return found[0].subject, found[0].body
    return found[0].subject, "\n".join(f"- {c.subject}" for c in found)


def title_and_body(repo: Path, span: tuple[str, str] | None) -> tuple[str, str]:
    return summarize(commits(repo, f"{span[0]}..{span[1]}") if span else [])


def check_attrs(
    repo: Path, paths: list[str], attrs: tuple[str, ...], commit: str | None
) -> dict[str, set[str]]:
    """Which of `attrs` are set (true) for each path, per the `.gitattributes` of `commit` (the
    base of the change: never the head's, nor the working tree's, which a pull request writes)."""
    if not paths:
        return {}
    with attributes_from(repo, commit) as source:
        proc = subprocess.run(
            [*_GIT, *source.options, "check-attr", "--cached", "-z", "--stdin", *attrs],
            cwd=source.cwd,
            env=source.env,
            input="\0".join(paths).encode() + b"\0",
            capture_output=True,
        )
    if proc.returncode != 0:
        return {}
    fields = proc.stdout.decode("utf-8", "replace").split("\0")
    result: dict[str, set[str]] = {}
    for path, attr, value in zip(fields[0::3], fields[1::3], fields[2::3]):
        if value in ("set", "true"):
            result.setdefault(path, set()).add(attr)
    return result


@dataclass(frozen=True)
class LogEntry:
    sha: str
    parents: tuple[str, ...]
    date: str  # ISO 8601, committer date
    subject: str
    body: str


def first_parent_log(repo: Path, since: str | None = None, revs: str = "HEAD") -> list[LogEntry]:
    """The first-parent history of `revs` (HEAD, or A..B), newest first: one entry per change that landed."""
    args = ["log", "--first-parent", "--format=%H%x00%P%x00%cI%x00%s%x00%b%x1e"]
    if since:
        args.append(f"--since={since}")
    out = run_git(repo, *args, revs, "--")
    entries = []
    for record in out.split("\x1e"):
        fields = record.strip("\n").split("\x00")
        if len(fields) == 5 and fields[0]:
            sha, parents, date, subject, body = fields
            entries.append(LogEntry(sha, tuple(parents.split()), date, subject.strip(), body.strip()))
    return entries


_CO_AUTHOR = re.compile(
    r"^[ \t]*Co-authored-by:[ \t]*(?P<name>[^<\n]*?)[ \t]*<(?P<email>[^>\n]*)>", re.IGNORECASE | re.MULTILINE
)


@dataclass(frozen=True)
class Author:
    name: str
    email: str
    sha: str  # the commit they wrote, or whose Co-authored-by trailer names them
    trailer: bool = False  # named by a Co-authored-by trailer (the commit's text), not its author


def authors(repo: Path, revs: str) -> list[Author]:
    """Every author of the non-merge commits of `revs` (A..B), oldest first, with each
    Co-authored-by trailer's person after its commit's author; repeats kept."""
    out = run_git(repo, "log", "--reverse", "--no-merges", "--format=%H%x00%an%x00%ae%x00%B%x1e", revs, "--")
    found = []
    for record in out.split("\x1e"):
        fields = record.strip("\n").split("\x00", 3)
        if len(fields) == 4:
            sha, name, email, body = fields
            found.append(Author(name.strip(), email.strip(), sha))
            found += [
                Author(m["name"].strip(), m["email"].strip(), sha, True) for m in _CO_AUTHOR.finditer(body)
            ]
    return found


def is_tag(repo: Path, name: str) -> bool:
    return not name.startswith("-") and _ok(repo, "rev-parse", "--verify", "-q", f"refs/tags/{name}")


def nearest_tag(repo: Path, ref: str) -> str | None:
    """The newest tag reachable from `ref` (itself when tagged), as `git describe --tags` finds it."""
    if ref.startswith("-"):
        return None
    return run_git(repo, "describe", "--tags", "--abbrev=0", ref, check=False).strip() or None


def commit_diff(repo: Path, entry: LogEntry, max_bytes: int) -> tuple[str, bool]:
    """The change a first-parent commit made (against its first parent), cut at `max_bytes`.

    Stopping at `max_bytes` ends git early, which is no failure; any other non-zero exit is.
    """
    span = (entry.parents[0], entry.sha) if entry.parents else None
    args = diff_args(span) if span else ["show", *DIFF_FLAGS, "--format=", "--root", entry.sha]
    proc = subprocess.Popen(
        [*_GIT, *args], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    assert proc.stdout is not None and proc.stderr is not None
    err: list[bytes] = []
    drain = _drain(proc.stderr, err)
    data = proc.stdout.read(max_bytes + 1)
    cut = len(data) > max_bytes
    if cut:
        proc.kill()  # the rest is not wanted: git ends on a signal, which is expected
    proc.stdout.close()
    code = proc.wait()
    drain.join()
    proc.stderr.close()
    if code != 0 and not cut:
        raise _failure(args[0], b"".join(err), code)
    return data[:max_bytes].decode("utf-8", "replace"), cut
