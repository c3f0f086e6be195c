"""Train the lexical model the fused scorer ships (scikit-learn here; numpy alone at run time).

Three TF-IDF vectorizers (title and description, paths, the diff's start: `prtriage.pipeline.lexical_model.fields`)
and a balanced logistic regression, exported as vocabularies, idf weights and coefficients in one
`.npz`. The mixing weight is chosen on a validation repository: the LLM's predictions on it (from
`prtriage eval --predictions`) mixed with the lexical model's at each weight, the best macro-F1
wins. Never on the test repositories.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prtriage.core.errors import UsageError
from prtriage.evaluation.metrics import metrics
from prtriage.evaluation.prediction_record import Prediction
from prtriage.pipeline.change import change_from_record
from prtriage.pipeline.lexical_model import FIELDS, LexicalModel, fields, fuse_probabilities

MAX_FEATURES = 50_000  # per field
WEIGHTS = tuple(round(0.1 * i, 1) for i in range(11))
TEMPERATURES = tuple(round(0.5 + 0.1 * i, 1) for i in range(26))  # 0.5 to 3.0


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
        raise UsageError(
            f"no training record for {', '.join(sorted(missing))}: the lexical model needs every category"
        )
    return Trained(vectorizers, classifier, tuple(categories))


def export(trained: Trained, path: Path, weight: float, temperature: float = 1.0) -> None:
    """The `.npz` `prtriage.pipeline.lexical_model.LexicalModel.load` reads; written whole or not at all."""
    import numpy as np

    from prtriage.core.atomic import atomic_output

    order = [list(trained.classifier.classes_).index(c) for c in trained.categories]
    arrays: dict[str, Any] = {
        "categories": np.array(trained.categories),
        "coef": trained.classifier.coef_[order].astype(np.float32),
        "intercept": trained.classifier.intercept_[order].astype(np.float32),
        "weight": np.float32(weight),
        "temperature": np.float32(temperature),
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
    llm: Sequence[Prediction], lexical: dict[str, dict[str, float]], weight: float, temperature: float = 1.0
) -> list[Prediction]:
    """The LLM's predictions re-scored by the fused mix (unparsed ones stay as they were)."""
    from dataclasses import replace

    out = []
    for p in llm:
        if not p.probabilities:
            out.append(p)
            continue
        probs = fuse_probabilities(p.probabilities, lexical[p.id], weight, temperature)
        out.append(replace(p, predicted=max(probs, key=probs.__getitem__), probabilities=probs))
    return out


def choose_weight(
    llm: Sequence[Prediction], lexical: dict[str, dict[str, float]], categories: Sequence[str]
) -> tuple[float, dict[float, float]]:
    """The mixing weight with the best macro-F1 on validation predictions, and every weight's score."""
    scores = {w: metrics(fused_predictions(llm, lexical, w), categories)["macro_f1"] for w in WEIGHTS}
    best = max(WEIGHTS, key=lambda w: (round(scores[w], 6), -abs(w - 0.5)))
    return best, scores


def choose_temperature(
    llm: Sequence[Prediction], lexical: dict[str, dict[str, float]], weight: float
) -> tuple[float, dict[float, float]]:
    """The temperature whose fused probabilities give the truth the highest likelihood on validation
    (mean negative log-likelihood, the lower the better), and every temperature's."""
    import math

    scored = [p for p in llm if p.probabilities]
    nll = {}
    for t in TEMPERATURES:
        fused = fused_predictions(scored, lexical, weight, t)
        nll[t] = sum(-math.log(max(p.probabilities.get(p.truth, 0.0), 1e-12)) for p in fused) / len(fused)
    return min(TEMPERATURES, key=lambda t: (round(nll[t], 6), abs(t - 1.0))), nll


def tune_fusion(
    model_path: Path, output: Path, validation: Path, llm_predictions: Path, names: Sequence[str],
    say: Callable[[str], None],
) -> tuple[float, float]:  # fmt: skip
    """`prtriage train fuse`: the mixing weight (best macro-F1) and then the temperature (best
    likelihood) for one LLM's predictions on validation records; the model is written with both."""
    import numpy as np

    from prtriage.core.atomic import atomic_output
    from prtriage.evaluation.predict import load_eval_records
    from prtriage.evaluation.prediction_record import load_predictions

    model = LexicalModel.load(model_path)
    bad: list[Any] = []
    by_id = {str(r["id"]): r for r in load_eval_records(validation, names, bad, None, 0)}
    llm = [p for p in load_predictions(llm_predictions) if p.id in by_id]
    if not llm:
        raise UsageError(f"{llm_predictions}: no prediction for a record of {validation}")
    scores = lexical_predictions(model, [by_id[p.id] for p in llm])
    weight, by_weight = choose_weight(llm, scores, names)
    say(
        "macro-F1 on the validation records by weight: "
        + ", ".join(f"{w:.1f} {f:.3f}" for w, f in by_weight.items())
    )
    temperature, by_t = choose_temperature(llm, scores, weight)
    say(
        f"weight {weight:.1f}; temperature {temperature:.1f} (mean NLL {by_t[temperature]:.3f}, at 1.0 {by_t[1.0]:.3f})"
    )
    with np.load(model_path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(weight=np.float32(weight), temperature=np.float32(temperature))
    with atomic_output(output, binary=True) as out:
        np.savez_compressed(out, **arrays)
    return weight, temperature


def train_lexical(
    data_path: Path, output: Path, names: Sequence[str], excluded: set[str], validation: Path | None,
    llm_predictions: Path | None, weight: float, max_features: int, say: Callable[[str], None],
) -> None:  # fmt: skip
    """`prtriage train lexical`: fit on the records, pick the mixing weight on validation, write the .npz."""
    import importlib.util

    from prtriage.evaluation.predict import load_eval_records

    if importlib.util.find_spec("sklearn") is None:
        raise UsageError("prtriage train lexical needs scikit-learn", hint="pip install 'prtriage[train]'")
    if (validation is None) != (llm_predictions is None):
        raise UsageError("--validation and --llm-predictions go together")
    bad: list[Any] = []
    records = [r for r in load_eval_records(data_path, names, bad, None, 0) if r.get("repo") not in excluded]
    if not records:
        raise UsageError(f"no usable labeled records in {data_path}")
    say(f"training on {len(records)} records ({len(bad)} lines skipped)")
    trained = fit(records, names, max_features)
    export(trained, output, weight)
    if validation is not None and llm_predictions is not None:  # chosen on the model as it ships
        tune_fusion(output, output, validation, llm_predictions, names, say)
