"""The report `prtriage eval` prints (rich tables on the console)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from prtriage.evaluation.prediction_record import Prediction
from prtriage.pipeline.reasoning_check import FLAGS


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

    from prtriage.core.escape import no_workflow_command, one_line

    for p in preds:  # ids and reasoning come from the data set and the model: one line, no command
        head = f"{one_line(p.id)}: {p.predicted or '(none)'} {p.confidence:.0%} (true: {p.truth})"
        flags = ", ".join(p.flags) if p.flags else "passes"
        console.print(Text(no_workflow_command(head), style="bold"), soft_wrap=True)
        reasoning = no_workflow_command(one_line(p.reasoning or "(no reasoning)"))
        console.print(Text(f"  {reasoning}"), soft_wrap=True)
        console.print(Text(f"  [{flags}]", style="dim"))
