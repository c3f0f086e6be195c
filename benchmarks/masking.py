"""The masking question (issue 4, item 7): the same fine-tune with the prompt's tokens weighted 0, 0.1, 1.0.

    python benchmarks/masking.py train --data runs/data/train-balanced.jsonl [--resume]
    python benchmarks/masking.py eval --test runs/data/test.jsonl [--limit 300]
    python benchmarks/masking.py table

`train` runs `prtriage train fit` once per weight with benchmarks/masking.yaml (same data, order,
steps, seed and LoRA; only prompt_loss_weight differs), all at once so that other load on the
machine hits each run alike, and records each run's peak resident memory (the process's own
ru_maxrss, from wait4) and training-loop time (metrics.jsonl). `eval` exports each adapter and
runs `prtriage eval` on a sample of held-out repositories balanced by category, at the training
context. `table` prints the markdown table of docs/masking.md from what the other two wrote.
Weight 1.0 is `train_on_inputs: true`: every token of the prompt counts as much as the answer.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "masking.yaml"
WEIGHTS = ("0", "0.1", "1.0")


def run_dir(out: Path, weight: str) -> Path:
    return out / f"w{weight}"


def _fit_command(args: argparse.Namespace, weight: str) -> list[str]:
    cmd = ["prtriage", "train", "fit", "--config", str(CONFIG), "--data", str(args.data),
           "--set", f"output_dir={run_dir(args.out, weight)}", "--set", f"prompt_loss_weight={weight}"]  # fmt: skip
    if args.max_steps:
        cmd += ["--set", f"max_steps={args.max_steps}"]
    return cmd + (["--resume"] if args.resume else [])


def train(args: argparse.Namespace) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    running: dict[int, tuple[str, Any]] = {}
    for weight in WEIGHTS:
        log = (args.out / f"w{weight}.log").open("a", encoding="utf-8")
        proc = subprocess.Popen(_fit_command(args, weight), stdout=log, stderr=subprocess.STDOUT)
        running[proc.pid] = (weight, log)
    failed = []
    while running:
        pid, status, usage = os.wait4(-1, 0)
        weight, log = running.pop(pid)
        log.close()
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            failed.append(weight)
            print(f"weight {weight}: fit failed ({code}); see {args.out / f'w{weight}.log'}")
            continue
        steps = [json.loads(line) for line in (run_dir(args.out, weight) / "metrics.jsonl").open()]
        resources = {
            "prompt_loss_weight": float(weight),
            "peak_rss_mib": round(usage.ru_maxrss / 1024),  # Linux reports KiB
            "train_s": steps[-1]["elapsed_s"],  # the loop (of the last session when resumed)
            "steps": steps[-1]["step"],
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        }
        (run_dir(args.out, weight) / "resources.json").write_text(json.dumps(resources, indent=2) + "\n")
        print(f"weight {weight}: {resources}")
    if failed:
        sys.exit(1)


def evaluate(args: argparse.Namespace) -> None:
    for weight in WEIGHTS:
        run = run_dir(args.out, weight)
        adapter = run / "adapter.gguf"
        if not adapter.exists():
            subprocess.run(["prtriage", "train", "export", "--run", str(run), "--output", str(run / "model-q8_0.gguf"),
                            "--adapter-output", str(adapter), "--threads", str(args.threads)], check=True)  # fmt: skip
        subprocess.run(["prtriage", "eval", "--input", str(args.test), "--adapter", str(adapter),
                        "--context-size", str(args.context_size), "--threads", str(args.threads),
                        "--limit", str(args.limit), "--seed", "0", "--report", str(run / "eval.json")],
                       check=True)  # fmt: skip


def table(args: argparse.Namespace) -> None:
    print("| prompt-loss weight | macro-F1 | accuracy | training time | CPU time | peak memory |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for weight in WEIGHTS:
        run = run_dir(args.out, weight)
        res = json.loads((run / "resources.json").read_text())
        ev = json.loads((run / "eval.json").read_text())
        print(f"| {weight} | {ev['macro_f1']:.3f} | {ev['accuracy']:.3f} | {res['train_s'] / 60:.0f} min "
              f"| {res['cpu_s'] / 60:.0f} min | {res['peak_rss_mib']:,} MiB |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("runs/masking"))
    sub = parser.add_subparsers(dest="phase", required=True)
    p = sub.add_parser("train")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--max-steps", type=int)
    p.add_argument("--resume", action="store_true")
    p = sub.add_parser("eval")
    p.add_argument("--test", type=Path, required=True)
    p.add_argument("--limit", type=int, default=300)
    p.add_argument("--context-size", type=int, default=512)
    p.add_argument("--threads", type=int, default=2)
    sub.add_parser("table")
    args = parser.parse_args()
    {"train": train, "eval": evaluate, "table": table}[args.phase](args)


if __name__ == "__main__":
    main()
