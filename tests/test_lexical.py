"""The fused scorer's lexical model: numpy inference against scikit-learn, loading, mixing."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from prtriage.errors import ModelError
from prtriage.lexical import LexicalModel, check_categories, fuse, ngrams

NAMES = ("fix", "docs", "deps")


def diff(path: str, added: str) -> str:
    return f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -1 +1,2 @@\n a\n+{added}\n"


def records() -> list[dict[str, object]]:
    out = []
    for i in range(12):
        out += [
            {"id": f"f{i}", "title": f"fix crash number {i}", "body": "It crashed on null input.",
             "diff": diff(f"src/mod{i}.py", "if x is None: raise ValueError"), "category": "fix"},
            {"id": f"d{i}", "title": f"document option {i}", "body": "",
             "diff": diff(f"docs/page{i}.md", "Explain the option in the guide"), "category": "docs"},
            {"id": f"p{i}", "title": f"bump lib{i} from 1.{i} to 2.0", "body": "Bumps the dependency.",
             "diff": diff("package.json", f'"lib{i}": "^2.0.0"'), "category": "deps"},
        ]  # fmt: skip
    return out


def test_ngrams_match_scikit_learn_defaults() -> None:
    assert ngrams("Fix the A-b crash, x") == ["fix", "the", "crash", "fix the", "the crash"]


def test_fuse_by_hand() -> None:
    llm = {"fix": math.log(0.6), "docs": math.log(0.4)}
    lex = {"fix": math.log(0.2), "docs": math.log(0.8)}
    assert fuse(llm, lex, 0.0) == pytest.approx({"fix": 0.6, "docs": 0.4})
    assert fuse(llm, lex, 1.0) == pytest.approx({"fix": 0.2, "docs": 0.8})
    half = fuse(llm, lex, 0.5)
    expected = math.sqrt(0.6 * 0.2) / (math.sqrt(0.6 * 0.2) + math.sqrt(0.4 * 0.8))
    assert half["fix"] == pytest.approx(expected) and sum(half.values()) == pytest.approx(1.0)


def test_numpy_inference_matches_scikit_learn(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    from scipy.sparse import hstack

    from prtriage.train.lexical import export, fit, lexical_predictions, record_fields

    data = records()
    trained = fit(data, NAMES, max_features=1000)
    path = tmp_path / "lexical.npz"
    export(trained, path, weight=0.3)
    model = LexicalModel.load(path)
    assert model.categories == NAMES and model.weight == pytest.approx(0.3)
    ours = lexical_predictions(model, data)
    matrix = hstack(
        [v.transform([record_fields(r)[i] for r in data]) for i, v in enumerate(trained.vectorizers)]
    ).tocsr()
    theirs = trained.classifier.predict_log_proba(matrix)
    classes = list(trained.classifier.classes_)
    for row, r in zip(theirs, data):
        for c in NAMES:
            assert ours[str(r["id"])][c] == pytest.approx(row[classes.index(c)], abs=1e-5)
    assert not (tmp_path / "lexical.npz.partial").exists()


def test_bad_lexical_files_are_one_line_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(ModelError, match="cannot read the lexical model"):
        LexicalModel.load(broken)
    with pytest.raises(ModelError, match="cannot read the lexical model"):
        LexicalModel.load(tmp_path / "missing.npz")


def test_categories_must_match(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    from prtriage.train.lexical import export, fit

    path = tmp_path / "lexical.npz"
    export(fit(records(), NAMES, max_features=1000), path, weight=0.5)
    model = LexicalModel.load(path)
    check_categories(model, ["docs", "deps", "fix"])  # order does not matter
    with pytest.raises(ModelError, match="trained on other categories"):
        check_categories(model, ["fix", "docs", "chore"])
