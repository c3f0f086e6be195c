"""`prtriage eval`: which records, and a model (or the rules baseline) predicting each one."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from prtriage.core.errors import PrtriageError
from prtriage.core.jsonl import BadLine, check_change_record, read_checked
from prtriage.core.settings import Settings
from prtriage.dataset.planting import PlantedCase
from prtriage.dataset.sampling import balanced_sample, seeded_subset
from prtriage.evaluation.metrics import calibration, coverage, metrics, reasoning_summary
from prtriage.evaluation.prediction_record import Prediction
from prtriage.evaluation.rules import rule_probabilities
from prtriage.pipeline.change import change_from_record
from prtriage.pipeline.reasoning_check import ChangeFacts, check_reasoning


def load_eval_records(
    path: Path, categories: Sequence[str], bad: list[BadLine], limit: int | None, seed: int,
    repos: Sequence[str] = (),
) -> list[dict[str, Any]]:  # fmt: skip
    """Labeled records; with `limit`, a seeded sample stratified by category (every one represented)."""

    def labeled(obj: dict[str, Any], number: int) -> dict[str, Any] | BadLine:
        problem = check_change_record(obj, str(path), number)
        if problem is None and obj.get("category") not in categories:
            problem = BadLine(str(path), number, f"unknown category {obj.get('category')!r}")
        if problem is not None:
            return problem
        obj.setdefault("id", f"{path.name}:{number}")
        return obj

    records = [r for r in read_checked(path, labeled, bad.append) if not repos or r.get("repo") in repos]
    return records if limit is None else balanced_sample(records, limit, seed)


def predict_rules(records: Sequence[dict[str, Any]], settings: Settings) -> Iterator[Prediction]:
    names = settings.category_names
    for r in records:
        start = time.perf_counter()
        change = change_from_record(r, settings.exclude)
        probs = rule_probabilities(change.title, change.files, names)
        best = max(range(len(names)), key=lambda i: probs[i])
        yield Prediction(
            str(r["id"]),
            r["category"],
            names[best],
            dict(zip(names, probs)),
            True,
            time.perf_counter() - start,
        )


def predict_model(records: Sequence[dict[str, Any]], engine: Any, settings: Settings) -> Iterator[Prediction]:
    from prtriage.pipeline.triage import classify

    for r in records:
        start = time.perf_counter()
        change = change_from_record(r, settings.exclude)
        try:
            result = classify(change, engine, settings)
        except PrtriageError:  # counted as an unparsed answer, never silently dropped
            yield Prediction(str(r["id"]), r["category"], "", {}, False, time.perf_counter() - start)
            continue
        facts = ChangeFacts.of(change.title, [f.path for f in change.files], r["diff"])
        flags = check_reasoning(result.reasoning, result.category, settings.category_names, facts)
        # The answer is one of the scored categories; the reasoning is text beside it (it may quote
        # a title's "double quotes"), so it cannot unparse the answer.
        parsed = result.category in settings.category_names
        yield Prediction(
            str(r["id"]), r["category"], result.category, result.probabilities, parsed,
            time.perf_counter() - start, int(result.timings.get("prompt_tokens_evaluated", 0)),
            result.timings.get("prompt_s", 0.0), result.reasoning, flags,
            llm_probabilities=result.llm_probabilities,
        )  # fmt: skip


def predict_planted(
    cases: Sequence[PlantedCase], predict: Callable[[Sequence[dict[str, Any]]], Iterator[Prediction]]
) -> Iterator[Prediction]:
    """Predictions on records with an instruction planted, marked with the placement and target."""
    for case, pred in zip(cases, predict([c.record for c in cases])):
        yield replace(pred, placement=case.placement, target=case.target)


def run_eval(
    records: Sequence[dict[str, Any]], predictor: Iterator[Prediction], categories: Sequence[str],
    on_prediction: Callable[[Prediction], None] | None = None,
) -> tuple[dict[str, Any], list[Prediction]]:  # fmt: skip
    preds = []
    for p in predictor:
        preds.append(p)
        if on_prediction:
            on_prediction(p)
    report = metrics(preds, categories)
    report["reasoning"] = reasoning_summary(preds)
    report["calibration"] = calibration(preds)
    report["coverage"] = coverage(preds)
    return report, preds


def sample_reasonings(preds: Sequence[Prediction], n: int, seed: int) -> list[Prediction]:
    """N predictions chosen by seed, not by hand, in their original order."""
    return seeded_subset(preds, n, seed)
