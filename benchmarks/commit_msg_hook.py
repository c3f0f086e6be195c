"""The commit-msg hook's time next to `prtriage --version`, and how often its quick check warns.

1. Time, measured side by side in one run (interleaved repeats, medians): `prtriage --version`,
   the commit-msg hook (`prtriage classify --commit-msg FILE`: declared type, path rules and the
   lexical model, no LLM) and, for reference, the model on the same staged change
   (`prtriage classify --staged`, what the hook ran before 0.2.0), each a fresh process on a
   small repository made here. Prints each median and its ratio to `--version` (target: the hook
   at most 2x).
2. With --records FILE.jsonl (labelled change records with their Conventional Commits `type`,
   e.g. runs/v3/data/test.jsonl from examples/v3/data.py: the held-out repositories), how often
   the hook warns given each commit's own type (false alarms, taking the author's type as the
   truth) and given a wrong type drawn at random (catches); beside it, the lexical model's first
   choice alone.

Usage: python benchmarks/commit_msg_hook.py [--repeats 15] [--no-model] [--records FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIT_ENV = {"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_COMMITTER_NAME": "Ada",
           "GIT_COMMITTER_EMAIL": "ada@example.com", "GIT_CONFIG_NOSYSTEM": "1"}  # fmt: skip
TYPE_OF = {"feature": "feat", "deps": "chore(deps)"}  # a category's Conventional Commits type, else its name


def staged_repo(root: Path) -> Path:
    """main with a division function, and a guard against zero staged on top."""
    repo = root / "demo"
    (repo / "src").mkdir(parents=True)

    def git(*args: str) -> None:
        subprocess.run(
            ["git", *args], cwd=repo, check=True, capture_output=True, env={**os.environ, **GIT_ENV}
        )

    git("init", "-q", "-b", "main")
    (repo / "src" / "app.py").write_text("def div(a, b):\n    return a / b\n")
    git("add", ".")
    git("commit", "-qm", "init")
    (repo / "src" / "app.py").write_text(
        "def div(a, b):\n    if b == 0:\n        raise ValueError('b is zero')\n    return a / b\n"
    )
    git("add", ".")
    (repo / ".git" / "COMMIT_EDITMSG").write_text("fix: raise a clear error on division by zero\n")
    return repo


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr}")
    return took


def timings(repeats: int, with_model: bool) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRTRIAGE_")}
    env.update(GIT_ENV)
    if "PRTRIAGE_CACHE_DIR" in os.environ:
        env["PRTRIAGE_CACHE_DIR"] = os.environ["PRTRIAGE_CACHE_DIR"]
    prtriage = [sys.executable, "-m", "prtriage"]
    commands = {
        "prtriage --version": [*prtriage, "--version"],
        "commit-msg hook (no LLM)": [*prtriage, "classify", "--commit-msg", ".git/COMMIT_EDITMSG"],
    }
    if with_model:
        commands["classify --staged (the model)"] = [*prtriage, "classify", "--staged"]
    with tempfile.TemporaryDirectory() as tmp:
        repo = staged_repo(Path(tmp))
        for argv in commands.values():  # warm: the lexical index, the model's Q8_0 copy, the OS cache
            timed(argv, repo, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(repeats):
            for name, argv in commands.items():  # interleaved: a busy moment hits every command
                times[name].append(timed(argv, repo, env))
    base = statistics.median(times["prtriage --version"])
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
          f"{repeats} interleaved runs each, medians")  # fmt: skip
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:32} {median * 1000:7.0f} ms  {median / base:5.2f}x --version")
    ratio = statistics.median(times["commit-msg hook (no LLM)"]) / base
    print(f"commit-msg hook / --version: {ratio:.2f}x (target: at most 2x)")


def agreement(path: Path, limit: int | None, seed: int) -> None:
    from prtriage.core.settings import Settings
    from prtriage.evaluation.rules import rule_scores
    from prtriage.git_hooks import check_type, parse_commit_message
    from prtriage.pipeline.change import change_from_record
    from prtriage.pipeline.lexical_model import LexicalModel

    names = Settings().category_names
    model = LexicalModel.load()
    rng = random.Random(seed)
    with path.open(encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    if limit:
        records = rng.sample(records, min(limit, len(records)))
    hook = {"own": 0, "wrong": 0}
    first = {"own": 0, "wrong": 0}
    n = 0
    for record in records:
        change = change_from_record(record, ())
        scope = f"({record['scope']})" if record.get("scope") else ""
        own = parse_commit_message(f"{record['type']}{scope}: {change.title}")
        wrong_category = rng.choice([c for c in names if c != record["category"]])
        wrong = parse_commit_message(f"{TYPE_OF.get(wrong_category, wrong_category)}: {change.title}")
        if own.expected != record["category"] or wrong.expected != wrong_category:
            continue  # a title whose words move the type's category (`build: bump ...` is deps)
        n += 1
        logp = model.log_probabilities(change.title, change.body, change.files)
        probs = {c: math.exp(v) for c, v in logp.items()}
        votes = rule_scores(change.title, change.files, names)
        top = max(probs, key=probs.__getitem__)
        for kind, message in (("own", own), ("wrong", wrong)):
            hook[kind] += not check_type(message, probs, votes).agrees
            first[kind] += top != message.expected
    print(f"{n} of {len(records)} changes of {path.name}: how often the hook warns")
    print(f"  {'':34} {'own type (false alarm)':>24} {'wrong type (caught)':>21}")
    for name, counts in (("the hook (first two, or rules)", hook), ("lexical first choice alone", first)):
        print(f"  {name:34} {counts['own'] / n:24.1%} {counts['wrong'] / n:21.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-model", action="store_true", help="skip the model's reference row")
    parser.add_argument("--records", type=Path, help="labelled records: the hook's warning rates")
    parser.add_argument("--limit", type=int, help="with --records: a seeded sample of N records")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    timings(args.repeats, not args.no_model)
    if args.records:
        agreement(args.records, args.limit, args.seed)


if __name__ == "__main__":
    main()
