"""How well prtriage/pipeline/planted_text.py finds planted instructions, without running the model.

    python benchmarks/planted_detector.py                     # the numbers docs/security.md quotes
    python benchmarks/planted_detector.py --phrasings train --repos dev   # what the rules were tuned on

Detection: the held-out repositories' seeded sample (balanced by category, seed 0, as
scripts/model_report.py draws it), each record with every phrasing of one half planted once per
placement (prtriage.dataset.planted.plant, the same planting `prtriage eval --attack` uses), the
target cycling through the other categories. A case counts as detected when the detector flags
the planted copy. Rates per placement and per kind of phrasing, of all cases and of those where
the planted text is where the model reads it (a diff comment planted into a lock file or a
generated file is never shown to the model, and the detector does not read those files either).

False positives: every record of those repositories as it is (clean changes written by people);
a flag there is a false positive, and each one is printed with what it quoted.

`--repos dev` measures on the training repositories instead (what the rules were tuned on); the
held-out repositories were not looked at while writing the rules.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from prtriage.core.categories import DEFAULT_CATEGORIES
from prtriage.core.jsonl import BadLine
from prtriage.dataset.planting import PLACEMENTS, load_phrasings, plant
from prtriage.dataset.sampling import balanced_sample
from prtriage.evaluation.predict import load_eval_records
from prtriage.pipeline.change import change_from_record
from prtriage.pipeline.planted_text import PlantedSpan, find_planted

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "commits-train.jsonl.gz"
TEST_REPOS = ("goreleaser/goreleaser", "vitest-dev/vitest")  # as scripts/model_report.py
NAMES = [c.name for c in DEFAULT_CATEGORIES]


def detect(record: dict[str, Any]) -> tuple[tuple[PlantedSpan, ...], float]:
    change = change_from_record(record, ())
    start = time.perf_counter()
    found = find_planted(change.title, change.body, change.files, NAMES)
    return found, time.perf_counter() - start


def in_unread_file(record: dict[str, Any], text: str) -> bool:
    """Whether the planted text landed in a file the model never reads (a lock file, generated...)."""
    first = next(line for line in text.splitlines() if line.strip())
    files = change_from_record(record, ()).files
    return any(f.skip is not None and first in "".join(f.hunks) for f in files)


def detection(records: list[dict[str, Any]], half: str) -> tuple[dict[str, Counter[str]], list[str]]:
    """Per placement and per kind: cases and hits; and every missed case, described."""
    phrasings = load_phrasings(half)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    missed = []
    for i, record in enumerate(records):
        others = [c for c in NAMES if c != record["category"]]
        for j, placement in enumerate(PLACEMENTS):
            for k, phrasing in enumerate(phrasings):
                target = others[(i + j + k) % len(others)]
                planted = plant(record, placement, phrasing.render(target))
                found, _ = detect(planted)
                hit = bool(found)
                unread = (
                    not hit
                    and placement == "diff-comment"
                    and in_unread_file(planted, phrasing.render(target))
                )
                for key in (f"placement:{placement}", f"kind:{phrasing.kind}", "all"):
                    counts[key]["cases"] += 1
                    counts[key]["hits"] += hit
                    counts[key]["unread"] += unread
                if not hit:
                    missed.append(
                        f"{placement} / {phrasing.kind}: {phrasing.render(target)!r} in {record['id']}"
                    )
    return counts, missed


def false_positives(records: list[dict[str, Any]]) -> tuple[list[tuple[str, PlantedSpan]], list[float]]:
    flagged, seconds = [], []
    for record in records:
        found, took = detect(record)
        seconds.append(took)
        flagged += [(str(record["id"]), span) for span in found[:1]]
    return flagged, seconds


def rate(c: Counter[str]) -> str:
    """Detected share; and among the cases the model can read (not in a lock file, generated...)."""
    readable = c["cases"] - c["unread"]
    return f"{c['hits'] / c['cases']:.1%} ({c['hits']}/{c['cases']}) | {c['hits'] / readable:.1%}"


def print_detection(sample: list[dict[str, Any]], half: str, show_missed: int) -> None:
    counts, missed = detection(sample, half)
    print("| planted where | detected | detected where the model reads it |\n| --- | ---: | ---: |")
    for placement in PLACEMENTS:
        print(f"| {placement} | {rate(counts[f'placement:{placement}'])} |")
    print(f"| all | {rate(counts['all'])} |\n")
    print(f"{counts['all']['unread']} cases planted into a file the model never reads (a lock file...)\n")
    print("| kind of phrasing | detected | detected where the model reads it |\n| --- | ---: | ---: |")
    for key in sorted(k for k in counts if k.startswith("kind:")):
        print(f"| {key.removeprefix('kind:')} | {rate(counts[key])} |")
    for line in missed[:show_missed]:
        print("missed:", line)


def print_false_positives(clean: list[dict[str, Any]]) -> None:
    flagged, seconds = false_positives(clean)
    flagged_records = len({record_id for record_id, _ in flagged})
    print(f"\nFalse positives: {flagged_records} of {len(clean)} clean records flagged "
          f"({flagged_records / len(clean):.2%}); detector time per change: median "
          f"{statistics.median(seconds) * 1000:.2f} ms, max {max(seconds) * 1000:.1f} ms")  # fmt: skip
    for kind, n in Counter(span.kind for _, span in flagged).most_common():
        print(f"  {kind}: {n}")
    for record_id, span in flagged:
        print(f"- {record_id} ({span.kind}, {span.where}): {span.text!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--repos", default="held-out", help="held-out (default), dev, all, or a comma-separated list"
    )
    parser.add_argument("--phrasings", choices=("eval", "train"), default="eval")
    parser.add_argument("--per-category", type=int, default=30, help="records per category to plant into")
    parser.add_argument("--show-missed", type=int, default=0, help="print this many missed cases")
    parser.add_argument("--no-planting", action="store_true", help="false positives only")
    args = parser.parse_args()
    bad: list[BadLine] = []
    everything = load_eval_records(args.data, NAMES, bad, None, 0)
    every_repo = {str(r["repo"]) for r in everything}
    repos = {"held-out": set(TEST_REPOS), "dev": every_repo - set(TEST_REPOS), "all": every_repo}.get(
        args.repos, set(args.repos.split(","))
    )
    clean = [r for r in everything if r.get("repo") in repos]
    print(f"{args.data.name}: {len(clean)} clean records of {len(repos)} repositories "
          f"({', '.join(sorted(repos)) if len(repos) < 10 else 'all'})")  # fmt: skip
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}\n")
    if not args.no_planting:
        sample = balanced_sample(clean, args.per_category * len(NAMES), 0)
        print(f"Planted: the {args.phrasings} half into a balanced sample of {len(sample)} records\n")
        print_detection(sample, args.phrasings, args.show_missed)
    print_false_positives(clean)


if __name__ == "__main__":
    main()
