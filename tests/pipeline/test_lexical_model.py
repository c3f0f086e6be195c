"""The fused scorer's lexical model: numpy inference against scikit-learn, loading, mixing."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

import pytest

from prtriage.core.errors import ModelError
from prtriage.evaluation.prediction_record import Prediction
from prtriage.pipeline.lexical_model import LexicalModel, check_categories, fuse, ngrams

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


def test_temperature_keeps_the_answer_and_changes_only_the_confidence() -> None:
    llm = {"fix": math.log(0.6), "docs": math.log(0.3), "deps": math.log(0.1)}
    lex = {"fix": math.log(0.5), "docs": math.log(0.4), "deps": math.log(0.1)}
    plain, hot, cold = (fuse(llm, lex, 0.4, t) for t in (1.0, 2.0, 0.5))
    assert max(hot, key=hot.get) == max(cold, key=cold.get) == max(plain, key=plain.get) == "fix"
    assert cold["fix"] > plain["fix"] > hot["fix"] > 1 / 3
    assert hot["fix"] == pytest.approx(math.sqrt(plain["fix"]) / sum(math.sqrt(p) for p in plain.values()))


def _predictions(truths_and_probs: list[tuple[str, str, dict[str, float]]]) -> list[Prediction]:
    return [
        Prediction(rid, truth, max(p, key=p.__getitem__), p, True, 0.0) for rid, truth, p in truths_and_probs
    ]


def test_the_temperature_is_chosen_by_likelihood_on_validation() -> None:
    pytest.importorskip("sklearn")
    from prtriage.train.lexical import TEMPERATURES, choose_temperature

    # An over-confident scorer that is right 60% of the time: a flatter mix (T > 1) fits better.
    sure = {"fix": 0.98, "docs": 0.01, "deps": 0.01}
    preds = _predictions([(str(i), "fix" if i % 5 < 3 else "docs", sure) for i in range(50)])
    lex = {str(i): {"fix": math.log(0.98), "docs": math.log(0.01), "deps": math.log(0.01)} for i in range(50)}
    best, nll = choose_temperature(preds, lex, 0.5)
    assert best > 1.0 and nll[best] < nll[1.0] and set(nll) == set(TEMPERATURES)


def test_train_fuse_writes_the_weight_and_temperature(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    from prtriage.train.lexical import export, fit, tune_fusion

    data = records()
    path = tmp_path / "lexical.npz"
    export(fit(data, NAMES, max_features=1000), path, weight=0.5)
    val = tmp_path / "val.jsonl"
    val.write_text("".join(json.dumps(r) + "\n" for r in data))
    # An LLM that always says `fix`: the lexical model must carry the mix.
    preds = tmp_path / "preds.jsonl"
    always_fix = {"fix": 0.8, "docs": 0.1, "deps": 0.1}
    preds.write_text(
        "".join(
            json.dumps(asdict(p)) + "\n"
            for p in _predictions([(str(r["id"]), str(r["category"]), always_fix) for r in data])
        )
    )
    said: list[str] = []
    weight, temperature = tune_fusion(path, tmp_path / "tuned.npz", val, preds, NAMES, said.append)
    tuned = LexicalModel.load(tmp_path / "tuned.npz")
    assert weight >= 0.5 and (tuned.weight, tuned.temperature) == pytest.approx((weight, temperature))
    assert LexicalModel.load(path).weight == pytest.approx(0.5)  # the input is left as it was
    assert said[0].startswith("macro-F1 on the validation records by weight: 0.0 ")


def test_the_index_gives_the_shipped_models_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commit-msg hook's memory-mapped index: the same log-probabilities as the loaded .npz
    on every record, written once into the cache, and a new one when the model file changes."""
    import shutil
    import time

    from prtriage.pipeline.change import change_from_record
    from prtriage.pipeline.lexical_model import DEFAULT_LEXICAL, LexicalIndex, indexed

    monkeypatch.setenv("PRTRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    shipped = LexicalModel.load()
    index = indexed()
    assert isinstance(index, LexicalIndex) and index.categories == shipped.categories
    assert (index.weight, index.temperature) == pytest.approx((shipped.weight, shipped.temperature))
    extra = {"id": "u", "title": "Ünïcode ßtraße — naïve café", "body": "日本語 テキスト", "diff": diff("é/ü.py", "ß = 1"),
             "category": "fix"}  # fmt: skip
    for record in [*records(), extra, {**extra, "title": "", "body": "", "diff": ""}]:
        change = change_from_record(record, ())
        want = shipped.log_probabilities(change.title, change.body, change.files)
        got = index.log_probabilities(change.title, change.body, change.files)
        assert got.keys() == want.keys()
        assert all(got[c] == pytest.approx(want[c], abs=1e-9) for c in want), (got, want)
    (written,) = (tmp_path / "cache" / "lexical").glob("*.idx")
    assert isinstance(indexed(), LexicalIndex) and list(written.parent.glob("*.idx")) == [written]  # reused
    # A model file of its own that then changes: a new index, and the old one goes.
    own = tmp_path / "own.npz"
    shutil.copy(DEFAULT_LEXICAL, own)
    indexed(own)
    own_first = {p.name for p in written.parent.glob("*.idx")} - {written.name}
    assert len(own_first) == 1
    time.sleep(0.01)
    own.write_bytes(own.read_bytes())  # same content, a new modification time
    indexed(own)
    own_now = {p.name for p in written.parent.glob("*.idx")} - {written.name}
    assert len(own_now) == 1 and own_now != own_first  # replaced, not added
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("PRTRIAGE_CACHE_DIR", str(tmp_path / "file" / "cache"))  # cannot be made
    assert isinstance(indexed(own), LexicalModel)  # the loaded model instead, still right
    with pytest.raises(ModelError, match="cannot read the lexical model"):
        indexed(tmp_path / "missing.npz")
