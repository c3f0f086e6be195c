"""Per-change time of two adapters side by side: the category scoring, and the reasoning apart.

Both adapters classify the same held-out records in one process each, one after the other, with
the same context and threads, through `prtriage classify --input` (the timings every result
carries: prompt_s, score_s, reasoning_s). Prints medians and p95s, and the ratios of the second
adapter to the first, so a noisy shared machine still gives a fair comparison. The reasoning is
also timed with `reasoning-tokens = 0` (the category alone) for the second adapter.

Usage: python benchmarks/adapter_timings.py --adapter v1=old.gguf --adapter v2=new.gguf \\
           [--records runs/data/test.jsonl] [--limit 20] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from prtriage.pipeline.cpu import speed_flags

KEYS = ("prompt_s", "score_s", "reasoning_s", "total_s")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(adapter: str, records: Path, threads: int, reasoning_tokens: int | None, folder: Path) -> list[dict]:
    out = folder / f"{abs(hash((adapter, reasoning_tokens)))}.jsonl"
    env = dict(os.environ)
    if reasoning_tokens is not None:
        env["PRTRIAGE_REASONING_TOKENS"] = str(reasoning_tokens)
    cmd = [sys.executable, "-m", "prtriage", "classify", "--input", str(records), "--output", str(out),
           "--adapter", adapter, "--threads", str(threads), "--context-size", "512"]  # fmt: skip
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return [json.loads(line)["timings"] for line in out.read_text().splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapter", action="append", required=True, metavar="NAME=FILE")
    parser.add_argument("--records", type=Path, default=Path("runs/data/test.jsonl"))
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    adapters = dict(item.split("=", 1) for item in args.adapter)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sample = folder / "records.jsonl"
        with args.records.open() as f:
            sample.write_text("".join(line for _, line in zip(range(args.limit), f)))
        runs = {name: run(path, sample, args.threads, None, folder) for name, path in adapters.items()}
        last_name, last_path = list(adapters.items())[-1]
        runs[f"{last_name}, reasoning-tokens 0"] = run(last_path, sample, args.threads, 0, folder)
    print(f"{args.limit} records, context 512, {args.threads} thread(s); {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, flags: {speed_flags()}\n")  # fmt: skip
    print("| adapter | " + " | ".join(f"{k} p50 | {k} p95" for k in KEYS) + " | generated tokens p50 |")
    print("| --- | " + " | ".join("---: | ---:" for _ in KEYS) + " | ---: |")
    for name, timings in runs.items():
        cells = " | ".join(f"{pct([t.get(k, 0.0) for t in timings], 0.5):.2f} | "
                           f"{pct([t.get(k, 0.0) for t in timings], 0.95):.2f}" for k in KEYS)  # fmt: skip
        tokens = statistics.median(t.get("generated_tokens", 0.0) for t in timings)
        print(f"| {name} | {cells} | {tokens:.0f} |")
    first, second = list(adapters)[0], list(adapters)[-1]
    for key in ("score_s", "total_s"):
        ratios = [b[key] / a[key] for a, b in zip(runs[first], runs[second]) if a.get(key) and b.get(key)]
        print(f"\n{second}/{first} {key}, per record: median {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
