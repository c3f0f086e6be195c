"""The reasoning under every answer: what the change does, and why this category beat the runner-up.

Built, not generated. The first sentence says what the change does (its title as a sentence,
summary.py) and where, naming only the change's own files (those whose diff the model was shown,
or, when it was shown none, the listed ones); the second
says what decided between the answer and the runner-up, from the scores themselves: the terms
whose weights in the lexical model pushed the answer over the runner-up (exact: that model is
linear), and the LLM's own two probabilities. A 135M model asked to write this invents paths and
repeats itself (docs/model.md); a template filled from the scores cannot:

- a path can only be one of the change's files, and only one that reads as a path in prose
  (`_PROSE_PATH`); anything else is counted ("2 other files"), never quoted;
- the only category names are the answer and the runner-up, in fixed places;
- the title's words go in only when they present no other category as the answer, name no path
  the change does not hold, hold no instruction to the classifier and repeat no run of words
  (else the category's own verb stands alone: "Fixes behaviour in src/app.py.").

`explain` checks its sentence with the reasoning check `prtriage eval` grades (reasoning_check.py)
before returning it, and falls back to the title-free sentence if any flag is raised.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from prtriage.core.conventional import parse_subject
from prtriage.pipeline.change import Change
from prtriage.pipeline.lexical_model import LexicalModel, ngrams
from prtriage.pipeline.reasoning_check import MAX_WORDS, ChangeFacts, check_reasoning
from prtriage.pipeline.result import Evidence, FileEntry, Term
from prtriage.pipeline.summary import UNTITLED, what

MAX_TERMS = 3  # terms quoted as evidence: enough to check, short enough to read
MAX_TERM_RUN = 3  # a word repeated this many times in a row is degenerate text, not a title
MAX_WORD_CHARS = 40  # a longer "word" is a hash or noise
# A path that reads as one in prose: no spaces, quotes or markup, word characters at both ends.
_PROSE_PATH = re.compile(r"[\w.@+-](?:[\w.@+/-]{0,150}[\w])?")
# Words that are no evidence of anything, even where the lexical model weighs them.
_FILLER = frozenset(
    "a an and are as at be by for from in into is it of on or so that the this to was with".split()  # noqa: SIM905
)
_WHERE = {"title": "the title's", "text": "the description's", "paths": "the paths'", "diff": "the diff's"}


def prose_path(path: str) -> bool:
    dotted = f"/{path}/"
    return (
        bool(_PROSE_PATH.fullmatch(path))
        and "//" not in path
        and "/../" not in dotted
        and "/./" not in dotted
    )


def _main_files(files: Sequence[FileEntry]) -> list[FileEntry]:
    """The files the model saw of the diff (all files when it saw none), most changed first."""
    seen = [f for f in files if f.shown != "none"] or list(files)
    return sorted(seen, key=lambda f: -(f.additions + f.deletions))


def where(files: Sequence[FileEntry], most: int = 2) -> tuple[str, tuple[str, ...]]:
    """Where the change is, naming at most `most` of its main files (only prose-safe paths): the
    phrase and the paths it names."""
    if not files:
        return "", ()
    main = [f.path for f in _main_files(files) if prose_path(f.path)][:most]
    rest = len(files) - len(main)
    others = f"{rest} other file" + ("s" if rest != 1 else "")
    if not main:
        return f"across {len(files)} file" + ("s" if len(files) != 1 else ""), ()
    named = " and ".join(main)
    return (f"in {named}" + (f" and {others}" if rest else "")), tuple(main)


def _degenerate(text: str) -> bool:
    """A word run repeated, or a word too long to be one (a hash, a minified line)."""
    words = text.lower().split()
    if any(len(w) > MAX_WORD_CHARS for w in words):
        return True
    for size in (1, 2, 3):
        for i in range(len(words) - size * MAX_TERM_RUN + 1):
            run = words[i : i + size]
            if all(words[i + k * size : i + (k + 1) * size] == run for k in range(1, MAX_TERM_RUN)):
                return True
    return False


def _title_said(change: Change, category: str, title_planted: bool) -> str:
    """The title as a sentence, or "" when it cannot stand in the reasoning."""
    if title_planted:
        return ""
    subject = parse_subject(change.title)
    title = subject.description if subject is not None else change.title
    said = what(title, category)
    return "" if _degenerate(said) else said


def lexical_terms(model: LexicalModel, change: Change, answer: str, runner_up: str) -> tuple[Term, ...]:
    """The terms that pushed `answer` over `runner_up` most in the lexical model, strongest first;
    a term inside a stronger one ("workflows" in "github workflows") is left out."""
    pushes = model.contributions(change.title, change.body, change.files, answer, runner_up)
    chosen: list[Term] = []
    for field, term, push in sorted(pushes, key=lambda x: -x[2]):
        if push <= 0 or len(chosen) == MAX_TERMS:
            break
        words = term.split()
        if any(w in _FILLER or w.isdigit() or len(w) > MAX_WORD_CHARS for w in words):
            continue
        if any(term in t.term.split() or set(words) & set(t.term.split()) for t in chosen):
            continue
        chosen.append(Term(term, field, push))
    return tuple(chosen)


def _path_of(term: Term, files: Sequence[FileEntry]) -> str | None:
    """The changed file a `paths` term came from (a prose-safe path), to name it instead."""
    words = term.term.split()
    for f in _main_files(files):
        parts = re.findall(r"\w\w+", f.path.lower())
        if prose_path(f.path) and any(parts[i : i + len(words)] == words for i in range(len(parts))):
            return f.path
    return None


def _quoted(terms: Sequence[str]) -> str:
    said = [f"“{t}”" for t in terms]
    return said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]


def _evidence_phrase(
    terms: Sequence[Term], change: Change, files: Sequence[FileEntry]
) -> tuple[str, int, tuple[str, ...]]:
    """ "the path x/y.yml and the diff's “runs”": the terms grouped by where they are; how many
    things it names; the paths it names."""
    title_terms = set(ngrams(change.title))
    groups: dict[str, list[str]] = {}
    paths: list[str] = []
    for t in terms:
        path = _path_of(t, files) if t.field == "paths" else None
        if path is not None:
            if path not in paths:
                paths.append(path)
            continue
        where = "title" if t.field == "text" and t.term in title_terms else t.field
        groups.setdefault(where, []).append(t.term)
    parts = [f"the path {p}" for p in paths] + [
        f"{_WHERE[where]} {_quoted(ts)}" for where, ts in groups.items()
    ]
    named = len(paths) + sum(len(ts) for ts in groups.values())
    if len(parts) > 1:
        return ", ".join(parts[:-1]) + " and " + parts[-1], named, tuple(paths)
    return (parts[0] if parts else ""), named, tuple(paths)


def _pct(p: float) -> str:
    return f"{p:.0%}"


def decision(
    change: Change, answer: str, evidence: Evidence, files: Sequence[FileEntry]
) -> tuple[str, tuple[str, ...]]:
    """The second sentence: why the answer rather than the runner-up, from the scores."""
    runner = evidence.runner_up
    llm_a, llm_b = evidence.llm
    scores = f"{answer} {_pct(llm_a)}, {runner} {_pct(llm_b)}"
    if evidence.lexical is None:
        return f"Chosen over {runner}: the model gives {scores}.", ()
    said, named, paths = _evidence_phrase(evidence.terms, change, files)
    lex_a, lex_b = evidence.lexical
    if lex_a <= lex_b:
        return f"Chosen over {runner}: the model alone decides ({scores}); the wording leans to {runner}.", ()
    words = f"{said} favour{'s' if named == 1 else ''} it" if said else "the wording favours it"
    model = "and the model alone agrees" if llm_a > llm_b else "outweighing the model alone"
    return f"Chosen over {runner}: {words}, {model} ({scores}).", paths


def _words(text: str) -> int:
    return len(text.split())


def _first_sentence(said: str, places: Sequence[str], room: int) -> tuple[str, str]:
    """What and where within `room` words, and the place used: the place is shortened first
    (two files, one, none), then the title's words are cut."""
    for place in places:
        if _words(said) + _words(place) <= room:
            return f"{said} {place}".strip().rstrip(" .") + ".", place
    keep = " ".join(said.split()[:room]).rstrip(",;:")
    return (keep + "…." if keep else ""), ""


def compose(
    change: Change, files: Sequence[FileEntry], answer: str, evidence: Evidence, title_said: str
) -> tuple[str, tuple[str, ...]]:
    """The reasoning and the paths it names, within MAX_WORDS words."""
    second, term_paths = decision(change, answer, evidence, files)
    ordered = list(dict.fromkeys([where(files, 2), where(files, 1), ("", ())]))
    said = title_said or UNTITLED.get(answer, "Changes code")
    first, place = _first_sentence(said, [p for p, _ in ordered], MAX_WORDS - _words(second))
    place_paths = next(paths for p, paths in ordered if p == place)
    named = tuple(dict.fromkeys((*place_paths, *term_paths)))
    return (f"{first} {second}" if first else second), named


_REJECTED = frozenset({"length", "bare-category", "other-category", "invented-path"})


def _rejected(text: str, change: Change, answer: str, names: Sequence[str]) -> set[str]:
    """The reasoning check's flags that no reasoning may raise. Only the change's own paths count:
    the check would excuse a path the title names, but a title is the author's to write
    ("fix crash in lib/other.py" on a change to src/a.py), so here it excuses nothing."""
    facts = ChangeFacts.of("", [f.path for f in change.files], "")
    flags = set(check_reasoning(text, answer, names, facts)) - {"copies-title", "cites-nothing"}
    return flags & _REJECTED


def acceptable(text: str, change: Change, answer: str, names: Sequence[str]) -> bool:
    """Can a reasoning written by the model stand (reasoning = "model")? The checks a built one
    passes by construction: a sentence of 6 to 40 words, not a category name, no other category
    as the answer, no path the change does not hold, no repeated run."""
    return not _degenerate(text) and not _rejected(text, change, answer, names)


def _runner_up(probabilities: dict[str, float], answer: str) -> str:
    return max((c for c in probabilities if c != answer), key=probabilities.__getitem__)


def explain(
    change: Change, files: Sequence[FileEntry], answer: str, probabilities: dict[str, float],
    llm_probabilities: dict[str, float], lexical: LexicalModel | None, title_planted: bool,
    lexical_logp: dict[str, float] | None = None,
) -> tuple[str, Evidence]:  # fmt: skip
    """The reasoning for `answer` and the evidence it states.

    `probabilities` decided the answer (fused or the LLM's); `llm_probabilities` are the LLM's own;
    `lexical` is the fused scorer's lexical model (None when the LLM scored alone), and
    `lexical_logp` its log-probabilities for this change when the caller already has them.
    """
    names = list(probabilities)
    runner = _runner_up(probabilities, answer) if len(names) > 1 else answer
    lex_pair: tuple[float, float] | None = None
    terms: tuple[Term, ...] = ()
    weight: float | None = None
    if lexical is not None and runner != answer:
        logp = lexical_logp or lexical.log_probabilities(change.title, change.body, change.files)
        lex_pair = (math.exp(logp[answer]), math.exp(logp[runner]))
        terms = lexical_terms(lexical, change, answer, runner)
        weight = round(lexical.weight, 4)
    evidence = Evidence(
        runner, (llm_probabilities[answer], llm_probabilities[runner]), lex_pair, weight, terms, ()
    )
    # The title's words are what the reasoning cannot vouch for: without them it passes by construction.
    for title_said in (_title_said(change, answer, title_planted), ""):
        text, paths = compose(change, files, answer, evidence, title_said)
        if not _rejected(text, change, answer, names):
            break
    return text, Evidence(runner, evidence.llm, lex_pair, weight, terms, paths)
