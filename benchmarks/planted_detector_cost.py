"""What a hostile diff costs the planted-text detector, against a benign diff of the same size.

    python benchmarks/planted_detector_cost.py            # 1 MB each, median of 5 runs, side by side
    python benchmarks/planted_detector_cost.py --mb 0.25 --runs 3 --line 2000

The detector runs on every change prtriage classifies (every `classify`, every batch record), on
text whoever opens the pull request wrote. A regex that backtracks on some shape of input (a long
run of spaces after `#` once took over a second for 8 kB) lets that author stall every run. The
target: the hostile diff's scan time at most 3x the benign one's (docs/security.md quotes it).

Both diffs are the same number of files of about the same size (within the parser's per-file
bound, so all of it is kept and read), each file the same kind in both. The benign one is
ordinary code, comments, strings, config and prose; the hostile one is lines built from the
shapes that make a backtracking pattern retry from every position: long runs of spaces or tabs
after a comment marker or a word the rules start on, runs of escaped quotes that never close,
runs of `](` with no `)`, of `_`, `*`, `<|`, of repeated directive words, very long words, a
verdict ("final answer") then a run of spaces or no-break spaces, characters that NFKC makes
eighteen (U+FDFA); its title and description are of the same shapes, the benign one's of words.
Only `find_planted` is timed (the diff is parsed once, before).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

from prtriage.core.categories import DEFAULT_CATEGORIES
from prtriage.pipeline.change import change_from_diff
from prtriage.pipeline.diff import MAX_KEPT_BYTES_PER_FILE, FileDiff
from prtriage.pipeline.planted_text import find_planted

NAMES = [c.name for c in DEFAULT_CATEGORIES]
FILE_BYTES = MAX_KEPT_BYTES_PER_FILE - 4_000  # each file is kept whole by the parser
LINE = 8_000  # characters of a hostile line (--line); the benign lines are ordinary ones

BENIGN = {
    "src/mod{}.py": [
        "def handler(request, retries=3):",
        "    # Retry the call a few times before giving up on the upstream service.",
        '    message = "could not reach the upstream service after %d tries" % retries',
        "    return send(request, timeout=30)  # seconds",
        '    """Send the request and return the decoded response body."""',
    ],
    "web/comp{}.ts": [
        "export function render(items: Item[]): string {",
        "  /* Render each item as a list entry; empty lists render nothing. */",
        "  return items.map((i) => `<li>${i.name}</li>`).join('')",
        "}",
    ],
    "conf/app{}.yml": ["name: build", "description: Build the docs site and publish it", "  - run: make all"],
    "docs/page{}.md": [
        "The category filter lists every page of a section; see [the guide](https://example.com/g).",
        "Set `retries` in the config to change how many times a request is tried again.",
    ],
}


def _hostile_lines(n: int) -> dict[str, list[str]]:
    run = " " * n
    return {
        "src/mod{}.py": [
            "#" + run + "x",
            "x = 1 #" + "\t" * n + "y",
            '"' + '\\"' * (n // 2) + "\\",
            "'" + "\\'" * (n // 2),
            '"""' + " " * n,
            "category" + run + "x",
            "# " + "_" * n,
            "# " + "ignore " * (n // 7),
            "# " + "use " * (n // 8) + "as " + "the " * (n // 8),
            "# " + "x" * n,
            "# final answer" + run + "x docs",  # a verdict, then white space and no category
        ],
        "web/comp{}.ts": [
            "/*" + run + "x",
            " *" + run + "x",
            "//" + "*" * n,
            "`" + "\\`" * (n // 2),
            "<!--" + run,
            "-- " + " :" * (n // 2),
        ],
        "conf/app{}.yml": [
            "key" + run + ": x",
            "-" + run + "x",
            "label:" + run + "x",
            "category:" + " :" * (n // 2),
        ],
        "docs/page{}.md": [
            "](" * (n // 2),
            "<|" * (n // 2),
            "System" + run + ":",
            "category" + " :" * (n // 2) + "x",
            "http://" + "x" * n,
            "[" * n,
            "\n".join([" " * (n // 4)] * 4),
            "Final answer" + "\u00a0" * n + "x docs",  # no-break spaces: NFKC makes them spaces
            "\ufdfa" * n,  # eighteen characters each once normalised (NFKC)
        ],
    }


def _hostile_fields(n: int) -> tuple[str, str]:
    """A title and a description of the same shapes (the detector reads both whole)."""
    return "final answer" + " " * n + "x docs", "\ufdfa" * n + "\n\nFinal answer" + "\u00a0" * n + "x docs"


def _benign_fields(n: int) -> tuple[str, str]:
    words = "the retry loop backs off " * (n // 25)
    return "Retry " + words, words + "\n\n" + words


def _file(path: str, lines: list[str], size: int, start: int) -> str:
    """A new file of about `size` bytes, of `lines` in turn from the `start`-th."""
    body: list[str] = []
    used = 0
    for i in range(start, start + 100_000):
        line = "+" + lines[i % len(lines)] + "\n"
        if body and used + len(line) > size:
            break
        body.append(line)
        used += len(line)
    added = sum(b.count("\n") for b in body)
    return (
        f"diff --git a/{path} b/{path}\n--- /dev/null\n+++ b/{path}\nnew file mode 100644\n@@ -0,0 +1,{added} @@\n"
        + "".join(body)
    )


def diff_of(total_bytes: int, shapes: dict[str, list[str]]) -> str:
    """Files of each kind in turn, each starting at a different shape, until `total_bytes`."""
    templates = list(shapes)
    n_files = max(len(shapes), total_bytes // FILE_BYTES)
    return "".join(
        _file(
            templates[i % len(templates)].format(i),
            shapes[templates[i % len(templates)]],
            FILE_BYTES,
            i // len(templates),
        )
        for i in range(n_files)
    )


def timer(title: str, body: str, files: list[FileDiff]) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        find_planted(title, body, files, NAMES)
        return time.perf_counter() - start

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=1.0, help="size of each diff in MB (default 1)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--line", type=int, default=LINE, help=f"hostile line length (default {LINE})")
    args = parser.parse_args()
    size = int(args.mb * 1_000_000)
    diffs = {"benign": diff_of(size, BENIGN), "hostile": diff_of(size, _hostile_lines(args.line))}
    fields = {"benign": _benign_fields(args.line), "hostile": _hostile_fields(args.line)}
    runs = {}
    for name, text in diffs.items():
        files = change_from_diff("", "", text.splitlines(True), ()).files
        assert all(not f.cut for f in files), "a file was cut: lower FILE_BYTES"
        runs[name] = timer(*fields[name], files)
    seconds: dict[str, list[float]] = {name: [] for name in diffs}
    for _ in range(args.runs):  # side by side, alternating
        for name, run in runs.items():
            seconds[name].append(run())
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    for name, text in diffs.items():
        print(f"{name:8} {len(text) / 1e6:.2f} MB: median {statistics.median(seconds[name]) * 1000:.0f} ms "
              f"(runs: {', '.join(f'{s * 1000:.0f}' for s in seconds[name])})")  # fmt: skip
    ratio = statistics.median(seconds["hostile"]) / statistics.median(seconds["benign"])
    print(f"hostile / benign: {ratio:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
