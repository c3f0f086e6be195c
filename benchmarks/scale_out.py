"""Batch triage in one process against Ray with 1 and 2 actors, side by side in one run.

Each mode runs the whole `prtriage classify --input` command in a process of its own, on the same
sample of real changes (default: held-out test repositories of the v3 split, never used to choose
anything) and on a one-record input, interleaved over --repeats; medians. From those:
records per minute end to end and in the steady state ((N-1) records over the difference of the
two walls, which takes out start-up: Python, the model load, and for Ray its start, the actors'
start and its shutdown), the ratios between modes, Ray's start-up overhead (its one-record wall
over the single process's), and what 100,000 changes would take on N machines, computed from the
measured steady rate per core (not measured). The model, adapter and reasoning length are read
from the results; `--reasoning-tokens 0` (the default here) is the bulk-labelling setting.

Usage: python benchmarks/scale_out.py [--records 60] [--repeats 3] [--reasoning-tokens 0]
           [--data FILE.jsonl.gz] [--repos owner/name,...]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import llama_cpp

from prtriage.pipeline.cpu import available_cores, default_threads, speed_flags

# Held-out test repositories of the v3 split that are in commits-wide.jsonl.gz.
TEST_REPOS = (
    "thorsten/phpMyFAQ,LizardByte/Sunshine,open-feature/dotnet-sdk,apache/opendal,nuxt/nuxt,bpmn-io/bpmn-js,"
    "googleapis/java-bigquery,folke/lazy.nvim,open-feature/java-sdk,feast-dev/feast"
)
# The single process at its default threads (prtriage/pipeline/cpu.py: the cores not busy at its start) is
# what a user gets; with 1 thread it is the per-core baseline. A fixed 2 threads is left out:
# while another process holds a core, llama.cpp's 2 threads collapse (docs/benchmarks.md; a first
# run of this benchmark took 69 s for one record that way, against 2.4 s with 1 thread).
MODES = {
    "single process, 1 thread": ["--threads", "1"],
    "single process, default threads": [],
    "Ray, 1 actor x 1 CPU": ["--ray", "--ray-actors", "1", "--threads", "1"],
    "Ray, 2 actors x 1 CPU": ["--ray", "--ray-actors", "2", "--threads", "1"],
}
CPUS = {"single process, 1 thread": 1, "single process, default threads": available_cores(),
        "Ray, 1 actor x 1 CPU": 1, "Ray, 2 actors x 1 CPU": 2}  # fmt: skip


def sample(data: Path, repos: set[str], n: int, seed: int, out: Path) -> int:
    """n records of these repositories, seeded, as classify input (id, title, body, diff only)."""
    with gzip.open(data, "rt", encoding="utf-8") as f:
        pool = [r for r in map(json.loads, f) if r.get("repo") in repos]
    picked = random.Random(seed).sample(pool, min(n, len(pool)))
    with out.open("w", encoding="utf-8") as f:
        for r in picked:
            f.write(json.dumps({k: r.get(k) for k in ("id", "title", "body", "diff")}) + "\n")
    return len(picked)


def run(mode: str, src: Path, out: Path, reasoning: int) -> float:
    out.unlink(missing_ok=True)
    args = ["classify", "--input", str(src), "--output", str(out), "--reasoning-tokens", str(reasoning)]
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "prtriage", *args, *MODES[mode]], capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr[-3000:]}")
    return wall


def categories(path: Path) -> list[str]:
    return [json.loads(line)["category"] for line in path.read_text().splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reasoning-tokens", type=int, default=0)
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data/commits-wide.jsonl.gz"))
    parser.add_argument("--repos", default=TEST_REPOS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")), "?"
    )
    flags = speed_flags()
    import ray

    print(f"# machine: {model}, {len(os.sched_getaffinity(0))} cores, flags: {flags}; Python "
          f"{platform.python_version()}, llama-cpp-python {llama_cpp.__version__}, ray {ray.__version__}")  # fmt: skip
    print(f"# shared with other work: load avg {os.getloadavg()[0]:.2f} at the start")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        big, one = work / "sample.jsonl", work / "one.jsonl"
        n = sample(args.data, set(args.repos.split(",")), args.records, args.seed, big)
        one.write_text(big.read_text().splitlines(True)[0])
        walls: dict[tuple[str, int], list[float]] = {}
        loads: list[float] = []
        for repeat in range(args.repeats):  # interleaved: each repeat runs every mode once
            for mode in MODES:
                for src, count in ((one, 1), (big, n)):
                    chose = f", default {default_threads()} threads" if not MODES[mode] else ""
                    wall = run(mode, src, work / f"{mode}-{count}.jsonl", args.reasoning_tokens)
                    walls.setdefault((mode, count), []).append(wall)
                    loads.append(os.getloadavg()[0])
                    print(f"  repeat {repeat + 1}: {mode}, {count} records: {wall:.1f} s (load {loads[-1]:.2f}"
                          f"{chose})", flush=True)  # fmt: skip
        first = json.loads((work / f"{next(iter(MODES))}-{n}.jsonl").read_text().splitlines()[0])
        agree = {m: categories(work / f"{m}-{n}.jsonl") for m in MODES}
    report(walls, n, args.reasoning_tokens, first, agree, loads)


def report(
    walls: dict[tuple[str, int], list[float]], n: int, reasoning: int, first: dict[str, object],
    agree: dict[str, list[str]], loads: list[float],
) -> None:  # fmt: skip
    med = {key: statistics.median(v) for key, v in walls.items()}
    steady = {m: (n - 1) / max(med[(m, n)] - med[(m, 1)], 1e-9) * 60 for m in MODES}
    end = {m: n / med[(m, n)] * 60 for m in MODES}
    base = next(iter(MODES))
    print(f"\nmodel {first['model']}, adapter {first['adapter']}, reasoning {reasoning} tokens, "
          f"{n} records; medians of {len(next(iter(walls.values())))} interleaved repeats; load avg "
          f"{min(loads):.2f}-{max(loads):.2f} during the runs\n")  # fmt: skip
    print("| mode | CPUs | wall, 1 record s | wall, N records s | records/min end to end | steady records/min | "
          "steady per CPU | steady vs 1 thread |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for m in MODES:
        print(f"| {m} | {CPUS[m]} | {med[(m, 1)]:.1f} | {med[(m, n)]:.1f} | {end[m]:.1f} | {steady[m]:.1f} | "
              f"{steady[m] / CPUS[m]:.1f} | {steady[m] / steady[base]:.2f}x |")  # fmt: skip
    ray1, ray2, single2 = "Ray, 1 actor x 1 CPU", "Ray, 2 actors x 1 CPU", "single process, default threads"
    print(f"\nRay 2 actors / Ray 1 actor (steady): {steady[ray2] / steady[ray1]:.2f}x; "
          f"Ray 2 actors / single process, default threads: steady {steady[ray2] / steady[single2]:.2f}x, "
          f"end to end {end[ray2] / end[single2]:.2f}x")  # fmt: skip
    overhead = [med[(r, 1)] - med[(base, 1)] for r in (ray1, ray2)]
    print(f"Ray's start-up overhead (one-record wall over the single process's): "
          f"{overhead[0]:.1f} s with 1 actor, {overhead[1]:.1f} s with 2")  # fmt: skip
    same = {m: sum(a == b for a, b in zip(agree[m], agree[base])) for m in MODES}
    print("same category as the single process, 1 thread: " + ", ".join(f"{m} {same[m]}/{n}" for m in MODES))
    per_cpu = steady[ray2] / 2
    print(f"\n100,000 changes, COMPUTED (not measured) from the steady rate per CPU of Ray with 2 actors "
          f"({per_cpu:.1f} records/min) plus its 2-actor start-up ({med[(ray2, 1)]:.0f} s):\n")  # fmt: skip
    print("| machines | CPUs each | wall time |")
    print("| ---: | ---: | ---: |")
    for cores in (2, 16):
        for machines in (1, 4, 16, 64):
            minutes = 100_000 / (per_cpu * cores * machines) + med[(ray2, 1)] / 60
            print(f"| {machines} | {cores} | {_duration(minutes)} |")
    print(f"# load avg at the end {os.getloadavg()[0]:.2f}")


def _duration(minutes: float) -> str:
    """Hours and minutes, so a 64-machine row does not round to "0.0 hours"."""
    hours, rest = divmod(round(minutes), 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


if __name__ == "__main__":
    main()
