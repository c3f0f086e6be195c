"""Batch memory: the peak RSS of `prtriage classify --input`, `--resume` and `prtriage merge` at
10,000 and 100,000 records, side by side in one run, with the fake engine.

The engine is tests/fake_engine.py's, loaded the way a Ray worker loads one
(PRTRIAGE_ENGINE=fake_engine:factory), so what is measured is prtriage's own streaming: the
pre-pass index, the result journal and the merge, not a model. Each command runs in its own
process; its peak RSS comes from wait4(). Records are synthetic (about 1.7 KB each, a bounded
vocabulary so the fake tokenizer's vocabulary stays small); the floor is `prtriage --help`.

Usage: python benchmarks/batch_memory.py [--sizes 10000,100000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from prtriage.pipeline.cpu import speed_flags

ROOT = Path(__file__).resolve().parents[1]
WORDS = ["value", "items", "result", "config", "parser", "token", "offset", "buffer", "return", "index"]


def write_records(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            added = "".join("+    " + " ".join(rng.choice(WORDS) for _ in range(8)) + "\n" for _ in range(30))
            name = f"src/module_{i % 97}.py"
            diff = f"diff --git a/{name} b/{name}\n--- a/{name}\n+++ b/{name}\n@@ -1,1 +1,31 @@\n def f():\n{added}"
            f.write(
                json.dumps({"id": f"org/repo#{i}", "title": f"Change {rng.choice(WORDS)}", "diff": diff})
                + "\n"
            )


def peak_rss(args: list[str], cwd: Path) -> tuple[float, float]:
    """(peak RSS in MiB, wall seconds) of `prtriage ARGS` in a process of its own."""
    env = {
        **os.environ, "PRTRIAGE_ENGINE": "fake_engine:factory",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]),
    }  # fmt: skip
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "prtriage", *args], cwd=cwd, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"prtriage {' '.join(args)} failed:\n{err.decode()[-2000:]}")
    return usage.ru_maxrss / 1024, wall


def measure(n: int, work: Path) -> dict[str, float]:
    src = work / f"in-{n}.jsonl"
    write_records(src, n)
    out = work / f"out-{n}.jsonl"
    row: dict[str, float] = {"records": n, "input_mib": src.stat().st_size / 2**20}
    row["classify"], row["classify_s"] = peak_rss(
        ["classify", "--input", src.name, "--output", out.name], work
    )
    # Files are made line by line: a child forked from a large parent counts the parent's pages
    # in its own peak RSS until it execs (a first run of this benchmark measured that).
    # --resume: half the results in OUTPUT.partial, the rest classified.
    resumed = work / f"resumed-{n}.jsonl"
    with out.open("rb") as f, open(f"{resumed}.partial", "wb") as partial:
        for _, line in zip(range(n // 2), f):
            partial.write(line)
    row["resume"], _ = peak_rss(["classify", "--input", src.name, "--output", resumed.name, "--resume"], work)
    # merge: the results dealt into two files, every other line, joined back in input order.
    halves = [work / f"half{k}-{n}.jsonl" for k in (0, 1)]
    with out.open("rb") as f, halves[0].open("wb") as even, halves[1].open("wb") as odd:
        for i, line in enumerate(f):
            (odd if i % 2 else even).write(line)
    merged = work / f"merged-{n}.jsonl"
    row["merge"], _ = peak_rss(
        ["merge", "--input", src.name, "-o", merged.name, *(h.name for h in halves)], work
    )
    assert _ids(merged) == _ids(resumed) == _ids(out) and merged.read_bytes() == out.read_bytes()
    for path in (src, out, resumed, merged, *halves):
        path.unlink()
    return row


def _ids(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)["id"] for line in f]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--workdir", type=Path, help="where the records go (default: a temp folder)")
    args = parser.parse_args()
    print(f"# machine: {platform.machine()}, {len(os.sched_getaffinity(0))} cores, flags: {speed_flags()}; "
          f"Python {platform.python_version()}; load avg {os.getloadavg()[0]:.2f}")  # fmt: skip
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        floor, _ = peak_rss(["--help"], work)
        rows = [measure(int(n), work) for n in args.sizes.split(",")]
    print(f"floor (prtriage --help): {floor:.0f} MiB peak RSS\n")
    print(
        "| records | input MiB | classify MiB | --resume (half done) MiB | merge (2 files) MiB | classify records/s |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['records']:,.0f} | {r['input_mib']:.0f} | {r['classify']:.0f} | {r['resume']:.0f} | "
              f"{r['merge']:.0f} | {r['records'] / r['classify_s']:.0f} |")  # fmt: skip
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        ratios = ", ".join(f"{k} {last[k] / first[k]:.2f}x" for k in ("classify", "resume", "merge"))
        print(f"\npeak RSS at {last['records']:,.0f} over {first['records']:,.0f} records: {ratios} "
              f"(input {last['input_mib'] / first['input_mib']:.1f}x)")  # fmt: skip
    print(f"# load avg at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
