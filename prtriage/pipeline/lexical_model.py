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
from collections.abc import Callable, Sequence
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

    def features(self, texts: Sequence[str]) -> tuple[list[int], list[float]]:
        """Columns and values of the change's sparse TF-IDF vector."""
        lookups = [(vocab.get, lambda i, idf=idf: float(idf[i]), len(vocab))
                   for vocab, idf in zip(self.vocabularies, self.idf)]  # fmt: skip
        return tfidf(texts, lookups)

    def contributions(
        self, title: str, body: str, files: Sequence[FileDiff], answer: str, other: str
    ) -> list[tuple[str, str, float]]:
        """(field, term, push) for each term of the change: how much it raised the log-odds of
        `answer` over `other` in this model. Exact, since the model is linear: the pushes and the
        intercepts' difference add up to the two categories' logit difference."""
        texts = fields(title, body, files)
        named: dict[int, tuple[str, str]] = {}
        offset = 0
        for name, text, vocab in zip(FIELDS, texts, self.vocabularies):
            named.update((offset + vocab[t], (name, t)) for t in ngrams(text) if t in vocab)
            offset += len(vocab)
        a, b = self.categories.index(answer), self.categories.index(other)
        columns, values = self.features(texts)
        return [(*named[c], float(self.coef[a, c] - self.coef[b, c]) * v) for c, v in zip(columns, values)]

    def log_probabilities(self, title: str, body: str, files: Sequence[FileDiff]) -> dict[str, float]:
        import numpy as np

        columns, values = self.features(fields(title, body, files))
        logits = self.intercept + (self.coef[:, columns] @ np.asarray(values) if columns else 0.0)
        return dict(zip(self.categories, log_softmax([float(x) for x in logits])))


# A field's vocabulary as the TF-IDF arithmetic needs it: term → column (None when unknown),
# column → idf weight, and the field's number of columns.
FieldLookup = tuple[Callable[[str], "int | None"], Callable[[int], float], int]


def tfidf(texts: Sequence[str], lookups: Sequence[FieldLookup]) -> tuple[list[int], list[float]]:
    """Columns and values of the sparse TF-IDF vector of the fields' texts (sublinear tf, l2 norm
    per field): one arithmetic for the loaded model and the hook's memory-mapped index."""
    columns: list[int] = []
    values: list[float] = []
    offset = 0
    for text, (column_of, idf, size) in zip(texts, lookups):
        counts: Counter[int] = Counter()
        for term in ngrams(text):
            column = column_of(term)
            if column is not None:
                counts[column] += 1
        vals = [(1.0 + math.log(n)) * idf(c) for c, n in counts.items()]
        norm = math.sqrt(sum(v * v for v in vals)) or 1.0
        columns += [offset + c for c in counts]
        values += [v / norm for v in vals]
        offset += size
    return columns, values


def log_softmax(logits: Sequence[float]) -> list[float]:
    top = max(logits)
    total = math.log(sum(math.exp(x - top) for x in logits))
    return [x - top - total for x in logits]


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


# --- the index: the same model, memory-mapped, for the commit-msg hook -------------------------
#
# Loading the .npz costs numpy's import and inflating 6 MB of coefficients (about 0.15 s here),
# more than the rest of a commit-msg hook. The index is the same numbers, uncompressed, written
# once into the cache folder: a run looks up only the change's terms (binary search over the
# sorted terms) and reads only their coefficients, without numpy.

INDEX_MAGIC = b"PRTLEX1\n"


def write_index(model: LexicalModel, path: Path) -> None:
    """The model as one file of native-order arrays: per field the terms sorted (bytes), their
    start offsets, their columns and idf weights; then the coefficients, one column after another."""
    import json
    import sys
    from array import array

    parts: list[bytes] = []
    size = 0

    def add(data: bytes) -> int:
        nonlocal size
        at = size
        parts.append(data + b"\0" * (-len(data) % 8))  # 8-byte aligned, for the casts
        size += len(parts[-1])
        return at

    header: dict[str, Any] = {
        "byteorder": sys.byteorder, "categories": list(model.categories),
        "intercept": [float(x) for x in model.intercept], "weight": model.weight,
        "temperature": model.temperature, "fields": [],
    }  # fmt: skip
    for vocab, idf in zip(model.vocabularies, model.idf):
        terms = sorted((t.encode("utf-8"), c) for t, c in vocab.items())
        starts = array("Q", [0])
        for term, _ in terms:
            starts.append(starts[-1] + len(term))
        header["fields"].append({
            "terms": len(terms),
            "blob": add(b"".join(t for t, _ in terms)),
            "starts": add(starts.tobytes()),
            "columns": add(array("Q", [c for _, c in terms]).tobytes()),
            "idf": add(array("d", (float(x) for x in idf)).tobytes()),
        })  # fmt: skip
    header["coef"] = add(model.coef.T.astype("<f8" if sys.byteorder == "little" else ">f8").tobytes())
    head = json.dumps(header).encode()
    with path.open("wb") as out:
        out.write(INDEX_MAGIC + len(head).to_bytes(8, "little") + head)
        out.write(b"\0" * (-(len(INDEX_MAGIC) + 8 + len(head)) % 8))
        out.writelines(parts)


class LexicalIndex:
    """A lexical model read through its index: the same log-probabilities as LexicalModel's."""

    def __init__(self, path: Path) -> None:
        import json
        import mmap
        import sys

        with path.open("rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        m = self._map
        if m[: len(INDEX_MAGIC)] != INDEX_MAGIC:
            raise ModelError(f"{path} is not a lexical model index")
        length = int.from_bytes(m[8:16], "little")
        header = json.loads(m[16 : 16 + length])
        if header["byteorder"] != sys.byteorder:
            raise ModelError(f"{path} was written on a machine of the other byte order")
        base = 16 + length + (-(16 + length) % 8)
        view = memoryview(m)
        self.categories: tuple[str, ...] = tuple(header["categories"])
        self.intercept: list[float] = header["intercept"]
        self.weight: float = header["weight"]
        self.temperature: float = header["temperature"]
        self._fields = []
        for fld in header["fields"]:
            n = fld["terms"]
            starts = view[base + fld["starts"] : base + fld["starts"] + 8 * (n + 1)].cast("Q")
            blob = base + fld["blob"]  # where the terms start in the map (a map's slice is bytes)
            columns = view[base + fld["columns"] : base + fld["columns"] + 8 * n].cast("Q")
            idf = view[base + fld["idf"] : base + fld["idf"] + 8 * n].cast("d")
            self._fields.append((blob, starts, columns, idf, n))
        self._coef = view[base + header["coef"] :].cast("d")

    def _lookup(self, field: int) -> FieldLookup:
        blob, starts, columns, idf, n = self._fields[field]
        terms = self._map

        def column_of(term: str) -> int | None:
            key = term.encode("utf-8")
            lo, hi = 0, n
            while lo < hi:  # the terms are sorted by their bytes
                mid = (lo + hi) // 2
                here = terms[blob + starts[mid] : blob + starts[mid + 1]]
                if here == key:
                    return int(columns[mid])
                if here < key:
                    lo = mid + 1
                else:
                    hi = mid
            return None

        return column_of, idf.__getitem__, n

    def log_probabilities(self, title: str, body: str, files: Sequence[FileDiff]) -> dict[str, float]:
        k = len(self.categories)
        columns, values = tfidf(fields(title, body, files), [self._lookup(i) for i in range(len(FIELDS))])
        logits = list(self.intercept)
        for column, value in zip(columns, values):
            row = self._coef[column * k : column * k + k]
            for i in range(k):
                logits[i] += row[i] * value
        return dict(zip(self.categories, log_softmax(logits)))


def indexed(path: Path = DEFAULT_LEXICAL) -> LexicalIndex | LexicalModel:
    """The lexical model at `path` through its index in the cache folder, written on first use;
    the loaded model where the cache cannot be written.

    The index is named after the model file's path, size and modification time (no hashing: a
    hook must not pay for OpenSSL's start), so a changed model gets a new one and the old goes.
    """
    import zlib

    from prtriage.core.atomic import atomic_path
    from prtriage.core.cache_folder import cache_dir

    try:
        source = path.resolve()
        stat = source.stat()
    except OSError as e:
        raise ModelError(f"cannot read the lexical model {path}: {e.strerror}") from None
    folder = cache_dir() / "lexical"
    stem = f"{zlib.crc32(str(source).encode()):08x}"
    target = folder / f"{stem}-{stat.st_size}-{stat.st_mtime_ns}.idx"
    if target.is_file():
        return LexicalIndex(target)
    model = LexicalModel.load(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(target, per_process=True) as tmp:
            write_index(model, tmp)
        for old in folder.glob(f"{stem}-*.idx"):  # the same file's index before it changed
            if old != target:
                old.unlink(missing_ok=True)
    except OSError:
        return model  # a read-only cache: the slower load, every time
    return LexicalIndex(target)
