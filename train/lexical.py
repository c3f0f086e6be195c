"""Train the lexical model the fused scorer ships (scikit-learn here; numpy alone at run time).

Three TF-IDF vectorizers (title and description, paths, the diff's start: `prtriage.lexical.fields`)
and a balanced logistic regression, exported as vocabularies, idf weights and coefficients in one
`.npz`. The mixing weight is chosen on a validation repository: the LLM's predictions on it (from
`prtriage eval --predictions`) mixed with the lexical model's at each weight, the best macro-F1
wins. Never on the test repositories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prtriage.change import change_from_record
from prtriage.evaluate import Prediction, metrics
from prtriage.lexical import FIELDS, LexicalModel, fields, fuse_probabilities

MAX_FEATURES = 50_000  # per field
WEIGHTS = tuple(round(0.1 * i, 1) for i in range(11))


def record_fields(record: dict[str, Any]) -> tuple[str, str, str]:
    """The record's fields as classify sees its change (lock files, generated and vendored marked)."""
    change = change_from_record(record, ())
    return fields(change.title, change.body, change.files)


@dataclass
class Trained:
    vectorizers: list[Any]
    classifier: Any
    categories: tuple[str, ...]


def fit(
    records: Sequence[dict[str, Any]], categories: Sequence[str], max_features: int = MAX_FEATURES
) -> Trained:
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [record_fields(r) for r in records]
    vectorizers = [
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=max_features, sublinear_tf=True)
        for _ in FIELDS
    ]
    matrix = hstack([v.fit_transform([t[i] for t in texts]) for i, v in enumerate(vectorizers)]).tocsr()
    classifier = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000)
    classifier.fit(matrix, [r["category"] for r in records])
    missing = set(categories) - set(classifier.classes_)
    if missing:
        from prtriage.errors import UsageError

        raise UsageError(
            f"no training record for {', '.join(sorted(missing))}: the lexical model needs every category"
        )
    return Trained(vectorizers, classifier, tuple(categories))


def export(trained: Trained, path: Path, weight: float) -> None:
    """The `.npz` `prtriage.lexical.LexicalModel.load` reads; written whole or not at all."""
    import numpy as np

    from prtriage.atomic import atomic_output

    order = [list(trained.classifier.classes_).index(c) for c in trained.categories]
    arrays: dict[str, Any] = {
        "categories": np.array(trained.categories),
        "coef": trained.classifier.coef_[order].astype(np.float32),
        "intercept": trained.classifier.intercept_[order].astype(np.float32),
        "weight": np.float32(weight),
    }
    for name, vectorizer in zip(FIELDS, trained.vectorizers):
        terms = vectorizer.get_feature_names_out()
        arrays[f"vocab_{name}"] = np.frombuffer("\n".join(terms).encode("utf-8"), dtype=np.uint8)
        arrays[f"idf_{name}"] = vectorizer.idf_.astype(np.float32)
    with atomic_output(path, binary=True) as out:
        np.savez_compressed(out, **arrays)


def lexical_scores(model: LexicalModel, records: Sequence[dict[str, Any]]) -> list[dict[str, float]]:
    """The lexical model's log-probabilities for each record, in order (planted copies share ids)."""
    changes = (change_from_record(r, ()) for r in records)
    return [model.log_probabilities(c.title, c.body, c.files) for c in changes]


def lexical_predictions(
    model: LexicalModel, records: Sequence[dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """Record id → the lexical model's log-probabilities."""
    return {str(r["id"]): s for r, s in zip(records, lexical_scores(model, records))}


def fused_predictions(
    llm: Sequence[Prediction], lexical: dict[str, dict[str, float]], weight: float
) -> list[Prediction]:
    """The LLM's predictions re-scored by the fused mix (unparsed ones stay as they were)."""
    from dataclasses import replace

    out = []
    for p in llm:
        if not p.probabilities:
            out.append(p)
            continue
        probs = fuse_probabilities(p.probabilities, lexical[p.id], weight)
        out.append(replace(p, predicted=max(probs, key=probs.__getitem__), probabilities=probs))
    return out


def choose_weight(
    llm: Sequence[Prediction], lexical: dict[str, dict[str, float]], categories: Sequence[str]
) -> tuple[float, dict[float, float]]:
    """The mixing weight with the best macro-F1 on validation predictions, and every weight's score."""
    scores = {w: metrics(fused_predictions(llm, lexical, w), categories)["macro_f1"] for w in WEIGHTS}
    best = max(WEIGHTS, key=lambda w: (round(scores[w], 6), -abs(w - 0.5)))
    return best, scores
