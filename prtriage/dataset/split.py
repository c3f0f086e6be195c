"""Train/test splits that keep sibling changes together: by repository or by time (random only if asked)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from prtriage.core.errors import UsageError
from prtriage.core.jsonl import BadLine, read_checked

MODES = ("repo", "time", "random")


def load_records(path: Path, bad: list[BadLine]) -> list[dict[str, Any]]:
    """Every JSON object of the file, whatever its fields; the other lines go to `bad`."""
    return list(read_checked(path, lambda obj, _number: obj, bad.append))


def choose_groups(sizes: Mapping[str, int], target: float, seed: int) -> set[str]:
    """Whole groups (repositories), in a seeded order, until their records reach `target`.

    At least one group is never chosen, so the other side of the split is not empty.
    """
    order = sorted(sizes)
    random.Random(seed).shuffle(order)
    chosen: set[str] = set()
    total = 0
    for group in order[:-1]:
        if total >= target:
            break
        chosen.add(group)
        total += sizes[group]
    return chosen


def choose_test(
    records: Sequence[dict[str, Any]], mode: str, fraction: float, test_repos: Sequence[str], seed: int
) -> list[bool]:
    """Whether each record goes to the test side."""
    if mode == "repo":
        repos = Counter(str(r.get("repo", "")) for r in records)
        if "" in repos:
            raise UsageError("--by repo needs a 'repo' field in every record")
        if test_repos:
            unknown = set(test_repos) - set(repos)
            if unknown:
                raise UsageError(
                    f"--test-repos not in the data: {', '.join(sorted(unknown))}",
                    hint="repos: " + ", ".join(sorted(repos)),
                )
            chosen = set(test_repos)
        else:
            chosen = choose_groups(repos, fraction * len(records), seed)
        return [r["repo"] in chosen for r in records]
    if mode == "time":
        if any(not r.get("date") for r in records):
            raise UsageError("--by time needs a 'date' field in every record")
        by_date = sorted(range(len(records)), key=lambda i: str(records[i]["date"]))
        cut = len(records) - round(fraction * len(records))
        test = set(by_date[cut:])
        return [i in test for i in range(len(records))]
    if mode == "random":
        rng = random.Random(seed)
        return [rng.random() < fraction for _ in records]
    raise UsageError(f"unknown split mode {mode!r}", hint="use one of: " + ", ".join(MODES))
