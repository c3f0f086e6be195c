"""--scorer fused: the LLM's category probabilities mixed with the shipped lexical model's."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from prtriage.core.settings import Settings
from prtriage.pipeline import lexical_model


@functools.cache
def _lexical_model(path: str | None) -> lexical_model.LexicalModel:
    return lexical_model.LexicalModel.load(Path(path) if path else lexical_model.DEFAULT_LEXICAL)


def fused_model(settings: Settings) -> lexical_model.LexicalModel | None:
    """The fused scorer's lexical model; None when scoring is the LLM's alone: --scorer llm, or
    custom categories the shipped lexical model never learned (scorer_warning says so). A lexical
    model configured by path must know the categories."""
    if settings.scorer != "fused":
        return None
    model = _lexical_model(settings.lexical)
    if settings.lexical is None and set(model.categories) != set(settings.category_names):
        return None
    lexical_model.check_categories(model, settings.category_names)
    return model


def scorer_warning(settings: Settings) -> str | None:
    if settings.scorer != "fused" or settings.lexical is not None or fused_model(settings) is not None:
        return None
    return (
        "warning: the shipped lexical model knows only the ten default categories: scoring with the "
        "LLM alone (train one on yours with `prtriage train lexical` for --scorer fused)"
    )


def fused_probabilities(
    names: Sequence[str], probs: Sequence[float], lex: dict[str, float], model: lexical_model.LexicalModel
) -> list[float]:
    """The LLM's category probabilities mixed with the lexical model's log-probabilities `lex`
    (--scorer fused; the caller has them, as the reasoning quotes them too)."""
    mixed = lexical_model.fuse_probabilities(dict(zip(names, probs)), lex, model.weight, model.temperature)
    return [mixed[n] for n in names]
