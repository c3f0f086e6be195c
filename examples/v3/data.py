"""Model v3's data: commits-train + commits-wide, diffs capped alike, split by repository.

    python examples/v3/data.py [--shared ../shared/data] [--out runs/v3/data]

Writes train.jsonl, val.jsonl and test.jsonl (and split.json, the repositories of each side).
Every diff is cut at 6,000 characters at a line boundary, as commits-wide.jsonl.gz already is
(`diff_truncated` set when cut), so records of the two files compare. The split is drawn once
by seed from commits-wide's 97 repositories: 10 test and 8 validation repositories, beside
goreleaser and vitest from commits-train (v1's test repositories, so its published numbers stay
comparable); the other 6 repositories of commits-train and 79 of commits-wide train. The five
repositories reserved for independent evaluation are in neither file.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from prtriage.core.jsonl import BadLine, read_jsonl, write_jsonl

MAX_DIFF_CHARS = 6_000  # commits-wide's cap
SEED = 19
V1_TEST = ("goreleaser/goreleaser", "vitest-dev/vitest")


def cap_diff(record: dict[str, Any]) -> dict[str, Any]:
    """The diff cut to MAX_DIFF_CHARS at the last line boundary before it."""
    diff = record.get("diff") or ""
    if len(diff) <= MAX_DIFF_CHARS:
        return record
    cut = diff.rfind("\n", 0, MAX_DIFF_CHARS) + 1 or MAX_DIFF_CHARS
    return {**record, "diff": diff[:cut], "diff_truncated": True}


def read(path: Path) -> list[dict[str, Any]]:
    records, bad = [], 0
    for _, obj in read_jsonl(path):
        if isinstance(obj, BadLine):
            bad += 1
        else:
            records.append(cap_diff(obj))
    if bad:
        raise SystemExit(f"{path}: {bad} malformed lines")
    return records


def draw_split(wide_repos: list[str]) -> tuple[list[str], list[str]]:
    """(test, validation) repositories: a seeded draw from commits-wide's, in sorted order."""
    rng = random.Random(SEED)
    test = rng.sample(sorted(wide_repos), 10)
    val = rng.sample([r for r in sorted(wide_repos) if r not in test], 8)
    return sorted([*V1_TEST, *test]), sorted(val)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("runs/v3/data"))
    args = parser.parse_args()
    base = read(args.shared / "commits-train.jsonl.gz")
    wide = read(args.shared / "commits-wide.jsonl.gz")
    test, val = draw_split(sorted({r["repo"] for r in wide}))
    sides: dict[str, list[dict[str, Any]]] = {"train": [], "val": [], "test": []}
    for record in [*base, *wide]:
        side = "test" if record["repo"] in test else "val" if record["repo"] in val else "train"
        sides[side].append(record)
    args.out.mkdir(parents=True, exist_ok=True)
    for side, records in sides.items():
        write_jsonl(args.out / f"{side}.jsonl", records)
        repos = Counter(r["repo"] for r in records)
        print(f"{side}: {len(records)} records from {len(repos)} repositories")
    split = {"test": test, "val": val, "train": sorted({r["repo"] for r in sides["train"]})}
    (args.out / "split.json").write_text(json.dumps(split, indent=1) + "\n")


if __name__ == "__main__":
    main()
