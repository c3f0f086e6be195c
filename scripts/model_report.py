"""The numbers behind docs/model.md: rules, TF-IDF, the base model and adapters on held-out repositories.

Splits the shared data by repository (the test repositories never appear in training), samples
a test set balanced by category, and prints one markdown table with accuracy and macro-F1 for:
(a) the rules baseline, (b) the base model zero-shot, (c) each --adapter, and (d) TF-IDF +
logistic regression trained on the whole training split; then each one's macro-F1 against the
rules' with a paired bootstrap interval. scikit-learn is needed here only.

Usage: python scripts/model_report.py [--per-category 30] [--adapter runs/x/adapter.gguf ...]
           [--predictions NAME=FILE ...]   # `prtriage eval --predictions` on the same sample
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from prtriage.config import Settings
from prtriage.dataset.sampling import balanced_sample
from prtriage.evaluation.metrics import metrics, paired_bootstrap
from prtriage.evaluation.predict import load_eval_records, predict_model, predict_rules
from prtriage.evaluation.prediction import Prediction, load_predictions
from prtriage.records import BadLine
from prtriage.triage import open_engine

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "commits-train.jsonl.gz"
TEST_REPOS = ("goreleaser/goreleaser", "vitest-dev/vitest")


def tfidf_text(record: dict[str, Any]) -> str:
    return f"{record.get('title') or ''}\n{record.get('body') or ''}\n{record['diff'][:8000]}"


def tfidf_predictions(
    train: list[dict[str, Any]], test: list[dict[str, Any]], names: tuple[str, ...]
) -> list[Prediction]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(
        max_features=100_000, ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"[A-Za-z_][A-Za-z0-9_.-]+"
    )
    x_train = vectorizer.fit_transform([tfidf_text(r) for r in train])
    model = LogisticRegression(max_iter=2000, C=4.0, class_weight="balanced")
    model.fit(x_train, [r["category"] for r in train])
    preds = []
    for r in test:
        start = time.perf_counter()
        probs = model.predict_proba(vectorizer.transform([tfidf_text(r)]))[0]
        by_name = dict(zip(model.classes_, probs))
        best = max(by_name, key=by_name.get)
        preds.append(
            Prediction(
                str(r["id"]),
                r["category"],
                best,
                {n: float(by_name.get(n, 0)) for n in names},
                True,
                time.perf_counter() - start,
            )
        )
    return preds


def read_predictions(spec: str, test: list[dict[str, Any]]) -> tuple[str, list[Prediction]]:
    """NAME=FILE: per-record predictions `prtriage eval` wrote; they must cover exactly this sample."""
    name, sep, path = spec.partition("=")
    if not sep:
        raise SystemExit(f"--predictions {spec!r}: use NAME=FILE")
    preds = load_predictions(Path(path))
    if sorted(p.id for p in preds) != sorted(str(r["id"]) for r in test):
        raise SystemExit(f"{path}: not this test sample (evaluate with the same --per-category and seed 0)")
    return name, preds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--test-repos", default=",".join(TEST_REPOS))
    parser.add_argument(
        "--per-category", type=int, default=30, help="test records per category (balanced sample)"
    )
    parser.add_argument(
        "--adapter", action="append", default=[], help="adapter GGUF to evaluate (repeatable)"
    )
    parser.add_argument("--predictions", action="append", default=[], help="NAME=FILE from prtriage eval")
    parser.add_argument("--context-size", type=int, default=512)
    parser.add_argument("--skip-base", action="store_true", help="skip the zero-shot base model")
    parser.add_argument("--json", type=Path, help="write all reports here")
    args = parser.parse_args()
    test_repos = args.test_repos.split(",")
    settings = Settings(context_size=args.context_size)
    names = settings.category_names
    bad: list[BadLine] = []
    everything = load_eval_records(args.data, names, bad, None, 0)
    train = [r for r in everything if r["repo"] not in test_repos]
    held_out = [r for r in everything if r["repo"] in test_repos]
    test = balanced_sample(held_out, args.per_category * len(names), 0)
    print(f"train {len(train)} records from {len({r['repo'] for r in train})} repositories; "
          f"test sample {len(test)} of {len(held_out)} from {', '.join(test_repos)}")  # fmt: skip
    preds: dict[str, list[Prediction]] = {}
    preds["rules"] = list(predict_rules(test, settings))
    preds["tfidf+logreg"] = tfidf_predictions(train, test, names)
    if not args.skip_base:
        engine = open_engine(Settings(context_size=args.context_size, adapter="none"))
        preds["base zero-shot"] = list(predict_model(test, engine, settings))
    for adapter in args.adapter:
        engine = open_engine(Settings(context_size=args.context_size, adapter=adapter))
        preds[f"adapter {Path(adapter).name}"] = list(predict_model(test, engine, settings))
    for spec in args.predictions:
        name, read = read_predictions(spec, test)
        preds[name] = read
    reports = {name: metrics(p, names) for name, p in preds.items()}
    print("\n| model | accuracy | macro-F1 | p50 latency s |\n| --- | ---: | ---: | ---: |")
    for name, m in reports.items():
        print(f"| {name} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | {m['latency_s']['p50']:.3f} |")
    print("\nmacro-F1 minus the rules', 95% paired bootstrap interval over the same records:")
    for name in list(preds)[1:]:
        low, high = paired_bootstrap(preds["rules"], preds[name], names)
        print(f"- {name}: [{low:+.3f}, {high:+.3f}]")
    if args.json:
        args.json.write_text(json.dumps(reports, indent=2))


if __name__ == "__main__":
    main()
