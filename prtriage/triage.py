"""classify: git → diff → budget → prompt → engine → result. The one place that wires them."""

from __future__ import annotations

import functools
import importlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from prtriage import git, lexical
from prtriage.budget import Budgeted, fit_change
from prtriage.categories import DEFAULT_CATEGORIES
from prtriage.change import Change, FileEntry, Result
from prtriage.config import Settings
from prtriage.conventional import Declared
from prtriage.diff import LINGUIST_ATTRS, mark_skipped, parse_diff
from prtriage.engine import Engine, LlamaEngine, LoadedEngine, probabilities
from prtriage.errors import GitError, UsageError
from prtriage.escape import valid_text
from prtriage.models import DEFAULT_ADAPTER, ModelFiles, resolve_model
from prtriage.planted_text import find_planted
from prtriage.prompt import DEFINITIONS, category_segment, reasoning_prefix_segment


def change_from_git(
    cwd: Path,
    spec: git.DiffSpec,
    exclude: Sequence[str],
    title: str | None = None,
    body: str | None = None,
) -> Change:
    """The change git describes: diff, files, and a title/description from flags or commits."""
    repo = git.repo_root(cwd)
    span = git.resolve_range(repo, spec)
    files = parse_diff(git.stream_diff(repo, span))
    where = "staged changes" if span is None else f"{span[0][:12]}..{span[1]}"
    if not files:
        hint = "stage changes with git add" if span is None else "commit your changes, or pick another --base"
        raise GitError(f"empty diff: no changes in {where}", hint=hint)
    attrs = git.check_attrs(repo, [f.path for f in files], LINGUIST_ATTRS)
    mark_skipped(files, exclude, attrs)
    if title is None or body is None:
        found_title, found_body = git.title_and_body(repo, span)
        title = found_title if title is None else title
        body = found_body if body is None else body
    return Change(title=title, body=body, files=files, source=where)


# `module:function` of an engine factory, called with the Settings instead of loading llama.cpp:
# how tests, benchmarks and the Ray workers load a fake or another engine without patching.
ENGINE_FACTORY_ENV = "PRTRIAGE_ENGINE"


def open_engine(settings: Settings, factory: str | None = None) -> LoadedEngine:
    """The model of the settings, or what `factory` (default: $PRTRIAGE_ENGINE) returns for them."""
    factory = factory or os.environ.get(ENGINE_FACTORY_ENV) or None
    if factory:
        return load_factory(factory)(settings)
    files = resolve_model(settings.model, settings.adapter)
    return LlamaEngine(files, settings.context_size, settings.threads, settings.gpu_layers)


def load_factory(spec: str) -> Callable[[Settings], LoadedEngine]:
    """The callable `module:function` names; a UsageError saying what is wrong with it."""
    module_name, _, name = spec.partition(":")
    where = f"{ENGINE_FACTORY_ENV}={spec}"
    if not module_name or not name:
        raise UsageError(f"{where}: an engine factory is module:function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise UsageError(f"{where}: cannot import {module_name} ({e})") from None
    factory = getattr(module, name, None)
    if not callable(factory):
        raise UsageError(f"{where}: {module_name} has no function {name!r}")
    return factory  # type: ignore[no-any-return]


def adapter_warning(settings: Settings, files: ModelFiles) -> str | None:
    """Why results may be poor: the bundled adapter only learned the ten default categories."""
    if files.adapter != DEFAULT_ADAPTER or settings.categories == DEFAULT_CATEGORIES:
        return None
    return (
        "warning: the bundled adapter was trained on the ten default categories, not on yours: "
        "expect poor results (try --adapter none, or train one: docs/training.md)"
    )


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


@functools.cache
def _lexical_model(path: str | None) -> lexical.LexicalModel:
    return lexical.LexicalModel.load(Path(path) if path else lexical.DEFAULT_LEXICAL)


def fused_model(settings: Settings) -> lexical.LexicalModel | None:
    """The fused scorer's lexical model; None when scoring is the LLM's alone: --scorer llm, or
    custom categories the shipped lexical model never learned (scorer_warning says so). A lexical
    model configured by path must know the categories."""
    if settings.scorer != "fused":
        return None
    model = _lexical_model(settings.lexical)
    if settings.lexical is None and set(model.categories) != set(settings.category_names):
        return None
    lexical.check_categories(model, settings.category_names)
    return model


def scorer_warning(settings: Settings) -> str | None:
    if settings.scorer != "fused" or settings.lexical is not None or fused_model(settings) is not None:
        return None
    return (
        "warning: the shipped lexical model knows only the ten default categories: scoring with the "
        "LLM alone (train one on yours with `prtriage train lexical` for --scorer fused)"
    )


def fused_probabilities(
    change: Change, names: Sequence[str], probs: Sequence[float], model: lexical.LexicalModel
) -> list[float]:
    """The LLM's category probabilities mixed with the lexical model's (--scorer fused)."""
    lex = model.log_probabilities(change.title, change.body, change.files)
    mixed = lexical.fuse_probabilities(dict(zip(names, probs)), lex, model.weight, model.temperature)
    return [mixed[n] for n in names]


def classify(change: Change, engine: Engine, settings: Settings) -> Result:
    """Score every category after the prompt; the most likely one gets a reasoning. Text of the
    change addressed to the classifier is found and carried in the result (planted_text.py)."""
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
    if fusing is not None:
        probs = fused_probabilities(change, names, probs, fusing)
    best = max(range(len(names)), key=lambda i: probs[i])
    prefix = engine.tokenize(reasoning_prefix_segment().text, False)
    answer_start = [*fitted.ids, *candidates[best], *prefix]
    reasoning = engine.reasoning(answer_start, len(fitted.ids), settings.reasoning_tokens)
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
        planted=find_planted(change.title, change.body, change.files, names),
        llm_probabilities=llm_probs if fusing is not None else None,
    )


DECLARED_READING = "the model did not run: the title's Conventional Commits type decided (declared = trust)"


def declared_result(change: Change, declared: Declared, settings: Settings) -> Result:
    """declared = trust: the category the title's type maps to is the answer; no model runs."""
    assert declared.category is not None
    names = settings.category_names
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
    )  # fmt: skip
