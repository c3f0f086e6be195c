"""`prtriage eval --plot`: the confusion matrix and the reliability diagram (matplotlib, optional)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


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
