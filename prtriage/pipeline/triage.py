"""classify: a change → budget → prompt → engine → scores (fused) → result. The one place that wires them.

The pipeline's front door: commands, batch, eval and notes call `classify` (or `declared_result`)."""

from __future__ import annotations

import time
from dataclasses import replace

from prtriage.core.conventional import Declared
from prtriage.core.escape import valid_text
from prtriage.core.settings import Settings
from prtriage.pipeline.budget import Budgeted, fit_change
from prtriage.pipeline.change import Change
from prtriage.pipeline.engine import Engine, probabilities
from prtriage.pipeline.explain import acceptable, explain
from prtriage.pipeline.fusion import fused_model, fused_probabilities
from prtriage.pipeline.planted_text import find_planted
from prtriage.pipeline.prompt import DEFINITIONS, category_segment, reasoning_prefix_segment
from prtriage.pipeline.result import FileEntry, Result


def prompt_format(engine: Engine, settings: Settings) -> str:
    """The instructions the model was trained to read: an adapter trained on these categories says
    which in its metadata; anything else (--adapter none, v1, custom categories) gets definitions."""
    trained = engine.trained_prompt
    if trained is None or trained.categories != settings.category_names:
        return DEFINITIONS
    return trained.format


def budget(change: Change, engine: Engine, settings: Settings) -> Budgeted:
    return fit_change(
        change.title, change.body, change.files, settings.categories, engine,
        settings.context_size, settings.reasoning_tokens, prompt_format(engine, settings),
    )  # fmt: skip


def classify(change: Change, engine: Engine, settings: Settings) -> Result:
    """Score every category after the prompt; the most likely one gets a reasoning built from the
    scores (explain.py; with reasoning = "model", the model's own sentence when it passes the same
    checks). Text of the change addressed to the classifier is found and carried in the result
    (planted_text.py)."""
    start = time.perf_counter()
    # Titles and descriptions may come from JSON (an event, a record) with lone surrogates.
    change = replace(change, title=valid_text(change.title), body=valid_text(change.body))
    fitted = budget(change, engine, settings)
    budget_s = time.perf_counter() - start
    names = settings.category_names
    candidates = [engine.tokenize(category_segment(n).text, False) for n in names]
    probs = probabilities(engine.score(fitted.ids, candidates, fitted.shared_prefix))
    fusing = fused_model(settings)
    llm_probs = dict(zip(names, probs))
    lex: dict[str, float] | None = None  # the lexical model's log-probabilities: fused, then quoted
    if fusing is not None:
        lex = fusing.log_probabilities(change.title, change.body, change.files)
        probs = fused_probabilities(names, probs, lex, fusing)
    best = max(range(len(names)), key=lambda i: probs[i])
    # Read first what the prompt shows, in its order: a change cannot starve the detector.
    planted = find_planted(change.title, change.body, change.files, names, fitted.shown, fitted.listed)
    reasoning, evidence = explain(
        change, fitted.files, names[best], dict(zip(names, probs)), llm_probs, fusing,
        any(span.where == "title" for span in planted), lex,
    )  # fmt: skip
    if settings.reasoning == "model":
        prefix = engine.tokenize(reasoning_prefix_segment().text, False)
        answer_start = [*fitted.ids, *candidates[best], *prefix]
        written = engine.reasoning(answer_start, len(fitted.ids), settings.reasoning_tokens)
        if acceptable(written, change, names[best], names):
            reasoning, evidence = written, replace(evidence, paths=())  # its paths are the model's words
    timings = {"budget_s": budget_s, **engine.take_timings()}
    timings["total_s"] = time.perf_counter() - start + timings.get("load_s", 0.0)
    return Result(
        category=names[best],
        confidence=probs[best],
        probabilities=dict(zip(names, probs)),
        reasoning=reasoning,
        files=fitted.files,
        model=engine.name,
        adapter=engine.adapter,
        prompt_tokens=len(fitted.ids),
        body_cut=fitted.body_cut,
        source=change.source,
        timings=timings,
        min_confidence=settings.min_confidence,
        scorer="fused" if fusing is not None else "llm",
        model_sha256=engine.files.sha256,
        adapter_sha256=engine.files.adapter_sha256,
        planted=planted,
        llm_probabilities=llm_probs if fusing is not None else None,
        evidence=evidence,
        saw_little_uncertain=settings.saw_little == "uncertain",
    )


DECLARED_READING = "the model did not run: the title's Conventional Commits type decided (declared = trust)"


def declared_result(change: Change, declared: Declared, settings: Settings) -> Result:
    """declared = trust: the category the title's type maps to is the answer; no model runs. The
    planted-text detector still does: a title's type is as much the author's text as the rest."""
    assert declared.category is not None
    names = settings.category_names
    title, body = valid_text(change.title), valid_text(change.body)
    files = tuple(
        FileEntry(f.path, f.old_path, f.status, f.kind, f.additions, f.deletions, "none", "not read")
        for f in change.files
    )
    return Result(
        category=declared.category, confidence=1.0,
        probabilities={n: 1.0 if n == declared.category else 0.0 for n in names},
        reasoning=f"the title declares `{declared.said}`", files=files, model="", adapter=None,
        prompt_tokens=0, body_cut=False, source=change.source, min_confidence=settings.min_confidence,
        scorer=settings.scorer, declared=declared, decided_by="declared type",
        planted=find_planted(title, body, change.files, names),
    )  # fmt: skip
