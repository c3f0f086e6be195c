"""Release notes before and after issue 21: how many entries land in the section their own type says.

    python benchmarks/notes_sections.py [--data ../shared/data/commits-wide.jsonl.gz] [--per-repo 60]
                                        [--page REPO] [--predictions FILE]

Three real histories from the shared data's wide set (repositories that are neither the project's
held-out test repositories nor in its training data: ratatui/ratatui, yargs/yargs,
python-gitlab/python-gitlab), each its newest `--per-repo` records. Every record is one landed
change with its author's own Conventional Commits `type` and `breaking` fields; its subject is
rebuilt from them (`type(scope)!: title`) and read by `prtriage.release_notes.landed`, as `notes` reads a
commit. Where the type says an entry belongs:
Breaking changes when `breaking`, else the category its type maps to (the data's `category`).

- before: the notes as they were: every change classified by the model (the default adapter,
  the title without its prefix) and listed under the model's category; no breaking section.
- after: `declared = "trust"` (the notes' default now): the declared type decides, breaking
  changes come first; the model runs only on changes without a type (none in this data, which
  keeps typed commits only).

It also counts what `[notes] chore = ""` did: entries hidden without a word (before) and hidden
with a count, never a breaking one (after). The model's answers are cached in --predictions, so
a second run (e.g. --page) does not classify again. Never commit the data or the predictions.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prtriage.core.settings import Settings
from prtriage.pipeline.change import change_from_record
from prtriage.pipeline.cpu import cpu_flags
from prtriage.pipeline.git import LogEntry
from prtriage.release_notes import BREAKING, Entry, Landed, landed, to_markdown

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "commits-wide.jsonl.gz"
REPOS = ("ratatui/ratatui", "yargs/yargs", "python-gitlab/python-gitlab")
PREDICTIONS = HERE.parent / "runs" / "notes_sections.predictions.json"


def records(path: Path, repos: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record["repo"] in repos:
                yield record


def is_breaking(record: dict[str, Any]) -> bool:
    return record.get("breaking") in (True, "True", "true")


def newest(path: Path, repos: tuple[str, ...], per_repo: int) -> dict[str, list[dict[str, Any]]]:
    """Each repository's newest `per_repo` records, oldest first (as notes lists a range), and
    under REPO + " (breaking)" every breaking change of the repository (few fall in a window)."""
    by_repo: dict[str, list[dict[str, Any]]] = {repo: [] for repo in repos}
    for record in records(path, repos):
        by_repo[record["repo"]].append(record)
    chosen = {repo: sorted(found, key=lambda r: r["date"])[-per_repo:] for repo, found in by_repo.items()}
    for repo, found in by_repo.items():
        chosen[f"{repo} (breaking)"] = sorted((r for r in found if is_breaking(r)), key=lambda r: r["date"])
    return chosen


def as_landed(record: dict[str, Any]) -> Landed:
    """The record as the commit notes would read: its subject rebuilt from type, scope and `!`."""
    scope = f"({record['scope']})" if record.get("scope") else ""
    bang = "!" if is_breaking(record) else ""
    subject = f"{record['type']}{scope}{bang}: {record['title']}"
    return landed(LogEntry(record["sha"], ("0" * 40,), record["date"], subject, record.get("body") or ""))


def expected_section(record: dict[str, Any]) -> str:
    return BREAKING if is_breaking(record) else str(record["category"])


def model_answers(chosen: dict[str, list[dict[str, Any]]], cache: Path) -> dict[str, Any]:
    """The model's result (category, confidence) for each record, from the cache or classified now."""
    known: dict[str, Any] = json.loads(cache.read_text()) if cache.is_file() else {}
    todo = [r for found in chosen.values() for r in found if r["id"] not in known]
    if todo:
        from prtriage.pipeline.engine_factory import open_engine
        from prtriage.pipeline.triage import classify

        settings = Settings()
        engine = open_engine(settings)
        for i, record in enumerate(todo, 1):
            change = as_landed(record)  # the model reads what notes gave it: no prefix, no (#N)
            found = change_from_record({**record, "title": change.title, "body": change.body}, ())
            result = classify(found, engine, settings)
            known[record["id"]] = {"category": result.category, "confidence": result.confidence}
            print(f"classified {i}/{len(todo)}", file=sys.stderr, flush=True)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(known, indent=1))
    return known


def measure(found: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, int]:
    expected = [expected_section(r) for r in found]
    before = [answers[r["id"]]["category"] for r in found]  # the model's category, no breaking section
    after = [Entry(as_landed(r), None).section for r in found]  # declared = trust
    hidden_before = [r for r, c in zip(found, before) if c == "chore"]
    return {
        "entries": len(found),
        "breaking": sum(e == BREAKING for e in expected),
        "before": sum(e == b for e, b in zip(expected, before)),
        "after": sum(e == a for e, a in zip(expected, after)),
        "after_typed_map_differs": sum(as_landed(r).type_category != r["category"] for r in found),
        "hidden_silently_before": len(hidden_before),
        "breaking_hidden_before": sum(expected_section(r) == BREAKING for r in hidden_before),
        "hidden_counted_after": sum(s == "chore" for s in after),
    }


def page(found: list[dict[str, Any]], title: str) -> str:
    """The notes page `prtriage notes` writes for these changes under declared = trust (no git, so
    no contributors or version line: those come from the repository)."""
    return to_markdown([Entry(as_landed(r), None) for r in found], Settings(), title)


def cpu() -> str:
    flags = cpu_flags()
    if not flags:
        return platform.processor() or "unknown CPU"
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_tile")
    have = [f for f in wanted if f in flags]
    return f"{platform.machine()}, {os.cpu_count()} CPUs, flags: {' '.join(have) or 'none of ' + ' '.join(wanted)}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--repos", default=",".join(REPOS))
    parser.add_argument("--per-repo", type=int, default=60)
    parser.add_argument("--predictions", type=Path, default=PREDICTIONS, help="the model's answers (a cache)")
    parser.add_argument(
        "--page", metavar="REPO", help="print the notes page of REPO's newest changes instead"
    )
    parser.add_argument("--page-size", type=int, default=20)
    args = parser.parse_args()
    repos = tuple(args.repos.split(","))
    chosen = newest(args.data, repos, args.per_repo)
    if args.page:
        found = chosen[args.page][-args.page_size :]
        print(page(found, f"{args.page}: its newest {len(found)} changes"), end="")
        return
    answers = model_answers(chosen, args.predictions)
    print(f"# {cpu()}; model: the default (SmolLM2-135M + the bundled adapter), context 512")
    print("| repository | entries | breaking | in their type's section, before | after | hidden silently by chore = \"\", before (breaking) | after |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    notes: list[str] = []
    for breaking in (False, True):
        total: Counter[str] = Counter()
        for repo, found in chosen.items():
            if repo.endswith("(breaking)") == breaking:
                m = measure(found, answers)
                total.update(m)
                print(_row(repo, m))
        print(_row("all three" + (", breaking changes" if breaking else ""), dict(total)))
        if not breaking:
            differs = f"{total['after_typed_map_differs']} of {total['entries']}"
            notes.append(f"{differs} types map to another category in notes than in the data's extractor")
    print("", *notes, sep="\n")


def _row(name: str, m: dict[str, int]) -> str:
    n = m["entries"]
    return (
        f"| {name} | {n} | {m['breaking']} | {m['before']} ({m['before'] / n:.0%}) | "
        f"{m['after']} ({m['after'] / n:.0%}) | {m['hidden_silently_before']} ({m['breaking_hidden_before']}) | "
        f"0 (counted: {m['hidden_counted_after']}) |"
    )


if __name__ == "__main__":
    main()
