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

Against the maintainers' own changelogs (issue 29):

    python benchmarks/notes_sections.py --published CLONE[:CHANGELOG] [--published ...]
                                        [--releases 10] [--check-sample 80] [--seed 29]

Each CLONE is a repository that publishes a changelog (default CHANGELOG.md; a monorepo names its
package's, e.g. vite:packages/vite/CHANGELOG.md). For each of its newest `--releases` releases
whose heading has a compare link (`compare/v2.9.5...v2.9.6`: the range), the page `prtriage
notes v2.9.5..v2.9.6` writes with the default settings (declared = trust, the same functions,
no contributors or version line) is parsed back like the published one, and each published entry
is matched to its landed change by commit or pull request. It scores: entries under the same
section (headings mapped to categories: Bug Fixes/🩹 Fixes → fix, ...), scopes kept as published,
release commits left out, identical entries merged. Then `declared = "check"` at thresholds t:
the model (default model and adapter; the LLM's and the fused scorer's probabilities from one
run, no reasoning) reads a seeded sample of `--check-sample` typed, published changes a
repository, and its category replaces the type's where it disagrees with confidence >= t; the
table says how often that put the entry in the published section. Answers are cached in
--check-predictions (by commit), so a second run does not classify again.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prtriage.core.errors import PrtriageError
from prtriage.core.settings import Settings
from prtriage.pipeline.change import change_from_record
from prtriage.pipeline.cpu import speed_flags
from prtriage.pipeline.git import LogEntry
from prtriage.pipeline.result import Result
from prtriage.release_notes import (
    BREAKING,
    Entry,
    Landed,
    landed,
    landed_changes,
    split_releases,
    to_markdown,
)

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "commits-wide.jsonl.gz"
REPOS = ("ratatui/ratatui", "yargs/yargs", "python-gitlab/python-gitlab")
PREDICTIONS = HERE.parent / "runs" / "notes_sections.predictions.json"
CHECK_PREDICTIONS = HERE.parent / "runs" / "notes_sections.check.json"


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
    return f"{platform.machine()}, {os.cpu_count()} CPUs, flags: {speed_flags()}"


# --- the maintainers' own changelogs -------------------------------------------------------------

# A published (or generated) heading, without its emoji and lower-cased → the section it means.
# Conventional Changelog's presets, changelogen's defaults, release-please's, and notes' own.
HEADING_SECTIONS: dict[str, str] = {
    "features": "feature", "enhancements": "feature", "bug fixes": "fix", "fixes": "fix",
    "performance improvements": "perf", "performance": "perf", "documentation": "docs",
    "styles": "refactor", "code refactoring": "refactor", "refactors": "refactor",
    "refactoring": "refactor", "tests": "test", "build system": "build", "build": "build",
    "continuous integration": "ci", "ci": "ci", "dependencies": "deps",
    "miscellaneous chores": "chore", "chore": "chore", "chores": "chore",
    "breaking changes": BREAKING, "reverts": "revert", "types": "types",
}  # fmt: skip
NOT_SCORED = ("revert", "types")  # sections with no category of their own in notes
VERSION_HEADING = re.compile(r"^## (?P<text>.*)$")
COMPARE = re.compile(r"/compare/(?P<previous>[^)\s]+?)\.\.\.(?P<tag>[^)\s]+?)\)")
SUB_HEADING = re.compile(r"^###+ (?P<text>.*)$")
BULLET = re.compile(r"^[-*] (?:\*\*(?P<scope>[^*]+?):\*\* )?(?P<text>\S.*)$")
COMMIT_LINK = re.compile(r"\[(?P<sha>[0-9a-f]{7,40})\]\([^)]*/commit/[0-9a-f]+\)")
PR_LINK = re.compile(r"\[#(?P<number>\d+)\]\([^)]*/(?:pull|issues)/\d+\)")
OWN_REFS = re.compile(r"\((?P<refs>(?:#\d+|[0-9a-f]{7})(?:, (?:#\d+|[0-9a-f]{7}))*)\)(?: · .*)?$")


@dataclass(frozen=True)
class Bullet:
    """One line of a changelog page: its section, scope and text, and what it refers to."""

    section: str | None  # None: a heading notes has no section for (contributors, ...)
    scope: str | None
    text: str
    numbers: tuple[int, ...]
    shas: tuple[str, ...]


@dataclass(frozen=True)
class Release:
    previous: str
    tag: str
    bullets: tuple[Bullet, ...]


def heading_section(text: str) -> str | None:
    return HEADING_SECTIONS.get(re.sub(r"^[^A-Za-z]+", "", text).strip().lower())


def bullets(lines: list[str]) -> list[Bullet]:
    """The top-level bullets under `###` headings (published) or `##` ones (notes' own page)."""
    found, section = [], None
    for line in lines:
        heading = SUB_HEADING.match(line) or (re.match(r"^## (?P<text>.*)$", line))
        if heading:
            section = heading_section(heading["text"])
            continue
        m = BULLET.match(line)
        if not m:
            continue
        text = m["text"]
        own = OWN_REFS.search(text)
        if own and not COMMIT_LINK.search(text):  # notes' page: (#12, #15) or (abc1234)
            refs = own["refs"].split(", ")
            numbers = tuple(int(r[1:]) for r in refs if r.startswith("#"))
            shas = tuple(r for r in refs if not r.startswith("#"))
        else:
            numbers = tuple(int(n) for n in PR_LINK.findall(text))
            shas = tuple(COMMIT_LINK.findall(text))
        found.append(Bullet(section, m["scope"], text, numbers, shas))
    return found


def published_releases(changelog: Path) -> list[Release]:
    """A changelog's releases, newest first, each with the compare link that names its range."""
    releases: list[Release] = []
    block: list[str] = []
    for line in [*changelog.read_text(encoding="utf-8").splitlines(), "## end"]:
        if VERSION_HEADING.match(line) and not line.startswith("###"):
            compare = next((m for x in block[:3] for m in [COMPARE.search(x)] if m), None)
            if compare:
                releases.append(Release(compare["previous"], compare["tag"], tuple(bullets(block[1:]))))
            block = [line]
        else:
            block.append(line)
    return releases


def matched(bullet: Bullet, changes: list[Landed]) -> list[str]:
    """The landed changes a bullet refers to, by commit or by pull request (an issue a text links,
    `fix #22999`, matches none: GitHub numbers issues and pull requests from one sequence)."""
    return [
        c.sha for c in changes
        if any(c.sha.startswith(s) for s in bullet.shas) or (c.number is not None and c.number in bullet.numbers)
    ]  # fmt: skip


@dataclass
class Repository:
    """A fetched repository and its changelog: the releases scored, each with its landed changes."""

    name: str
    root: Path
    releases: list[tuple[Release, list[Landed]]]


def load(spec: str, newest: int) -> Repository:
    """`PATH` or `PATH:CHANGELOG` (default CHANGELOG.md): its newest releases whose range git knows."""
    path, _, changelog = spec.partition(":")
    root = Path(path)
    chosen = []
    for release in published_releases(root / (changelog or "CHANGELOG.md")):
        if len(chosen) == newest:
            break
        try:
            chosen.append((release, landed_changes(root, f"{release.previous}..{release.tag}")))
        except PrtriageError:  # a tag the clone lacks, or an empty range
            continue
    return Repository(root.name, root, chosen)


def expected_sections(release: Release, changes: list[Landed]) -> dict[str, tuple[set[str], str | None]]:
    """Each landed change the published page lists: the sections it is under, and its scope."""
    found: dict[str, tuple[set[str], str | None]] = {}
    for bullet in release.bullets:
        if bullet.section is None or bullet.section in NOT_SCORED:
            continue
        for sha in matched(bullet, changes):
            sections, scope = found.get(sha, (set(), None))
            sections.add(bullet.section)
            if bullet.section != BREAKING:  # a breaking-changes bullet is the footer's note
                scope = bullet.scope
            found[sha] = (sections, scope)
    return found


def model_sample(repos: list[Repository], per_repo: int, seed: int) -> list[tuple[Repository, Landed]]:
    """What the model reads: a seeded sample of each repository's published, typed changes (for
    declared = check), and every change without a type (which notes gives the model anyway)."""
    rng = random.Random(seed)
    sample = []
    for repo in repos:
        typed = []
        for release, changes in repo.releases:
            expected = expected_sections(release, changes)
            typed += [c for c in changes if c.sha in expected and c.type_category]
            sample += [(repo, c) for c in changes if not c.type_category and not c.release]
        sample += [(repo, c) for c in rng.sample(typed, min(per_repo, len(typed)))]
    return sample


def model_answers_for(sample: list[tuple[Repository, Landed]], cache: Path) -> dict[str, Any]:
    """The model's probabilities (its own and fused) for each sampled change, cached by commit."""
    known: dict[str, Any] = json.loads(cache.read_text()) if cache.is_file() else {}
    todo = [(repo, change) for repo, change in sample if change.sha not in known]
    if todo:
        from prtriage.pipeline import git as pipeline_git
        from prtriage.pipeline.change import change_from_git
        from prtriage.pipeline.engine_factory import open_engine
        from prtriage.pipeline.triage import classify

        settings = Settings(scorer="fused", reasoning_tokens=0)  # one run gives both scorers' answers
        engine = open_engine(settings)
        start = time.perf_counter()
        for i, (repo, change) in enumerate(todo, 1):
            spec = pipeline_git.DiffSpec(range=f"{change.parent}..{change.sha}")
            found = change_from_git(repo.root, spec, (), change.title, change.body)
            result = classify(found, engine, settings)
            known[change.sha] = {"llm": result.llm_probabilities, "fused": result.probabilities}
            print(
                f"classified {i}/{len(todo)} ({time.perf_counter() - start:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
            if i % 20 == 0 or i == len(todo):  # an interrupted run keeps what it has
                cache.parent.mkdir(parents=True, exist_ok=True)
                cache.write_text(json.dumps(known, indent=1))
    return known


def best(probabilities: dict[str, float]) -> tuple[str, float]:
    category = max(probabilities, key=lambda c: probabilities[c])
    return category, probabilities[category]


def as_result(probabilities: dict[str, float]) -> Result:
    category, confidence = best(probabilities)
    return Result(category, confidence, probabilities, "", (), "cached", None, 0, False, "")


def notes_page(changes: list[Landed], answers: dict[str, Any]) -> str:
    """The page `prtriage notes` writes for a release's changes with the default settings
    (declared = trust: the type decides, the model places the rest), without the contributors and
    version lines, which are not scored."""
    listed, releases = split_releases(changes, Settings())
    entries = [Entry(c, None if c.type_category else as_result(answers[c.sha]["llm"])) for c in listed]
    return to_markdown(entries, Settings(), releases=len(releases))


def _before_refs(text: str) -> str:
    return re.split(r" \(\[|\(\[", text)[0].strip().casefold()


def score_release(
    release: Release, changes: list[Landed], answers: dict[str, Any]
) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    """How the notes page for one release compares with the published one."""
    ours = bullets(notes_page(changes, answers).splitlines())
    placed: dict[str, tuple[str | None, str | None]] = {}  # sha → our section and scope
    for bullet in ours:
        for sha in matched(bullet, changes):
            placed[sha] = (bullet.section, bullet.scope)
    expected = expected_sections(release, changes)
    m: Counter[str] = Counter()
    misses: Counter[tuple[str, str]] = Counter()
    for sha, (sections, scope) in expected.items():
        section, our_scope = placed.get(sha, (None, None))
        same_scope = (our_scope or "").casefold() == (scope or "").casefold()
        m.update(entries=1, same_section=section in sections, same_scope=same_scope,
                 scoped=scope is not None, scoped_kept=scope is not None and same_scope)  # fmt: skip
        if section not in sections:
            misses[("/".join(sorted(sections)), str(section))] += 1
    releases = [c for c in changes if c.release]
    published = {sha for b in release.bullets if b.section for sha in matched(b, changes)}
    m.update(release_commits=len(releases), releases_listed=sum(c.sha in placed for c in releases),
             releases_published=sum(c.sha in published for c in releases),
             extra=sum(sha not in expected for sha in placed))  # fmt: skip
    same: Counter[tuple[str, str, str]] = Counter()
    for change in changes:
        if not change.release and change.type_category and not change.breaking:
            same[
                (
                    change.type_category,
                    (change.scope or "").casefold(),
                    " ".join(change.title.split()).casefold(),
                )
            ] += 1
    m.update(duplicates=sum(n for n in same.values() if n > 1), duplicate_groups=sum(n > 1 for n in same.values()),
             merged_lines=sum(len(b.numbers) + len(b.shas) > 1 for b in ours))  # fmt: skip
    lines = Counter(
        (b.section, (b.scope or "").casefold(), _before_refs(b.text)) for b in release.bullets if b.section
    )
    m["published_repeats"] = sum(n - 1 for n in lines.values())
    return m, misses


THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 1.01)


def check_rows(
    repos: list[Repository], answers: dict[str, Any], scorer: str
) -> list[tuple[float, int, int, int, int]]:
    """declared = check at each threshold: (t, scored, in the published section, moved by the
    model, of those moved, in the published section)."""
    sample = []
    for repo in repos:
        for release, changes in repo.releases:
            expected = expected_sections(release, changes)
            sample += [
                (c, expected[c.sha][0])
                for c in changes
                if c.sha in expected and c.sha in answers and c.type_category
            ]
    rows = []
    for t in THRESHOLDS:
        hits = moved = moved_right = 0
        for change, sections in sample:
            category, confidence = best(answers[change.sha][scorer])
            move = category != change.type_category and confidence >= t
            section = BREAKING if change.breaking else (category if move else change.type_category)
            hits += section in sections
            moved += move and not change.breaking
            moved_right += move and not change.breaking and category in sections
        rows.append((t, len(sample), hits, moved, moved_right))
    return rows


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
    parser.add_argument("--published", action="append", metavar="PATH[:CHANGELOG]", default=[],
                        help="a fetched repository and its changelog (default CHANGELOG.md): score notes against it")  # fmt: skip
    parser.add_argument(
        "--releases", type=int, default=10, help="with --published: each one's newest releases"
    )
    parser.add_argument("--check-sample", type=int, default=80,
                        help="with --published: typed changes a repository the model reads (declared = check)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=29)
    parser.add_argument("--check-predictions", type=Path, default=CHECK_PREDICTIONS)
    parser.add_argument(
        "--predict-only", action="store_true", help="with --published: only fill the model's cache"
    )
    args = parser.parse_args()
    if args.published:
        published_main(args)
        return
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


def published_main(args: argparse.Namespace) -> None:
    repos = [load(spec, args.releases) for spec in args.published]
    answers = model_answers_for(model_sample(repos, args.check_sample, args.seed), args.check_predictions)
    if args.predict_only:
        return
    print(f"# {cpu()}; notes with the default settings (declared = trust, notes-scope = bold)")
    print("| repository | releases | published entries | in the same section | with a scope | same scope kept "
          "| release commits in the ranges (listed by notes) | identical entries → lines | published lines repeating one |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    total: Counter[str] = Counter()
    misses: Counter[tuple[str, str]] = Counter()
    for repo in repos:
        m: Counter[str] = Counter()
        for release, changes in repo.releases:
            found, missed = score_release(release, changes, answers)
            m.update(found)
            misses.update(missed)
        m["releases"] = len(repo.releases)
        total.update(m)
        print(_published_row(repo.name, m))
    print(_published_row(f"all {len(repos)}", total))
    print(
        "\nNot in the published section (published → notes):",
        ", ".join(f"{a} → {b}: {n}" for (a, b), n in misses.most_common()) or "none",
    )
    print(
        f"Entries notes lists that the published pages do not (other packages of a monorepo, "
        f"changes the tool left out): {total['extra']}"
    )
    for scorer in ("llm", "fused"):
        print(
            f"\ndeclared = check, the model's category from confidence t on ({scorer} scorer; "
            f"seeded sample of {args.check_sample} typed published changes a repository, seed {args.seed}):"
        )
        print(
            "| t | changes | in the published section | moved by the model | of those, in the published section |"
        )
        print("| ---: | ---: | ---: | ---: | ---: |")
        for t, n, hits, moved, right in check_rows(repos, answers, scorer):
            shown = "never" if t > 1 else f"{t:.2f}"
            print(f"| {shown} | {n} | {hits} ({hits / n:.1%}) | {moved} | {right} ({right / moved:.0%}) |" if moved
                  else f"| {shown} | {n} | {hits} ({hits / n:.1%}) | 0 | - |")  # fmt: skip


def _published_row(name: str, m: Counter[str]) -> str:
    n = m["entries"]
    return (
        f"| {name} | {m['releases']} | {n} | {m['same_section']} ({m['same_section'] / n:.1%}) | "
        f"{m['scoped']} | {m['scoped_kept']} ({m['scoped_kept'] / max(m['scoped'], 1):.0%}); all scopes as published: "
        f"{m['same_scope'] / n:.0%} | {m['release_commits']} ({m['releases_listed']}) | "
        f"{m['duplicates']} → {m['duplicate_groups']} lines | {m['published_repeats']} |"
    )


def _row(name: str, m: dict[str, int]) -> str:
    n = m["entries"]
    return (
        f"| {name} | {n} | {m['breaking']} | {m['before']} ({m['before'] / n:.0%}) | "
        f"{m['after']} ({m['after'] / n:.0%}) | {m['hidden_silently_before']} ({m['breaking_hidden_before']}) | "
        f"0 (counted: {m['hidden_counted_after']}) |"
    )


if __name__ == "__main__":
    main()
