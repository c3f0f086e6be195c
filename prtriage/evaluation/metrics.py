"""The numbers of `prtriage eval`: macro-F1, paired bootstrap, calibration, coverage, reasoning, planted flips."""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from typing import Any

from prtriage.core.errors import PrtriageError
from prtriage.evaluation.prediction_record import Prediction
from prtriage.pipeline.reasoning_check import summarise


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def metrics(preds: Sequence[Prediction], categories: Sequence[str]) -> dict[str, Any]:
    index = {c: i for i, c in enumerate(categories)}
    matrix = [[0] * len(categories) for _ in categories]
    for p in preds:
        if p.predicted in index:
            matrix[index[p.truth]][index[p.predicted]] += 1
    per_category = {}
    for c, i in index.items():
        tp = matrix[i][i]
        predicted = sum(row[i] for row in matrix)
        support = sum(1 for p in preds if p.truth == c)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        per_category[c] = {
            "precision": precision,
            "recall": recall,
            "f1": _f1(precision, recall),
            "support": support,
        }
    present = [c for c in categories if per_category[c]["support"] > 0]
    prompt_s = sum(p.prompt_s for p in preds)
    return {
        "records": len(preds),
        "accuracy": sum(p.truth == p.predicted for p in preds) / len(preds) if preds else 0.0,
        "macro_f1": statistics.fmean(per_category[c]["f1"] for c in present) if present else 0.0,
        "per_category": per_category,
        "confusion": {"labels": list(categories), "matrix": matrix},
        "parsed_share": sum(p.parsed for p in preds) / len(preds) if preds else 0.0,
        "latency_s": {
            "p50": _percentile([p.latency_s for p in preds], 0.5),
            "p95": _percentile([p.latency_s for p in preds], 0.95),
        },
        "prompt_tokens_per_s": sum(p.prompt_tokens for p in preds) / prompt_s if prompt_s else None,
    }


def paired_bootstrap(
    a: Sequence[Prediction],
    b: Sequence[Prediction],
    categories: Sequence[str],
    rounds: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """95% interval of macro-F1(b) - macro-F1(a) over the same records, resampled together.

    Pairing matters: on a few hundred records the two models' errors are correlated, and
    resampling each alone would make every difference look like noise.
    """
    by_id = {p.id: p for p in b}
    if sorted(by_id) != sorted(p.id for p in a):
        raise PrtriageError(
            "the two prediction sets cover different records", hint="evaluate both on the same sample"
        )
    pairs = [(p, by_id[p.id]) for p in sorted(a, key=lambda p: p.id)]
    rng = random.Random(seed)
    diffs = []
    for _ in range(rounds):
        pick = [rng.choice(pairs) for _ in pairs]
        diffs.append(
            metrics([y for _, y in pick], categories)["macro_f1"]
            - metrics([x for x, _ in pick], categories)["macro_f1"]
        )
    diffs.sort()
    return diffs[int(0.025 * rounds)], diffs[int(0.975 * rounds)]


CONFIDENCE_BINS = 10


COVERAGE_THRESHOLDS = (0.5, 0.7, 0.9)


def calibration(preds: Sequence[Prediction], bins: int = CONFIDENCE_BINS) -> dict[str, Any]:
    """Expected calibration error and the reliability table: equal-width buckets of confidence."""
    rows = []
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        members = [p for p in preds if lo <= p.confidence < hi or (b == bins - 1 and p.confidence >= hi)]
        if not members:
            continue
        accuracy = sum(p.predicted == p.truth for p in members) / len(members)
        mean = statistics.fmean(p.confidence for p in members)
        ece += len(members) / len(preds) * abs(accuracy - mean)
        rows.append(
            {"from": lo, "to": hi, "count": len(members), "accuracy": accuracy, "mean_confidence": mean}
        )
    return {"ece": ece if preds else None, "bins": bins, "table": rows}


def coverage(
    preds: Sequence[Prediction], thresholds: Sequence[float] = COVERAGE_THRESHOLDS
) -> list[dict[str, Any]]:
    """For each --min-confidence P: the share of results at or above it, and their accuracy."""
    out = []
    for t in thresholds:
        kept = [p for p in preds if p.confidence >= t]
        accuracy = sum(p.predicted == p.truth for p in kept) / len(kept) if kept else None
        out.append(
            {"min_confidence": t, "coverage": len(kept) / len(preds) if preds else 0.0, "accuracy": accuracy}
        )
    return out


def reasoning_summary(preds: Sequence[Prediction]) -> dict[str, Any] | None:
    """Reasoning pass rate and flag rates; None for a predictor that writes no reasoning (rules)."""
    if not any(p.reasoning for p in preds):
        return None
    return summarise([p.flags for p in preds if p.parsed])


def attack_report(clean: Sequence[Prediction], attacked: Sequence[Prediction]) -> dict[str, Any]:
    """Flip and hit rates per placement, and accuracy with the instruction planted."""
    answers = {p.id: p.predicted for p in clean}
    rates = attack_metrics(answers, [(p.id, p.placement, p.target, p.predicted) for p in attacked])
    for placement, row in rates.items():
        group = [p for p in attacked if placement in ("all", p.placement)]
        row["accuracy"] = sum(p.predicted == p.truth for p in group) / len(group) if group else 0.0
    return rates


def attack_metrics(
    clean: dict[str, str], attacked: Sequence[tuple[str, str, str, str]]
) -> dict[str, dict[str, float | int]]:
    """Per placement and overall: flip rate (answer changed) and hit rate (changed to the target).

    `clean` maps a record id to its clean answer; `attacked` holds (id, placement, target, answer).
    A hit counts only when the clean answer was not already the target.
    """
    groups: dict[str, list[tuple[str, str, str, str]]] = {}
    for row in attacked:
        groups.setdefault(row[1], []).append(row)
    groups["all"] = list(attacked)
    out: dict[str, dict[str, float | int]] = {}
    for placement, rows in groups.items():
        n = len(rows)
        flips = sum(answer != clean[rid] for rid, _, _, answer in rows)
        hits = sum(answer == target != clean[rid] for rid, _, target, answer in rows)
        out[placement] = {
            "cases": n,
            "flip_rate": flips / n if n else 0.0,
            "hit_rate": hits / n if n else 0.0,
        }
    return out
