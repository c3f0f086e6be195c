"""Which engine classifies: llama.cpp with the settings' model and adapter, or an engine factory
named by $PRTRIAGE_ENGINE (tests, benchmarks, Ray workers); and why its answers may be poor."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable

from prtriage.core.categories import DEFAULT_CATEGORIES
from prtriage.core.errors import UsageError
from prtriage.core.settings import Settings
from prtriage.pipeline.engine import LlamaEngine, LoadedEngine
from prtriage.pipeline.model_files import DEFAULT_ADAPTER, ModelFiles, resolve_model

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
