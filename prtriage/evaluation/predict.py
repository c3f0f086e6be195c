"""`prtriage eval`: a model (or the rules baseline) on labeled change records, with the numbers that matter."""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from prtriage.attack import PlantedCase, attack_metrics
from prtriage.change import change_from_record
from prtriage.config import Settings
from prtriage.errors import PrtriageError
from prtriage.prompt import answer_json
from prtriage.reasoning_check import FLAGS, ChangeFacts, check_reasoning, summarise
from prtriage.records import BadLine, check_change_record, read_jsonl
from prtriage.rules import rule_probabilities
from prtriage.sampling import balanced_sample, seeded_subset


@dataclass(frozen=True)
class Prediction:
    id: str
    truth: str
    predicted: str
    probabilities: dict[str, float]
    parsed: bool  # the final answer object parsed as JSON with a configured category
    latency_s: float
    prompt_tokens: int = 0
    prompt_s: float = 0.0
    reasoning: str = ""
    flags: tuple[str, ...] = ()  # reasoning_check flags; empty when the reasoning passed
    placement: str = ""  # with --attack: where an instruction was planted ("" for the record as is)
    target: str = ""  # the category the planted instruction asked for

    @property
    def confidence(self) -> float:
        return self.probabilities.get(self.predicted, 0.0)


def load_predictions(path: Path, attacked: bool = False) -> list[Prediction]:
    """The per-record lines `prtriage eval --predictions` wrote: the records as is, or the attacked ones."""
    lines = path.read_text(encoding="utf-8").splitlines()
    preds = []
    for line in lines:
        if line.strip():
            data = json.loads(line)
            data["flags"] = tuple(data.get("flags", ()))
            preds.append(Prediction(**data))
    return [p for p in preds if bool(p.placement) == attacked]


def load_eval_records(
    path: Path, categories: Sequence[str], bad: list[BadLine], limit: int | None, seed: int,
    repos: Sequence[str] = (),
) -> list[dict[str, Any]]:  # fmt: skip
    """Labeled records; with `limit`, a seeded sample stratified by category (every one represented)."""
    records = []
    for number, obj in read_jsonl(path):
        if isinstance(obj, BadLine):
            bad.append(obj)
            continue
        problem = check_change_record(obj, str(path), number)
        if problem is None and obj.get("category") not in categories:
            problem = BadLine(str(path), number, f"unknown category {obj.get('category')!r}")
        if problem is not None:
            bad.append(problem)
            continue
        if repos and obj.get("repo") not in repos:
            continue
        obj.setdefault("id", f"{path.name}:{number}")
        records.append(obj)
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
    from prtriage.triage import classify

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
        try:
            parsed = (
                json.loads(answer_json(result.category, result.reasoning))["category"]
                in settings.category_names
            )
        except (ValueError, KeyError):
            parsed = False
        yield Prediction(
            str(r["id"]), r["category"], result.category, result.probabilities, parsed,
            time.perf_counter() - start, int(result.timings.get("prompt_tokens_evaluated", 0)),
            result.timings.get("prompt_s", 0.0), result.reasoning, flags,
        )  # fmt: skip


def predict_planted(
    cases: Sequence[PlantedCase], predict: Callable[[Sequence[dict[str, Any]]], Iterator[Prediction]]
) -> Iterator[Prediction]:
    """Predictions on records with an instruction planted, marked with the placement and target."""
    for case, pred in zip(cases, predict([c.record for c in cases])):
        yield replace(pred, placement=case.placement, target=case.target)


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


def attack_report(clean: Sequence[Prediction], attacked: Sequence[Prediction]) -> dict[str, Any]:
    """Flip and hit rates per placement, and accuracy with the instruction planted."""
    answers = {p.id: p.predicted for p in clean}
    rates = attack_metrics(answers, [(p.id, p.placement, p.target, p.predicted) for p in attacked])
    for placement, row in rates.items():
        group = [p for p in attacked if placement in ("all", p.placement)]
        row["accuracy"] = sum(p.predicted == p.truth for p in group) / len(group) if group else 0.0
    return rates


def sample_reasonings(preds: Sequence[Prediction], n: int, seed: int) -> list[Prediction]:
    """N predictions chosen by seed, not by hand, in their original order."""
    return seeded_subset(preds, n, seed)


def print_report(report: dict[str, Any], console: Console) -> None:
    console.print(
        f"[bold]{report['model']}[/bold] on {report['records']} records: accuracy {report['accuracy']:.3f}, "
        f"macro-F1 {report['macro_f1']:.3f}, parsed {report['parsed_share']:.0%}, "
        f"latency p50 {report['latency_s']['p50']:.2f}s p95 {report['latency_s']['p95']:.2f}s"
        + (
            f", {report['prompt_tokens_per_s']:.0f} prompt tokens/s"
            if report.get("prompt_tokens_per_s")
            else ""
        )
    )
    table = Table(title="Per category", box=None)
    for col in ("category", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="left" if col == "category" else "right")
    for c, m in report["per_category"].items():
        table.add_row(c, f"{m['precision']:.2f}", f"{m['recall']:.2f}", f"{m['f1']:.2f}", str(m["support"]))
    console.print(table)
    labels, matrix = report["confusion"]["labels"], report["confusion"]["matrix"]
    conf = Table(title="Confusion (rows: true, columns: predicted)", box=None)
    conf.add_column("")
    for label in labels:
        conf.add_column(label[:5], justify="right")
    for label, row in zip(labels, matrix):
        conf.add_row(label, *[str(v) if v else "." for v in row])
    console.print(conf)
    print_reasoning(report.get("reasoning"), console)
    if report.get("calibration"):
        print_calibration(report["calibration"], report.get("coverage", []), console)
    if report.get("attack"):
        print_attack(report["attack"], console)


def print_reasoning(summary: dict[str, Any] | None, console: Console) -> None:
    if summary is None:
        console.print("Reasoning: none (this model writes no reasoning)")
        return
    if not summary["checked"]:
        return
    rates = ", ".join(f"{flag} {summary['flag_rates'][flag]:.0%}" for flag in FLAGS)
    console.print(
        f"Reasoning: {summary['pass_rate']:.0%} pass every check (of {summary['checked']}); flagged: {rates}"
    )


def print_calibration(cal: dict[str, Any], cover: Sequence[dict[str, Any]], console: Console) -> None:
    table = Table(title=f"Calibration: expected calibration error {cal['ece']:.3f}", box=None)
    for col in ("confidence", "count", "accuracy", "mean confidence"):
        table.add_column(col, justify="left" if col == "confidence" else "right")
    for row in cal["table"]:
        table.add_row(f"{row['from']:.1f}-{row['to']:.1f}", str(row["count"]), f"{row['accuracy']:.2f}",
                      f"{row['mean_confidence']:.2f}")  # fmt: skip
    console.print(table)
    if cover:
        console.print(
            "--min-confidence: "
            + "; ".join(
                f"{c['min_confidence']:.1f} keeps {c['coverage']:.0%}"
                + (f" at accuracy {c['accuracy']:.2f}" if c["accuracy"] is not None else "")
                for c in cover
            )
        )


def print_attack(rates: dict[str, dict[str, Any]], console: Console) -> None:
    table = Table(
        title="Planted instructions (flip: the answer changed; hit: changed to the target)", box=None
    )
    for col in ("placement", "cases", "flip rate", "hit rate", "accuracy"):
        table.add_column(col, justify="left" if col == "placement" else "right")
    for placement, row in rates.items():
        table.add_row(placement, str(row["cases"]), f"{row['flip_rate']:.0%}", f"{row['hit_rate']:.0%}",
                      f"{row['accuracy']:.2f}")  # fmt: skip
    console.print(table)


def print_reasonings(preds: Sequence[Prediction], console: Console) -> None:
    """Predictions with their reasoning and the flags it raised, for reading, not only scoring."""
    from rich.text import Text

    for p in preds:
        head = f"{p.id}: {p.predicted or '(none)'} {p.confidence:.0%} (true: {p.truth})"
        flags = ", ".join(p.flags) if p.flags else "passes"
        console.print(Text(head, style="bold"))
        console.print(Text(f"  {p.reasoning or '(no reasoning)'}"))
        console.print(Text(f"  [{flags}]", style="dim"))


def plot_confusion(report: dict[str, Any], path: Path) -> bool:
    """A PNG of the confusion matrix and the reliability diagram, when matplotlib is installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    labels, matrix = report["confusion"]["labels"], report["confusion"]["matrix"]
    fig, (ax, rel) = plt.subplots(1, 2, figsize=(13, 6), gridspec_kw={"width_ratios": [1.2, 1]})
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i, row in enumerate(matrix):
        for j, v in enumerate(row):
            if v:
                ax.text(j, i, str(v), ha="center", va="center", fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{report['model']}: macro-F1 {report['macro_f1']:.3f}")
    _plot_reliability(rel, report.get("calibration") or {"table": [], "ece": None})
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _plot_reliability(ax: Any, cal: dict[str, Any]) -> None:
    rows = cal["table"]
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect calibration")
    ax.bar([(r["from"] + r["to"]) / 2 for r in rows], [r["accuracy"] for r in rows],
           width=[0.9 * (r["to"] - r["from"]) for r in rows], alpha=0.7, label="accuracy")  # fmt: skip
    ax.plot([r["mean_confidence"] for r in rows], [r["accuracy"] for r in rows], "o", color="black",
            label="at mean confidence")  # fmt: skip
    for r in rows:
        ax.text((r["from"] + r["to"]) / 2, r["accuracy"] + 0.02, str(r["count"]), ha="center", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.08)
    ax.set_xlabel("confidence (bucket; count above each bar)")
    ax.set_ylabel("accuracy")
    ece = cal.get("ece")
    ax.set_title("Reliability" + (f": ECE {ece:.3f}" if ece is not None else ""))
    ax.legend(loc="upper left", fontsize=8)
