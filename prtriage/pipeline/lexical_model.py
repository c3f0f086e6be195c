"""A small lexical model: TF-IDF n-grams of the change's words and paths, then logistic regression.

It runs with numpy alone (no scikit-learn at run time): the vocabulary, idf weights and
coefficients are trained by `prtriage train lexical` (scikit-learn, in the train extra) and
shipped as one `.npz`. The fused scorer mixes its log-probabilities with the model's:
a lexical model reads every word of the change in a millisecond, where the LLM sees only what
fits in its context, and their errors differ.

Tokenisation follows scikit-learn's defaults (lower case, `(?u)\\b\\w\\w+\\b`, word 1–2 grams,
sublinear tf, l2 norm per field) so the shipped weights mean what they meant in training;
tests pin the parity.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prtriage.core.errors import ModelError
from prtriage.pipeline.diff import FileDiff

if TYPE_CHECKING:
    import numpy as np

FIELDS = ("text", "paths", "diff")
TEXT_CHARS, DIFF_CHARS = 1000, 4000  # what each field reads of the description and the diff
DEFAULT_LEXICAL = Path(__file__).parents[1] / "bundled" / "lexical.npz"
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_PATH_SEPARATORS = re.compile(r"[/._-]+")


def fields(title: str, body: str, files: Sequence[FileDiff]) -> tuple[str, str, str]:
    """The three texts the lexical model reads: title and description, paths, the diff's start.

    Training and `classify` both call this on parsed files, so they read the same text; the
    content of files the LLM may not see (lock files, generated, excluded) is left out here too.
    """
    diff = "".join(f.header + "".join(f.hunks) for f in files if f.skip is None)
    return (
        f"{title}\n{body[:TEXT_CHARS]}",
        "\n".join(_PATH_SEPARATORS.sub(" ", f.path) for f in files),
        diff[:DIFF_CHARS],
    )


def ngrams(text: str) -> list[str]:
    """scikit-learn's word analyzer with ngram_range (1, 2) on lower-cased text."""
    tokens = _TOKEN.findall(text.lower())
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


@dataclass(frozen=True)
class LexicalModel:
    categories: tuple[str, ...]
    vocabularies: tuple[dict[str, int], ...]  # one per field, term → column within the field
    idf: tuple[np.ndarray, ...]
    coef: np.ndarray  # (categories, all columns): the fields' columns one after another
    intercept: np.ndarray
    weight: float  # the lexical model's share in the fused log-probability mix
    temperature: float = 1.0  # the mix is divided by it: calibration, chosen on validation

    @classmethod
    def load(cls, path: Path = DEFAULT_LEXICAL) -> LexicalModel:
        import numpy as np

        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
            categories = tuple(str(c) for c in data["categories"])
            vocabularies = tuple(
                {term: i for i, term in enumerate(str(data[f"vocab_{f}"].tobytes(), "utf-8").split("\n"))}
                for f in FIELDS
            )
            idf = tuple(data[f"idf_{f}"].astype(np.float64) for f in FIELDS)
            model = cls(
                categories, vocabularies, idf, data["coef"].astype(np.float64),
                data["intercept"].astype(np.float64), float(data["weight"]),
                float(data["temperature"]) if "temperature" in data else 1.0,
            )  # fmt: skip
        except (OSError, KeyError, ValueError) as e:
            raise ModelError(
                f"cannot read the lexical model {path}: {e}",
                hint="re-create it with `prtriage train lexical`, or use --scorer llm",
            ) from None
        if sum(len(v) for v in vocabularies) != model.coef.shape[1] or model.coef.shape[0] != len(categories):
            raise ModelError(f"the lexical model {path} is inconsistent (its shapes do not match)")
        return model

    def weighted_terms(self, texts: Sequence[str]) -> list[tuple[str, str, int, float]]:
        """(field, term, column, value) of each term of the change's sparse TF-IDF vector."""
        out: list[tuple[str, str, int, float]] = []
        offset = 0
        for name, text, vocab, idf in zip(FIELDS, texts, self.vocabularies, self.idf):
            counts = Counter(t for t in ngrams(text) if t in vocab)
            vals = [(1.0 + math.log(n)) * float(idf[vocab[t]]) for t, n in counts.items()]
            norm = math.sqrt(sum(v * v for v in vals)) or 1.0
            out += [(name, t, offset + vocab[t], v / norm) for t, v in zip(counts, vals)]
            offset += len(vocab)
        return out

    def features(self, texts: Sequence[str]) -> tuple[list[int], list[float]]:
        """Columns and values of the change's sparse TF-IDF vector."""
        terms = self.weighted_terms(texts)
        return [column for _, _, column, _ in terms], [value for *_, value in terms]

    def contributions(
        self, title: str, body: str, files: Sequence[FileDiff], answer: str, other: str
    ) -> list[tuple[str, str, float]]:
        """(field, term, push) for each term of the change: how much it raised the log-odds of
        `answer` over `other` in this model. Exact, since the model is linear: the pushes and the
        intercepts' difference add up to the two categories' logit difference."""
        a, b = self.categories.index(answer), self.categories.index(other)
        return [
            (name, term, float(self.coef[a, column] - self.coef[b, column]) * value)
            for name, term, column, value in self.weighted_terms(fields(title, body, files))
        ]

    def log_probabilities(self, title: str, body: str, files: Sequence[FileDiff]) -> dict[str, float]:
        import numpy as np

        columns, values = self.features(fields(title, body, files))
        logits = self.intercept + (self.coef[:, columns] @ np.asarray(values) if columns else 0.0)
        shifted = logits - logits.max()
        logp = shifted - math.log(float(np.exp(shifted).sum()))
        return dict(zip(self.categories, (float(x) for x in logp)))


def fuse(
    llm: dict[str, float], lexical: dict[str, float], weight: float, temperature: float = 1.0
) -> dict[str, float]:
    """Probabilities from the weighted mix of two log-probability vectors, over `temperature`.

    The temperature changes no answer (the order stays), only how sure each answer says it is.
    """
    mixed = {c: ((1 - weight) * llm[c] + weight * lexical.get(c, -30.0)) / temperature for c in llm}
    top = max(mixed.values())
    exp = {c: math.exp(v - top) for c, v in mixed.items()}
    total = sum(exp.values())
    return {c: v / total for c, v in exp.items()}


def fuse_probabilities(
    probs: dict[str, float], lexical: dict[str, float], weight: float, temperature: float = 1.0
) -> dict[str, float]:
    """`fuse` for the LLM's category probabilities (what classify and eval predictions hold)."""
    return fuse({c: math.log(max(p, 1e-12)) for c, p in probs.items()}, lexical, weight, temperature)


def check_categories(model: LexicalModel, names: Sequence[str]) -> None:
    """The fused scorer needs a lexical model trained on the configured categories."""
    if set(model.categories) != set(names):
        raise ModelError(
            "the lexical model was trained on other categories: "
            f"{', '.join(model.categories)} (configured: {', '.join(names)})",
            hint="train one on your categories with `prtriage train lexical`, or use --scorer llm",
        )


def describe(model: Any) -> str:
    return (
        f"lexical model ({sum(len(v) for v in model.vocabularies)} terms, weight {model.weight:.2f}, "
        f"temperature {model.temperature:.2f})"
    )
