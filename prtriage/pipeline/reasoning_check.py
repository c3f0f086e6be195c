"""Does a reasoning explain the change? Cheap checks of what a reader would object to.

Each check is a flag; a reasoning passes when no flag is raised. They are deliberately simple
and deterministic (no model judges another), so the pass rate can be compared across models and
sessions. The flags:

- `length`: fewer than 6 or more than 40 words;
- `bare-category`: the reasoning is only a category name ("test", "Docs.");
- `other-category`: it calls the change another category than the answer ("This is a docs change"
  under `fix`, or a bare `test` under `feature`);
- `copies-title`: the title again, word for word;
- `cites-nothing`: no changed path or file name, and no identifier or content word of the diff
  or title: it could be said of any change;
- `invented-path`: it names a path or file that is not in the change (not a changed path, a
  folder or file name of one, nor a path the diff's text mentions).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FLAGS = ("length", "bare-category", "other-category", "copies-title", "cites-nothing", "invented-path")
MIN_WORDS, MAX_WORDS = 6, 40

# Other spellings a model uses for the default categories (a custom category is matched by name).
_ALIASES = {
    "feature": ("feature", "feat", "features", "enhancement"),
    "fix": ("fix", "bugfix", "bug fix", "bug"),
    "docs": ("docs", "doc", "documentation"),
    "refactor": ("refactor", "refactoring"),
    "perf": ("perf", "performance"),
    "test": ("test", "tests", "testing"),
    "ci": ("ci",),
    "build": ("build",),
    "deps": ("deps", "dependency", "dependencies"),
    "chore": ("chore",),
}
# Words that say nothing about a particular change: they do not count as citing it.
_STOPWORDS = frozenset(
    """a an and are as at be been but by can code change changed changes changing could do does
    for from has have in into is it its make makes new no not of on or so some that the their
    them then there these this those to update updated updates updating use used uses using was
    were when where which while will with without would file files line lines add adds added
    remove removes removed all more less also only other than just one two""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_PUNCTUATION = re.compile(r"[^\w\s]")
# A path in prose: a token with a slash (two of them, a trailing one, or a file extension after
# it, so "and/or" is not one) or a file name with a common extension ("pool.ts", "go.mod").
_EXTENSIONS = (
    "py|pyi|ts|tsx|js|jsx|mjs|cjs|vue|svelte|go|mod|sum|rs|java|kt|kts|scala|rb|php|cs|fs|c|h|cc|cpp|hpp|"
    "m|mm|swift|dart|ex|exs|erl|lua|sh|bash|ps1|md|mdx|rst|txt|json|jsonc|yml|yaml|toml|ini|cfg|conf|"
    "xml|html|css|scss|sass|less|lock|gradle|sql|proto|graphql|tf|nix|cmake|mk|dockerfile|env|snap"
)
_PATH_TOKEN = re.compile(
    rf"(?<![\w/.:-])(?:[\w.@+-]+/){{2,}}[\w.@+-]*|(?<![\w/.:-])[\w.@+-]+/(?:[\w@+-]+\.(?:{_EXTENSIONS}))?(?![\w/])"
    rf"|(?<![\w/.:-])[\w@+-][\w.@+-]*\.(?:{_EXTENSIONS})\b(?![/\w])",
    re.I,
)


@dataclass(frozen=True)
class ChangeFacts:
    """What a reasoning may cite: the change's title, paths, and the words of its diff."""

    title: str
    paths: tuple[str, ...]
    diff_words: frozenset[str]
    diff_text: str = ""  # lower-cased: a path the diff mentions (an import, a renamed file) is no invention

    @classmethod
    def of(cls, title: str, paths: Iterable[str], diff_text: str) -> ChangeFacts:
        changed = "\n".join(
            line[1:] for line in diff_text.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
        )
        words = {w.lower() for w in _IDENTIFIER.findall(changed)}
        return cls(title, tuple(paths), frozenset(words), diff_text.lower())


def _normalise(text: str) -> str:
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def _names(category: str) -> tuple[str, ...]:
    return _ALIASES.get(category, (category,))


def _stem(word: str) -> str:
    word = word.lower()
    return word[:-1] if len(word) > 4 and word.endswith("s") else word


def _is_bare_name(text: str, categories: Sequence[str]) -> str | None:
    """The category a reasoning consists of, if it is nothing but a category's name."""
    said = _normalise(text)
    for category in categories:
        if said in _names(category):
            return category
    return None


def _called(text: str, category: str) -> bool:
    """Does the text call the change `category` (not merely use the word, as in "fixes a test")?"""
    names = "|".join(re.escape(n) for n in _names(category))
    patterns = (
        rf"^\s*(?:{names})\s*(?:\(|:|$)",  # "docs: ...", "test"
        rf"\b(?:is|looks like|seems like|seems to be|classified as|category(?: is)?:?)\s+(?:an?\s+|the\s+)?"
        rf"(?:{names})\b",
        rf"\b(?:an?|the)\s+(?:{names})\s+(?:change|pull request|pr|commit)\b",
    )
    lowered = text.lower()
    return any(re.search(p, lowered) for p in patterns)


def _cites(text: str, facts: ChangeFacts) -> bool:
    lowered = text.lower()
    for path in facts.paths:
        name = path.rsplit("/", 1)[-1].lower()
        if path.lower() in lowered or (len(name) >= 3 and name in lowered):
            return True
    title_words = {_stem(w) for w in _WORD.findall(facts.title)}
    diff_words = {_stem(w) for w in facts.diff_words}
    for word in _WORD.findall(text):
        stem = _stem(word)
        if len(stem) < 3 or stem in _STOPWORDS:
            continue
        if stem in title_words or stem in diff_words:
            return True
    return False


_PROSE_NAME = re.compile(r"^[A-Z][a-z]+\.js$")  # Node.js, Vue.js: names in prose, not files


def _part_of(cited: str, path: str) -> bool:
    """`cited` is the path, a folder of it, or a trailing part of it, cut at "/" (or, at its end,
    before a "." of the name: prose reads "a.py" out of "a.py.new", a real file renamed)."""
    at = path.find(cited)
    while at != -1:
        end = at + len(cited)
        if (at == 0 or path[at - 1] == "/") and (end == len(path) or path[end] in "/."):
            return True
        at = path.find(cited, at + 1)
    return False


def invented_paths(text: str, facts: ChangeFacts) -> list[str]:
    """The paths and file names `text` names that the change does not hold."""
    known = [p.lower().strip("/") for p in facts.paths]
    out = []
    for token in _PATH_TOKEN.findall(text):
        cited = token.lower().rstrip(".,;:").strip("/")
        if not cited or "://" in token or _PROSE_NAME.match(token):
            continue
        in_change = any(_part_of(cited, p) for p in known)
        if not in_change and cited not in facts.diff_text and cited not in facts.title.lower():
            out.append(token)
    return out


def check_reasoning(
    reasoning: str, answer: str, categories: Sequence[str], facts: ChangeFacts
) -> tuple[str, ...]:
    """The flags raised by `reasoning`, given as the reason for `answer` on this change (in FLAGS order)."""
    flags = []
    if not MIN_WORDS <= len(reasoning.split()) <= MAX_WORDS:
        flags.append("length")
    bare = _is_bare_name(reasoning, categories)
    if bare is not None:
        flags.append("bare-category")
    if (bare is not None and bare != answer) or any(_called(reasoning, c) for c in categories if c != answer):
        flags.append("other-category")
    if facts.title.strip() and _normalise(reasoning) == _normalise(facts.title):
        flags.append("copies-title")
    if not _cites(reasoning, facts):
        flags.append("cites-nothing")
    if invented_paths(reasoning, facts):
        flags.append("invented-path")
    return tuple(flags)


def summarise(flag_sets: Sequence[Sequence[str]]) -> dict[str, object]:
    """Pass rate (no flag raised) and the rate of each flag over many reasonings."""
    n = len(flag_sets)
    if n == 0:
        return {"checked": 0, "pass_rate": None, "flag_rates": {}}
    return {
        "checked": n,
        "pass_rate": sum(not flags for flags in flag_sets) / n,
        "flag_rates": {f: sum(f in flags for flags in flag_sets) / n for f in FLAGS},
    }
