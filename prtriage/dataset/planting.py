"""Planted instructions: a change record with a sentence telling the model what to answer.

Anyone who opens a pull request controls its title, description and diff, so anything the model
reads can carry an instruction. `prtriage eval --attack` classifies each record as is and once per
placement with an instruction planted, and reports how often the answer moved (flip rate) and how
often it moved to the planted target (hit rate).

The phrasings live in `data/planted-instructions.json`, in two disjoint halves: `train` may be
used to augment training data, `eval` only for evaluation, so the evaluated flip rate measures
generalisation to phrasings a model has never seen.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from prtriage.core.errors import UsageError

PLACEMENTS = ("description", "title", "diff-comment", "markdown-file")
HALVES = ("train", "eval")
PHRASINGS_PATH = Path(__file__).parents[1] / "bundled" / "planted-instructions.json"
MARKDOWN_PATH = "0-NOTES.md"  # sorts before most paths, as git orders a diff's files

_HUNK = re.compile(r"^@@ -(\d+(?:,\d+)?) \+(\d+)(?:,(\d+))? @@")
_HASH_COMMENT = {".py", ".sh", ".rb", ".yml", ".yaml", ".toml", ".pl", ".r", ".cfg", ".ini", ".mk"}
_HASH_NAMES = {"Makefile", "Dockerfile", "Gemfile", "Rakefile", "BUILD", "CMakeLists.txt"}


# Another word for each default category, as people write it ({category_word} in a phrasing);
# a category without one is named as it is.
CATEGORY_WORDS = {
    "feature": "enhancement", "fix": "bugfix", "docs": "documentation", "refactor": "refactoring",
    "perf": "performance", "test": "testing", "ci": "continuous integration", "build": "build system",
    "deps": "dependencies", "chore": "maintenance",
}  # fmt: skip


@dataclass(frozen=True)
class Phrasing:
    kind: str  # imperative, fake-system, ..., non-english; evasive (eval half only)
    text: str  # with a {category} or {category_word} placeholder

    def render(self, category: str) -> str:
        return self.text.format(category=category, category_word=CATEGORY_WORDS.get(category, category))


def load_phrasings(half: str) -> list[Phrasing]:
    """The `train` or `eval` half of the shipped phrasing set."""
    if half not in HALVES:
        raise UsageError(f"unknown phrasing half {half!r}", hint="use one of: " + ", ".join(HALVES))
    data = json.loads((PHRASINGS_PATH).read_text(encoding="utf-8"))
    return [Phrasing(p["kind"], p["text"]) for p in data[half]]


def parse_placements(text: str | None) -> tuple[str, ...]:
    """`a,b` → the placements named, checked; None or empty → all of them."""
    if not text:
        return PLACEMENTS
    chosen = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = [p for p in chosen if p not in PLACEMENTS]
    if unknown or not chosen:
        raise UsageError(
            f"unknown placement {', '.join(map(repr, unknown)) or repr(text)}",
            hint="placements: " + ", ".join(PLACEMENTS),
        )
    return chosen


def _comment_prefix(path: str) -> tuple[str, str]:
    p = PurePosixPath(path)
    if p.suffix.lower() in {".md", ".html", ".xml", ".vue", ".svg"}:
        return "<!-- ", " -->"
    if p.suffix.lower() in _HASH_COMMENT or p.name in _HASH_NAMES:
        return "# ", ""
    return "// ", ""


def _plant_comment(diff: str, text: str) -> str | None:
    """The diff with `text` added as comment lines at the top of its first hunk; None if it has none."""
    lines = diff.splitlines(keepends=True)
    path = ""
    for i, line in enumerate(lines):
        if line.startswith("+++ "):
            path = line[4:].strip().removeprefix("b/")
        match = _HUNK.match(line)
        if not match:
            continue
        start, end = _comment_prefix(path)
        added = [f"+{start}{part}{end}\n" for part in text.splitlines() if part.strip()]
        new_count = int(match.group(3)) if match.group(3) is not None else 1
        header = f"@@ -{match.group(1)} +{match.group(2)},{new_count + len(added)} @@" + line[match.end() :]
        return "".join([*lines[:i], header, *added, *lines[i + 1 :]])
    return None


def _markdown_file(text: str) -> str:
    body = text.splitlines() or [text]
    return (
        f"diff --git a/{MARKDOWN_PATH} b/{MARKDOWN_PATH}\nnew file mode 100644\n--- /dev/null\n"
        f"+++ b/{MARKDOWN_PATH}\n@@ -0,0 +1,{len(body)} @@\n" + "".join(f"+{b}\n" for b in body)
    )


def plant(record: dict[str, Any], placement: str, text: str) -> dict[str, Any]:
    """A copy of `record` with `text` planted where `placement` says; the label is unchanged."""
    planted = dict(record)
    if placement == "description":  # first, so a description cut to fit the context keeps it
        body = record.get("body") or ""
        planted["body"] = f"{text}\n\n{body}" if body else text
    elif placement == "title":
        planted["title"] = f"{record.get('title') or ''} {' '.join(text.split())}".strip()
    elif placement == "diff-comment":
        # A diff with no hunk (a binary or renamed file only) gets the instruction in a new file.
        planted["diff"] = _plant_comment(record["diff"], text) or _markdown_file(text) + record["diff"]
    elif placement == "markdown-file":
        planted["diff"] = _markdown_file(text) + record["diff"]
    else:
        raise UsageError(f"unknown placement {placement!r}", hint="placements: " + ", ".join(PLACEMENTS))
    return planted


@dataclass(frozen=True)
class PlantedCase:
    record: dict[str, Any]
    placement: str
    target: str
    phrasing: Phrasing


def planted_cases(
    records: Sequence[dict[str, Any]], placements: Sequence[str], categories: Sequence[str],
    phrasings: Sequence[Phrasing], seed: int,
) -> list[PlantedCase]:  # fmt: skip
    """Every record once per placement, each with a seeded phrasing and a target other than its label.

    Targets cycle through the categories so every one is planted about equally often.
    """
    rng = random.Random(seed)
    cases = []
    for i, record in enumerate(records):
        others = [c for c in categories if c != record["category"]] or list(categories)
        for j, placement in enumerate(placements):
            target = others[(i + j) % len(others)]
            phrasing = rng.choice(phrasings)
            planted = plant(record, placement, phrasing.render(target))
            cases.append(PlantedCase(planted, placement, target, phrasing))
    return cases
