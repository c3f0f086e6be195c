"""The masking question (issue 4, item 7): the same fine-tune with the prompt's tokens weighted 0, 0.1, 1.0.

    python benchmarks/masking.py train --data runs/data/train-balanced.jsonl [--resume]
    python benchmarks/masking.py eval [--per-category 30]
    python benchmarks/masking.py table

`train` runs `prtriage train fit` once per weight with benchmarks/masking.yaml (same data, order,
steps, seed and LoRA; only prompt_loss_weight differs), all at once so that other load on the
machine hits each run alike, and records each run's peak resident memory (the process's own
ru_maxrss, from wait4) and training-loop time (metrics.jsonl). `eval` exports each adapter and
runs `prtriage eval` on the held-out repositories' sample of v1's evaluation (goreleaser and vitest,
same records, balanced by category, seed 0), at the training context. `table` prints the markdown table of docs/masking.md from what the other two wrote.
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

from prtriage.core.categories import DEFAULT_CATEGORIES
from prtriage.evaluation.metrics import paired_bootstrap
from prtriage.evaluation.prediction_record import Prediction, load_predictions

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "masking.yaml"
DATA = HERE.parents[1] / "shared" / "data" / "commits-train.jsonl.gz"
TEST_REPOS = "goreleaser/goreleaser,vitest-dev/vitest"  # v1's test repositories (docs/model.md, History)
NAMES = [c.name for c in DEFAULT_CATEGORIES]
WEIGHTS = ("0", "0.1", "1.0")


def run_dir(out: Path, weight: str) -> Path:
    return out / f"w{weight}"


def _fit_command(args: argparse.Namespace, weight: str) -> list[str]:
    cmd = ["prtriage", "train", "fit", "--config", str(CONFIG), "--data", str(args.data),
           "--set", f"output_dir={run_dir(args.out, weight)}", "--set", f"prompt_loss_weight={weight}"]  # fmt: skip
    if args.max_steps:
        cmd += ["--set", f"max_steps={args.max_steps}"]
    return cmd + (["--resume"] if args.resume else [])


def sessions(steps: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """metrics.jsonl cut where a resumed session starts again (its step goes back, its clock restarts)."""
    found: list[list[dict[str, Any]]] = []
    for m in steps:
        if not found or m["step"] <= found[-1][-1]["step"]:
            found.append([])
        found[-1].append(m)
    return found


def loop_seconds(steps: list[dict[str, Any]]) -> float:
    """Training-loop time over all sessions, each counted up to the checkpoint the next resumed from."""
    runs = sessions(steps)
    total = 0.0
    for done, after in zip(runs, runs[1:]):
        resumed_at = after[0]["step"] - 1  # steps past the checkpoint were lost, and are not counted
        total += max((m["elapsed_s"] for m in done if m["step"] <= resumed_at), default=0.0)
    return total + runs[-1][-1]["elapsed_s"]


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
            "train_s": round(loop_seconds(steps), 1),
            "steps": steps[-1]["step"],
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),  # this session's, setup included
        }
        (run_dir(args.out, weight) / "resources.json").write_text(json.dumps(resources, indent=2) + "\n")
        print(f"weight {weight}: {resources}")
    if failed:
        sys.exit(1)


def _eval_command(args: argparse.Namespace, run: Path) -> list[str]:
    return ["prtriage", "eval", "--input", str(args.data), "--repos", TEST_REPOS,
            "--limit", str(args.per_category * len(NAMES)), "--seed", "0", "--adapter", str(run / "adapter.gguf"),
            "--context-size", str(args.context_size), "--threads", str(args.threads),
            "--report", str(run / "eval.json"), "--predictions", str(run / "predictions.jsonl")]  # fmt: skip


def evaluate(args: argparse.Namespace) -> None:
    """Export each run's adapter, then evaluate the runs side by side, `--threads` each."""
    weights = args.weights.split(",") if args.weights else WEIGHTS
    for weight in weights:
        run = run_dir(args.out, weight)
        if not (run / "adapter.gguf").exists():
            subprocess.run(["prtriage", "train", "export", "--run", str(run), "--output", str(run / "model-q8_0.gguf"),
                            "--adapter-output", str(run / "adapter.gguf"), "--threads", str(args.threads)],
                           check=True)  # fmt: skip
    procs = []
    for weight in weights:
        run = run_dir(args.out, weight)
        log = (args.out / f"eval-w{weight}.log").open("w", encoding="utf-8")
        procs.append(
            (weight, subprocess.Popen(_eval_command(args, run), stdout=log, stderr=subprocess.STDOUT))
        )
    failed = [w for w, proc in procs if proc.wait() != 0]
    if failed:
        sys.exit(f"eval failed for weight(s) {', '.join(failed)}; see {args.out}/eval-w*.log")


def side_by_side_step_s(steps: list[dict[str, Any]]) -> float:
    """Median seconds per optimizer step in the first session, when the three runs shared the machine."""
    first = sessions(steps)[0]
    times = sorted(b["elapsed_s"] - a["elapsed_s"] for a, b in zip(first, first[1:]) if "eval_loss" not in b)
    return times[len(times) // 2]


def _predictions(run: Path) -> list[Prediction]:
    return load_predictions(run / "predictions.jsonl")


def table(args: argparse.Namespace) -> None:
    print("| prompt-loss weight | macro-F1 | accuracy | s/step side by side | training time | peak memory |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for weight in WEIGHTS:
        run = run_dir(args.out, weight)
        res = json.loads((run / "resources.json").read_text())
        ev = json.loads((run / "eval.json").read_text())
        steps = [json.loads(line) for line in (run / "metrics.jsonl").open()]
        print(f"| {weight} | {ev['macro_f1']:.3f} | {ev['accuracy']:.3f} | {side_by_side_step_s(steps):.1f} "
              f"| {res['train_s'] / 60:.0f} min | {res['peak_rss_mib']:,} MiB |")  # fmt: skip
    masked = _predictions(run_dir(args.out, WEIGHTS[0]))
    for weight in WEIGHTS[1:]:
        low, high = paired_bootstrap(masked, _predictions(run_dir(args.out, weight)), NAMES)
        print(f"\nmacro-F1 of weight {weight} minus weight 0: 95% paired bootstrap interval [{low:+.3f}, {high:+.3f}]",
              end="")  # fmt: skip
    print()


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
    p.add_argument(
        "--data", type=Path, default=DATA, help="the shared data; the held-out repositories are read"
    )
    p.add_argument("--per-category", type=int, default=30)
    p.add_argument("--context-size", type=int, default=512)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--weights", help="only these runs (comma-separated, e.g. 0,0.1); default all three")
    sub.add_parser("table")
    args = parser.parse_args()
    {"train": train, "eval": evaluate, "table": table}[args.phase](args)


if __name__ == "__main__":
    main()
