"""Model v3's training sample: balanced by category, capped per repository, seeded.

    python examples/v3/sample.py [--data runs/v3/data/train.jsonl] [--n 8000] [--per-repo 120] \
        [--out runs/v3/data/sample.jsonl]

Diversity of repositories, not volume, is what moved the lexical model (docs/model.md): each
repository gives at most --per-repo records, then categories take turns (balanced_sample), so
rare categories (build, perf) are not a corner of the sample. Then `prtriage data teach` adds
the teacher's reasonings, title dropout and planted instructions (examples/v3/adapter.sh).
"""

from __future__ import annotations

import argparse
import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from prtriage.core.jsonl import BadLine, read_jsonl, write_jsonl
from prtriage.dataset.sampling import balanced_sample

SEED = 19


def capped_per_repo(records: list[dict[str, Any]], per_repo: int, seed: int) -> list[dict[str, Any]]:
    """At most `per_repo` records of each repository, balanced by category within it."""
    by_repo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_repo[r["repo"]].append(r)
    return [r for repo in sorted(by_repo) for r in balanced_sample(by_repo[repo], per_repo, seed)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("runs/v3/data/train.jsonl"))
    parser.add_argument("--n", type=int, default=8000)
    parser.add_argument("--per-repo", type=int, default=120)
    parser.add_argument("--out", type=Path, default=Path("runs/v3/data/sample.jsonl"))
    args = parser.parse_args()
    records = [obj for _, obj in read_jsonl(args.data) if not isinstance(obj, BadLine)]
    sample = balanced_sample(capped_per_repo(records, args.per_repo, SEED), args.n, SEED)
    random.Random(SEED).shuffle(sample)
    write_jsonl(args.out, sample)
    cats, repos = Counter(r["category"] for r in sample), Counter(r["repo"] for r in sample)
    print(f"{args.out}: {len(sample)} records from {len(repos)} repositories; " + ", ".join(
        f"{c} {n}" for c, n in sorted(cats.items())))  # fmt: skip


if __name__ == "__main__":
    main()
