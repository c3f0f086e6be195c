"""Unified diff → files and hunks, each file with its kind (source, test, config, docs) or skip reason."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from prtriage.core.escape import valid_text

# Bounded memory for huge diffs: hunk text kept per file and in all. A context of a few thousand
# tokens holds a few tens of kB of diff, so keeping more would only cost memory.
MAX_KEPT_BYTES_PER_FILE = 64_000
MAX_KEPT_BYTES_TOTAL = 8_000_000

SOURCE, TEST, CONFIG, DOCS = "source", "test", "config", "docs"
KIND_RANK = {SOURCE: 0, TEST: 1, CONFIG: 2, DOCS: 3}

LOCK_FILES = (
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
    "bun.lock", "poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock", "Cargo.lock", "go.sum",
    "Gemfile.lock", "composer.lock", "mix.lock", "pubspec.lock", "Podfile.lock", "flake.lock",
    "packages.lock.json", "gradle.lockfile", "deno.lock",
)  # fmt: skip
GENERATED_GLOBS = (
    "*.min.js", "*.min.css", "*.map", "*_pb2.py", "*_pb2_grpc.py", "*.pb.go", "*.pb.cc", "*.pb.h",
    "*.g.dart", "*.designer.cs", "*.generated.*", "dist/*", "*/dist/*",
)  # fmt: skip
VENDORED_GLOBS = (
    "vendor/*", "*/vendor/*", "node_modules/*", "*/node_modules/*", "third_party/*",
    "*/third_party/*", "third-party/*", "*/third-party/*",
)  # fmt: skip

# The .gitattributes that mark a file generated or vendored (what GitHub's linguist reads); git is
# asked for these, and `skip_reason` gets the ones set on each file.
LINGUIST_ATTRS = ("linguist-generated", "linguist-vendored")

_TEST = re.compile(
    r"(^|/)(tests?|__tests__|spec|specs|testing|e2e|__snapshots__|__fixtures__|fixtures|testdata)/"
    r"|(^|/)test_[^/]*\.py$|_test\.(py|go|rb|exs?|cc|cpp|c)$|\.(test|spec)\.[a-z0-9]+$|_spec\.rb$"
    r"|(^|/)(conftest\.py|[^/]*Tests?\.(java|kt|cs|swift))$"
)
_DOCS = re.compile(
    r"(^|/)(docs?|documentation)/|\.(md|mdx|rst|adoc|txt|markdown)$"
    r"|(^|/)(README|CHANGELOG|CONTRIBUTING|LICENSE|AUTHORS|NOTICE|COPYING)[^/]*$",
    re.IGNORECASE,
)
_CONFIG = re.compile(
    r"\.(json|jsonc|ya?ml|toml|ini|cfg|conf|properties|xml|lock|gradle|env)$"
    r"|(^|/)\.[^/]+$|(^|/)\.github/|(^|/)(Dockerfile|Makefile|CMakeLists\.txt|[^/]*\.mk|"
    r"setup\.py|go\.mod|Gemfile|Justfile|Procfile|renovate\.json5?)$"
)
_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_HEADERS = ("diff --git ", "@@ -")


@dataclass
class FileDiff:
    path: str
    old_path: str | None = None  # set for renames and copies
    status: str = "modified"  # added, deleted, modified, renamed
    binary: bool = False
    additions: int = 0
    deletions: int = 0
    hunks: list[str] = field(default_factory=list)
    cut: bool = False  # hunk text beyond the memory bounds was not kept
    skip: str | None = None  # why the file is never shown: binary, lock file, generated, ...

    @property
    def kind(self) -> str:
        return classify_path(self.path)

    @property
    def header(self) -> str:
        """The file's `--- / +++` lines, as the model sees them above its hunks."""
        old = "/dev/null" if self.status == "added" else f"a/{self.old_path or self.path}"
        new = "/dev/null" if self.status == "deleted" else f"b/{self.path}"
        return f"--- {old}\n+++ {new}\n"


def classify_path(path: str) -> str:
    if _TEST.search(path):
        return TEST
    if _DOCS.search(path):
        return DOCS
    if _CONFIG.search(path):
        return CONFIG
    return SOURCE


def prompt_order(files: Iterable[FileDiff]) -> list[FileDiff]:
    """The files whose hunks the prompt may show, in the order it shows them: by kind (source,
    tests, config, docs), smaller first within a kind, so that a large file cannot crowd out
    every other file. The planted-text detector reads them in this order too."""
    shown = [f for f in files if f.skip is None and f.hunks]
    return sorted(shown, key=lambda f: (KIND_RANK[f.kind], f.additions + f.deletions, f.path))


def matches_any(path: str, globs: Iterable[str]) -> bool:
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(path, g) or fnmatch.fnmatchcase(name, g) for g in globs)


def skip_reason(path: str, binary: bool, user_globs: Iterable[str], attrs: set[str]) -> str | None:
    """Why a file's content is left out of the prompt (it is still listed with its counts)."""
    if binary:
        return "binary"
    if path.rsplit("/", 1)[-1] in LOCK_FILES:
        return "lock file"
    if "linguist-generated" in attrs or matches_any(path, GENERATED_GLOBS):
        return "generated"
    if "linguist-vendored" in attrs or matches_any(path, VENDORED_GLOBS):
        return "vendored"
    if matches_any(path, user_globs):
        return "excluded by config"
    return None


def _unquote(path: str) -> str:
    """git's C-style quoting of unusual paths ("a/t\\303\\251st"), undone."""
    if not (path.startswith('"') and path.endswith('"')):
        return path
    raw = path[1:-1].encode("utf-8")
    out = bytearray()
    i = 0
    escapes = {ord("n"): 10, ord("t"): 9, ord('"'): 34, ord("\\"): 92, ord("a"): 7, ord("b"): 8,
               ord("f"): 12, ord("r"): 13, ord("v"): 11}  # fmt: skip
    while i < len(raw):
        if raw[i] == 92 and i + 1 < len(raw):
            octal = raw[i + 1 : i + 4]
            if len(octal) == 3 and all(48 <= c <= 55 for c in octal) and int(octal, 8) <= 255:
                out.append(int(octal, 8))
                i += 4
                continue
            out.append(escapes.get(raw[i + 1], raw[i + 1]))
            i += 2
            continue
        out.append(raw[i])
        i += 1
    return out.decode("utf-8", "replace")


def _strip_prefix(path: str) -> str | None:
    path = _unquote(path.rstrip("\n").split("\t", 1)[0])
    if path == "/dev/null":
        return None
    return path[2:] if path[:2] in ("a/", "b/") else path


def _paths_from_git_line(line: str) -> tuple[str, str]:
    """Paths from `diff --git a/X b/Y`; only used when no ---/+++ or rename lines follow."""
    rest = line[len("diff --git ") :].rstrip("\n")
    if rest.startswith('"'):
        end = rest.index('"', 1) + 1 if '"' in rest[1:] else len(rest)
        return _strip_prefix(rest[:end]) or "", _strip_prefix(rest[end:].strip()) or ""
    half = len(rest) // 2  # unquoted, same name on both sides: "a/X b/X"
    return _strip_prefix(rest[:half]) or "", _strip_prefix(rest[half + 1 :]) or ""


class _Parser:
    def __init__(self) -> None:
        self.files: list[FileDiff] = []
        self.kept_total = 0
        self.current: FileDiff | None = None
        self.hunk: list[str] = []
        self.old_left = self.new_left = 0
        self.minus_path: str | None = None
        self.git_old = ""  # the current file's old path from its `diff --git` line
        self.file_bytes = 0  # hunk bytes kept for the current file

    def feed(self, line: str) -> None:
        f = self.current
        # A hunk line starts with ' ', '+', '-' or '\\': a file or hunk header inside a hunk means
        # the hunk's header promised more lines than came (a cut patch), never content.
        if f is not None and (self.old_left > 0 or self.new_left > 0) and not line.startswith(_HEADERS):
            self._hunk_line(f, line)
            return
        if line.startswith("diff --git "):
            self._close_hunk()
            old, new = _paths_from_git_line(line)
            self.current = FileDiff(path=new)
            self.files.append(self.current)
            self.git_old, self.file_bytes, self.minus_path = old, 0, None
        elif f is None:
            return
        elif line.startswith("@@"):
            self._close_hunk()
            m = _HUNK.match(line)
            if m:
                self.old_left = int(m.group(1)) if m.group(1) is not None else 1
                self.new_left = int(m.group(2)) if m.group(2) is not None else 1
                self._keep(f, line)
        elif line.startswith("--- "):
            self.minus_path = _strip_prefix(line[4:])
            if self.minus_path is None:
                f.status = "added"
        elif line.startswith("+++ "):
            plus = _strip_prefix(line[4:])
            if plus is None:
                f.status, f.path = "deleted", self.minus_path or f.path
            else:
                f.path = plus
        elif line.startswith("new file mode"):
            f.status = "added"
        elif line.startswith("deleted file mode"):
            f.status = "deleted"
            f.path = self.git_old or f.path
        elif line.startswith(("rename from ", "copy from ")):
            f.old_path = _unquote(line.split(" ", 2)[2].rstrip("\n"))
        elif line.startswith(("rename to ", "copy to ")):
            f.path = _unquote(line.split(" ", 2)[2].rstrip("\n"))
            f.status = "renamed"
        elif line.startswith("Binary files ") or line.startswith("GIT binary patch"):
            f.binary = True

    def _hunk_line(self, f: FileDiff, line: str) -> None:
        tag = line[:1]
        if tag == "+":
            f.additions += 1
            self.new_left -= 1
        elif tag == "-":
            f.deletions += 1
            self.old_left -= 1
        elif tag == "\\":  # "\ No newline at end of file"
            pass
        else:  # context line (a blank line in a hunk can lose its leading space)
            self.old_left -= 1
            self.new_left -= 1
        self._keep(f, line if line.endswith("\n") else line + "\n")

    def _keep(self, f: FileDiff, line: str) -> None:
        size = len(line)
        if (
            f.cut
            or self.file_bytes + size > MAX_KEPT_BYTES_PER_FILE
            or (self.kept_total + size > MAX_KEPT_BYTES_TOTAL)
        ):
            f.cut = True
            return
        self.hunk.append(line)
        self.file_bytes += size
        self.kept_total += size

    def _close_hunk(self) -> None:
        f = self.current
        if f is not None and self.hunk:
            f.hunks.append("".join(self.hunk))
        self.hunk = []
        self.old_left = self.new_left = 0

    def finish(self) -> list[FileDiff]:
        self._close_hunk()
        return self.files


def parse_diff(lines: Iterable[str]) -> list[FileDiff]:
    """Parse `git diff` output line by line; hunk text is kept within the memory bounds above.

    Lines are made valid text first: a diff from JSON (a record, the API) may hold lone surrogates,
    which the tokenizer cannot encode.
    """
    parser = _Parser()
    for line in lines:
        parser.feed(valid_text(line))
    return parser.finish()


def mark_skipped(files: list[FileDiff], user_globs: Iterable[str], attrs: dict[str, set[str]]) -> None:
    globs = tuple(user_globs)
    for f in files:
        f.skip = skip_reason(f.path, f.binary, globs, attrs.get(f.path, set()))
