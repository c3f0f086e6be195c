"""Every model table of docs/model.md and the README's line on accuracy, from the runs of
examples/v3/evaluate.sh (the exact `prtriage eval` commands), in one report.

    python scripts/model_tables.py [--runs runs/v3] [--write]

Reads the test split (runs/v3/data/test.jsonl), the stored predictions of each `prtriage eval`
run (runs/v3/eval/), and the lexical models; scores the rules and both lexical models on the
whole test split, and every model on the LLM sample, fused ones from the stored probabilities
(the LLM's own are kept beside the fused ones in each prediction). Prints the tables; with
--write, stores every number in docs/model-report.json and replaces the generated blocks of
docs/model.md and README.md (between `<!-- generated: NAME -->` and `<!-- end: NAME -->`).
tests/test_model_docs.py checks that the docs still say what the report holds.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "model-report.json"
DOCS = {"model": ROOT / "docs" / "model.md", "readme": ROOT / "README.md"}
BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end: (?P=name) -->)", re.S)
SEED = 0

# (row name, how it is made); the LLM rows come from the runs of examples/v3/evaluate.sh.
LLM_ROWS = {
    "v1": ("v1-test.jsonl", "llm"),
    "v1 fused (old lexical)": ("v1-test.jsonl", "old"),
    "v1 fused": ("v1-test.jsonl", "fused"),
    "v3": ("v3-test.jsonl", "llm"),
    "v3 fused": ("v3-test.jsonl", "fused"),
}
ATTACK = {"v1-test.jsonl": "v1-attack.jsonl", "v3-test.jsonl": "v3-attack.jsonl"}
LLM_LIMIT, ATTACK_LIMIT = 400, 50  # the seeded samples of examples/v3/evaluate.sh


def _lexical_alone(model: Any, records: Sequence[dict[str, Any]], like: Sequence[Any] = ()) -> list[Any]:
    """The lexical model's own predictions (its probabilities, no LLM), marked as `like`'s are."""
    import math
    import time

    from prtriage.evaluation.prediction_record import Prediction
    from prtriage.pipeline.change import change_from_record

    out = []
    for i, r in enumerate(records):
        start = time.perf_counter()
        change = change_from_record(r, ())
        logp = model.log_probabilities(change.title, change.body, change.files)
        probs = {c: math.exp(v) for c, v in logp.items()}
        best = max(probs, key=probs.__getitem__)
        pred = Prediction(str(r["id"]), r["category"], best, probs, True, time.perf_counter() - start)
        out.append(replace(pred, placement=like[i].placement, target=like[i].target) if like else pred)
    return out


def _variant(preds: Sequence[Any], records: Sequence[dict[str, Any]], kind: str, old: Any) -> list[Any]:
    """A run's predictions as `kind` makes them: as run (fused), the LLM alone, or the LLM fused
    with the old lexical model (`records` are the records each prediction was made on, in order)."""
    from prtriage.pipeline.lexical_model import fuse_probabilities
    from prtriage.train.lexical import lexical_scores

    if kind == "fused":
        return list(preds)
    # The run wrote its reasonings for the fused answer: they say nothing of these rows' answers.
    alone = [replace(p.llm_alone(), reasoning="", flags=()) for p in preds]
    if kind == "llm":
        return alone
    out = []
    for p, lex in zip(alone, lexical_scores(old, records)):  # by position: planted copies share ids
        probs = fuse_probabilities(p.probabilities, lex, old.weight, old.temperature)
        out.append(replace(p, predicted=max(probs, key=probs.__getitem__), probabilities=probs))
    return out


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def shipped_files(report: dict[str, Any]) -> dict[str, str]:
    """The sha256 each file under prtriage/bundled/ must have for the decision the report made."""
    adapter, files = report["decision"]["adapter"], report["files"]
    return {"default-adapter.gguf": files[f"{adapter}.gguf"], "lexical.npz": files[f"lexical-{adapter}.npz"]}


def _summary(preds: Sequence[Any], names: Sequence[str], reasoning: bool = True) -> dict[str, Any]:
    from prtriage.evaluation.metrics import calibration, coverage, metrics

    m = metrics(preds, names)
    out: dict[str, Any] = {
        "records": len(preds),
        "macro_f1": round(m["macro_f1"], 3),
        "accuracy": round(m["accuracy"], 3),
        "per_category_f1": {c: round(m["per_category"][c]["f1"], 2) for c in names},
        "ece": round(calibration(preds)["ece"], 3),
        "latency_p50_s": round(statistics.median(p.latency_s for p in preds), 4),
        "coverage": [
            {
                "min_confidence": c["min_confidence"],
                "kept": round(c["coverage"], 3),
                "accuracy": None if c["accuracy"] is None else round(c["accuracy"], 3),
            }
            for c in coverage(preds)
        ],  # fmt: skip
    }
    said = _reasoning_row(preds) if reasoning else None
    if said is not None:
        out["reasoning"] = said
    return out


def _reasoning_row(preds: Sequence[Any]) -> dict[str, Any] | None:
    """The reasoning check over `preds`, as the report keeps it (None: no reasoning was checked)."""
    from prtriage.evaluation.metrics import reasoning_summary

    said = reasoning_summary(preds)
    if not said["checked"]:
        return None
    rates = said["flag_rates"]
    return {
        "checked": said["checked"],
        "pass": round(said["pass_rate"], 3),
        "contradictions": round(rates["other-category"], 3),
        "invented_paths": round(rates["invented-path"], 3),
        "bare_category": round(rates["bare-category"], 3),
    }


def _quoted_reasonings(preds: Sequence[Any]) -> list[dict[str, Any]]:
    """Ten reasonings chosen by seed, not by hand, with their answers and flags."""
    from prtriage.evaluation.predict import sample_reasonings

    return [
        {"record": p.id, "answer": p.predicted, "confidence": round(p.confidence, 2), "truth": p.truth,
         "reasoning": p.reasoning, "flags": list(p.flags)}
        for p in sample_reasonings(preds, 10, SEED)
    ]  # fmt: skip


def _flips(clean: Sequence[Any], attacked: Sequence[Any]) -> dict[str, float]:
    from prtriage.evaluation.metrics import attack_report

    return {k: round(v["flip_rate"], 3) for k, v in attack_report(clean, attacked).items()}


def _prompt_room(records: Sequence[dict[str, Any]], context: int) -> dict[str, Any]:
    """Tokens of the change the model sees and the share shown whole: v1's prompt at 512, v3's."""
    from prtriage.core.categories import DEFAULT_CATEGORIES
    from prtriage.core.settings import DEFAULT_REASONING_TOKENS
    from prtriage.pipeline.budget import fit_change
    from prtriage.pipeline.change import change_from_record
    from prtriage.pipeline.engine import load_llama
    from prtriage.pipeline.model_files import ModelFiles, embedded_model_path
    from prtriage.pipeline.prompt import DEFINITIONS, NAMES

    llm = load_llama(ModelFiles("embedded", embedded_model_path(), None), n_ctx=64, vocab_only=True)

    class Vocab:
        bos_id = None

        def tokenize(self, text: str, special: bool) -> list[int]:
            return list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=special))

    vocab = Vocab()
    out = {}
    for label, fmt, ctx in (("v1", DEFINITIONS, 512), ("v3", NAMES, context)):
        seen, whole = [], 0
        for r in records:
            change = change_from_record(r, ())
            fitted = fit_change(change.title, change.body, change.files, DEFAULT_CATEGORIES, vocab, ctx,
                                DEFAULT_REASONING_TOKENS, fmt)  # fmt: skip
            template = sum(len(vocab.tokenize(s.text, True)) for s in fitted.segments if s.special)
            seen.append(len(fitted.ids) - template)
            whole += all(f.shown == "full" for f in fitted.files) and not fitted.body_cut
        out[label] = {"context": ctx, "prompt_format": fmt, "median_change_tokens": int(statistics.median(seen)),
                      "shown_whole": round(whole / len(records), 3)}  # fmt: skip
    return out


CONTEXTS = (512, 768, 1024)
CONTEXT_SLACK = 0.01  # macro-F1 a smaller context may give up for its speed


def validation_row(path: Path) -> dict[str, float]:
    """One LLM run on the validation sample: macro-F1, accuracy and time per change."""
    from prtriage.core.settings import Settings
    from prtriage.evaluation.metrics import metrics
    from prtriage.evaluation.prediction_record import load_predictions

    preds = load_predictions(path)
    m = metrics(preds, Settings().category_names)
    return {"records": len(preds), "macro_f1": round(m["macro_f1"], 3), "accuracy": round(m["accuracy"], 3),
            "latency_p50_s": round(statistics.median(p.latency_s for p in preds), 3)}  # fmt: skip


def context_table(runs: Path) -> dict[int, dict[str, float]]:
    """v3 on the validation sample at each context it could be served at."""
    return {c: validation_row(runs / "eval" / f"v3-val-{c}.jsonl") for c in CONTEXTS}


def choose_context(table: dict[int, dict[str, float]]) -> int:
    """The smallest context within CONTEXT_SLACK macro-F1 of the best: the rest is time for nothing."""
    best = max(row["macro_f1"] for row in table.values())
    return min(c for c, row in table.items() if row["macro_f1"] >= best - CONTEXT_SLACK)


def build(runs: Path, context: int) -> dict[str, Any]:
    """Every number the docs quote, from the stored runs."""
    from prtriage.core.settings import Settings
    from prtriage.dataset.planting import PLACEMENTS, load_phrasings, planted_cases
    from prtriage.evaluation.metrics import paired_bootstrap
    from prtriage.evaluation.predict import load_eval_records
    from prtriage.evaluation.prediction_record import load_predictions
    from prtriage.pipeline.lexical_model import LexicalModel

    names = Settings().category_names
    ev = runs / "eval"
    test_path = runs / "data" / "test.jsonl"
    test = load_eval_records(test_path, names, [], None, SEED)
    by_id = {str(r["id"]): r for r in test}
    old, new = LexicalModel.load(runs / "lexical-old.npz"), LexicalModel.load(runs / "lexical-v3.npz")
    rules = load_predictions(ev / "rules-test.jsonl")
    whole = {
        "rules": rules,
        "lexical (old)": _lexical_alone(old, test),
        "lexical (new)": _lexical_alone(new, test),
    }

    runs_ = {f: load_predictions(ev / f) for f in {f for f, _ in LLM_ROWS.values()}}
    sample_ids = [p.id for p in runs_["v3-test.jsonl"]]
    sample = [by_id[i] for i in sample_ids]
    if any([p.id for p in preds] != sample_ids for preds in runs_.values()):
        raise SystemExit("the LLM runs were not made on the same sample (same --limit and --seed?)")
    rules_by_id = {p.id: p for p in rules}
    rows: dict[str, list[Any]] = {
        "rules": [rules_by_id[i] for i in sample_ids],
        "lexical (old)": _lexical_alone(old, sample),
        "lexical (new)": _lexical_alone(new, sample),
    }
    for row, (run, kind) in LLM_ROWS.items():
        rows[row] = _variant(runs_[run], sample, kind, old)

    # Planted instructions: the attack sample and its cases, rebuilt as `prtriage eval --attack` made them.
    attack_sample = load_eval_records(test_path, names, [], ATTACK_LIMIT, SEED)
    cases = planted_cases(attack_sample, PLACEMENTS, names, load_phrasings("eval"), SEED)
    case_records = [c.record for c in cases]
    expected = [(str(c.record["id"]), c.placement, c.target) for c in cases]
    attacks = {}  # each attack run once: (its clean predictions, its planted ones)
    for name in ATTACK.values():
        attacks[name] = (load_predictions(ev / name), load_predictions(ev / name, attacked=True))
        if [(p.id, p.placement, p.target) for p in attacks[name][1]] != expected:
            raise SystemExit(f"{name} does not match the rebuilt planted cases (limit, seed, placements?)")
    flips: dict[str, dict[str, float]] = {}
    for row, (run, kind) in LLM_ROWS.items():
        clean, attacked = attacks[ATTACK[run]]
        flips[row] = _flips(
            _variant(clean, attack_sample, kind, old), _variant(attacked, case_records, kind, old)
        )
    for row, model in (("lexical (old)", old), ("lexical (new)", new)):
        flips[row] = _flips(
            _lexical_alone(model, attack_sample),
            _lexical_alone(model, case_records, attacks[ATTACK["v3-test.jsonl"]][1]),
        )
    flips["rules"] = _flips(
        load_predictions(ev / "rules-attack.jsonl"),
        load_predictions(ev / "rules-attack.jsonl", attacked=True),
    )
    compare = [("v1 fused", "v3 fused"), ("v1 fused (old lexical)", "v3 fused"), ("v3", "v3 fused"),
               ("lexical (new)", "v3 fused"), ("v1", "v3"), ("v1", "v1 fused"), ("lexical (new)", "v1 fused"),
               ("lexical (old)", "lexical (new)"), ("rules", "lexical (new)"), ("lexical (new)", "v1"),
               ("lexical (new)", "v3"), ("v1 fused (old lexical)", "v1 fused"), *(("rules", m) for m in ("v1", "v1 fused", "v3", "v3 fused"))]  # fmt: skip
    intervals = {
        f"{b} minus {a}": [round(x, 3) for x in paired_bootstrap(rows[a], rows[b], names)] for a, b in compare
    }
    contexts = context_table(runs)
    return {
        "contexts": {
            "validation": {str(c): row for c, row in contexts.items()},
            "chosen": context,
            "v1_validation": validation_row(ev / "v1-val-512.jsonl"),
        },  # fmt: skip
        "files": {
            name: _sha256(runs / name) for name in ("v1.gguf", "v3.gguf", "lexical-v1.npz", "lexical-v3.npz")
        },
        "test_split": {
            "records": len(test),
            "repositories": sorted({r["repo"] for r in test}),
            "models": {n: _summary(p, names, False) for n, p in whole.items()},
        },  # fmt: skip
        "sample": {"records": len(sample_ids), "models": {n: _summary(p, names) for n, p in rows.items()}},
        "attack_records": len(attack_sample),
        "intervals": intervals,
        "flip_rates": flips,
        "prompt_room": _prompt_room(sample, context),
        # the rows that wrote their own reasonings (an LLM-alone row reuses its run's)
        "reasonings": {row: _quoted_reasonings(rows[row]) for row in ("v1 fused", "v3 fused")},
    }


EXPLAINED = "v1 fused, explained"  # the default since issue 27: v1 fused, the reasoning built from the scores
NEW_ADAPTERS = ("v3",)  # adapters measured against v1 by the ship rule
F1_SLACK = (
    0.01  # macro-F1 a new adapter's fused scorer may give up against v1 fused (prose must not cost more)
)
REASONING_TARGETS = {"pass": 0.95, "contradictions": 0.0, "invented_paths": 0.0}


def _meets_reasoning(m: dict[str, Any]) -> bool:
    r = m.get("reasoning") or {}
    return (
        r.get("pass", 0.0) >= REASONING_TARGETS["pass"]
        and r.get("contradictions", 1.0) <= REASONING_TARGETS["contradictions"]
        and r.get("invented_paths", 1.0) <= REASONING_TARGETS["invented_paths"]
    )


def _adapter_ships(report: dict[str, Any], adapter: str) -> bool:
    """A new adapter ships if its fused macro-F1 is at most F1_SLACK below v1 fused's (or above), its
    reasonings meet the targets, and its flip rate is no higher than v1 fused's."""
    models, flips = report["sample"]["models"], report["flip_rates"]
    new, old = models[f"{adapter} fused"], models["v1 fused"]
    return (
        new["macro_f1"] >= old["macro_f1"] - F1_SLACK
        and _meets_reasoning(new)
        and flips[f"{adapter} fused"]["all"] <= flips["v1 fused"]["all"]
    )


def decide(report: dict[str, Any]) -> dict[str, Any]:
    """The ship rule (issue 27), applied to the numbers: which adapter, scorer and reasoning ship.

    A new adapter ships if `_adapter_ships`; otherwise v1 stays. The fused scorer is the default
    when it leads the adapter alone on the test repositories' point estimate and is better
    calibrated (lower ECE). With v1, the reasoning is the one built from the scores (the
    `EXPLAINED` row) when that meets the reasoning targets.
    """
    models = report["sample"]["models"]
    adapter = next((a for a in NEW_ADAPTERS if _adapter_ships(report, a)), "v1")
    fused, alone = models[f"{adapter} fused"], models[adapter]
    fused_ships = fused["macro_f1"] > alone["macro_f1"] and fused["ece"] < alone["ece"]
    default = f"{adapter} fused" if fused_ships else adapter
    explained = models.get(EXPLAINED)
    if adapter == "v1" and fused_ships and explained is not None and _meets_reasoning(explained):
        return {"adapter": adapter, "scorer": "fused", "default": EXPLAINED, "reasoning": "evidence"}
    return {
        "adapter": adapter,
        "scorer": "fused" if fused_ships else "llm",
        "default": default,
        "reasoning": "model",
    }


def add_explained(runs: Path, report: dict[str, Any]) -> None:
    """The runs made after examples/v3/evaluate.sh, added to its report: the default as it ships
    since issue 27 (`prtriage eval` with no model flags on the same 400 records,
    runs/v3/eval/default-test.jsonl), and the deterministic teacher's reasoning for the same answers
    (a reference row for the reasoning check only)."""
    from prtriage.core.settings import Settings
    from prtriage.dataset.teacher import teach
    from prtriage.evaluation.predict import load_eval_records
    from prtriage.evaluation.prediction_record import load_predictions
    from prtriage.pipeline.change import change_from_record
    from prtriage.pipeline.reasoning_check import ChangeFacts, check_reasoning

    names = Settings().category_names
    sample = load_eval_records(runs / "data" / "test.jsonl", names, [], LLM_LIMIT, SEED)
    preds = load_predictions(runs / "eval" / "default-test.jsonl")
    if [p.id for p in preds] != [str(r["id"]) for r in sample]:
        raise SystemExit("default-test.jsonl is not the 400-record test sample (--limit 400 --seed 0?)")
    models = report["sample"]["models"]
    row = _summary(preds, names)
    same = ("macro_f1", "accuracy", "per_category_f1", "ece")
    if any(row[k] != models["v1 fused"][k] for k in same):
        raise SystemExit(f"{EXPLAINED} does not answer as v1 fused did: rerun its attack sample too")
    models[EXPLAINED] = row
    # Same answers as v1 fused (checked above), so the same planted instructions flip them.
    report["flip_rates"][EXPLAINED] = report["flip_rates"]["v1 fused"]
    teacher = []
    for p, r in zip(preds, sample):
        change = change_from_record(r, ())
        text = teach(change.title, change.files, p.predicted)
        facts = ChangeFacts.of(change.title, [f.path for f in change.files], r["diff"])
        teacher.append(replace(p, reasoning=text, flags=check_reasoning(text, p.predicted, names, facts)))
    report["reasoning_reference"] = {"teacher": _reasoning_row(teacher)}
    report["reasonings"][EXPLAINED] = _quoted_reasonings(preds)


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x:.0%}"


def _row(name: str, m: dict[str, Any], flips: dict[str, float] | None, shipped: str) -> str:
    r = m.get("reasoning") or {}
    latency = m["latency_p50_s"]
    time_ = f"{latency * 1000:.1f} ms" if latency < 0.1 else f"{latency:.2f} s"
    cells = [
        f"**{name}** (default)" if name == shipped else name,
        f"{m['macro_f1']:.3f}",
        f"{m['accuracy']:.3f}",
        _pct(r.get("pass")),
        _pct(r.get("contradictions")),
        _pct(r.get("invented_paths")),
        f"{m['ece']:.3f}",
        *(
            _pct((flips or {}).get(k))
            for k in ("description", "title", "diff-comment", "markdown-file", "all")
        ),
        time_,
    ]
    return "| " + " | ".join(cells) + " |"


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def _yes(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _decision_text(report: dict[str, Any]) -> str:
    """The ship rule, each condition with its number, and what it chose."""
    d, models, flips = report["decision"], report["sample"]["models"], report["flip_rates"]
    adapter = d["adapter"]
    lines = []
    for new in NEW_ADAPTERS:
        m, old = models[f"{new} fused"], models["v1 fused"]
        r = m.get("reasoning") or {}
        f_new, f_old = flips[f"{new} fused"]["all"], flips["v1 fused"]["all"]
        lines += [
            f"- {new} fused's macro-F1 at most {F1_SLACK} below v1 fused's or above: {m['macro_f1']:.3f} against "
            f"{old['macro_f1']:.3f}, {_yes(m['macro_f1'] >= old['macro_f1'] - F1_SLACK)};\n",
            f"- its reasonings pass at least {REASONING_TARGETS['pass']:.0%} with no contradiction and no invented "
            f"path: {r.get('pass', 0):.0%}, {r.get('contradictions', 0):.0%}, {r.get('invented_paths', 0):.0%}, "
            f"{_yes(_meets_reasoning(m))};\n",
            f"- its flip rate is no higher than v1 fused's: {f_new:.0%} against {f_old:.0%}, {_yes(f_new <= f_old)};\n",
        ]
    fused, alone = models[f"{adapter} fused"], models[adapter]
    lines.append(
        f"- the fused scorer leads {adapter} alone on macro-F1, {fused['macro_f1']:.3f} against {alone['macro_f1']:.3f}, "
        f"and is better calibrated, ECE {fused['ece']:.3f} against {alone['ece']:.3f}: "
        f"{_yes(fused['macro_f1'] > alone['macro_f1'] and fused['ece'] < alone['ece'])} for fused as the default"
    )
    explained = models.get(EXPLAINED)
    if explained is not None:
        r = explained["reasoning"]
        lines[-1] += ";\n"
        lines.append(
            f'- the reasoning built from the scores (`reasoning = "evidence"`) passes the check {r["pass"]:.0%}, '
            f"{r['contradictions']:.0%} contradictions, {r['invented_paths']:.0%} invented paths: "
            f"{_yes(_meets_reasoning(explained))} for it as the default reasoning.\n"
        )
    else:
        lines[-1] += ".\n"
    new_names = ", ".join(NEW_ADAPTERS)
    return (
        f'**Shipped: {d["default"]}** (adapter {adapter}, `scorer = "{d["scorer"]}"`, '
        f'`reasoning = "{d["reasoning"]}"` by default). '
        + ("" if adapter != "v1" else f"{new_names} is not shipped. ")
        + "The ship rule, on the test repositories:\n\n"
        + "".join(lines)
    )


def _readme_summary(report: dict[str, Any], m: dict[str, Any]) -> str:
    """The README's one line on how often it is right, for whatever the rule shipped (the rest,
    calibration, reasoning and planted text, is on docs/model.md)."""
    d, sample, whole = report["decision"], report["sample"], report["test_split"]
    what = f"the {d['adapter']} adapter" + (
        " mixed with the lexical model, the fused scorer" if d["scorer"] == "fused" else ""
    )
    return (
        f"**How often it is right:** on {sample['records']} changes from {len(whole['repositories'])} repositories "
        f"it never trained on, the default ({what}) gave the authors' own category to {m['accuracy']:.1%} of "
        f"them (macro-F1 {m['macro_f1']:.3f}; path-and-keyword rules: {sample['models']['rules']['macro_f1']:.3f}): "
        "a suggestion with a probability, not a verdict ([docs/model.md](docs/model.md)).\n"
    )


def _reasoning_check_table(report: dict[str, Any]) -> str:
    """Every reasoning measured on the same 400 answers' records: who wrote it, how it did."""
    models = report["sample"]["models"]
    rows = [(n, m["reasoning"]) for n, m in models.items() if m.get("reasoning")]
    rows += [(f"{n} (reference)", r) for n, r in report.get("reasoning_reference", {}).items()]
    out = "| reasoning | written by | pass | bare category | contradictions | invented paths |\n"
    out += "| --- | --- | ---: | ---: | ---: | ---: |\n"
    for name, r in rows:
        by = (
            "built from the scores"
            if name == EXPLAINED
            else "the teacher's rules"
            if "reference" in name
            else "the adapter"
        )
        out += (f"| {name} | {by} | {r['pass']:.0%} | {r['bare_category']:.0%} | {r['contradictions']:.0%} | "
                f"{r['invented_paths']:.0%} |\n")  # fmt: skip
    return out


def render(report: dict[str, Any]) -> dict[str, str]:
    """The generated blocks, by name, from the report alone."""
    shipped = report["decision"]["default"]
    sample, whole = report["sample"], report["test_split"]
    models = sample["models"]
    names = list(next(iter(models.values()))["per_category_f1"])
    ship = (
        "| | macro-F1 | accuracy | reasoning pass | contradictions | invented paths | ECE | "
        "flip: description | title | diff comment | Markdown file | all | time per change |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    )
    ship += "".join(_row(n, m, report["flip_rates"].get(n), shipped) + "\n" for n, m in models.items())
    intervals = "".join(f"- {k}: [{lo:+.3f}, {hi:+.3f}]\n" for k, (lo, hi) in report["intervals"].items())
    per_cat = "| | " + " | ".join(names) + " |\n| --- |" + " ---: |" * len(names) + "\n"
    per_cat += "".join(
        f"| {n} | " + " | ".join(f"{m['per_category_f1'][c]:.2f}" for c in names) + " |\n"
        for n, m in models.items()
    )
    whole_t = "| model | macro-F1 | accuracy | ECE |\n| --- | ---: | ---: | ---: |\n"
    whole_t += "".join(
        f"| {n} | {m['macro_f1']:.3f} | {m['accuracy']:.3f} | {m['ece']:.3f} |\n"
        for n, m in whole["models"].items()
    )
    room_t = "| prompt | context | tokens of the change (median) | changes shown whole |\n| --- | ---: | ---: | ---: |\n"
    room_t += "".join(
        f"| {k} ({v['prompt_format']}) | {v['context']} | {v['median_change_tokens']} | {v['shown_whole']:.0%} |\n"
        for k, v in report["prompt_room"].items()
    )
    # The shipped default's reasonings first (what users read), then v3's when it is not the default.
    adapter = report["decision"]["adapter"]
    quoted = sorted(report["reasonings"], key=lambda row: (row != shipped, not row.startswith(adapter), row))
    said = "\n".join(
        f"{row}{' (the default)' if row == shipped else ' (the default adapter)' if row.startswith(adapter) else ''}:\n\n"
        "| record | answer | reasoning as written | flags | true |\n| --- | --- | --- | --- | --- |\n"
        + "".join(
            f"| {r['record']} | {r['answer']} {r['confidence']:.0%} | {_escape(r['reasoning'])} | "
            f"{', '.join(r['flags']) or 'pass'} | {r['truth']} |\n"
            for r in report["reasonings"][row]
        )
        for row in quoted
    )
    chosen = report["contexts"]["chosen"]
    contexts = "| context | macro-F1 | accuracy | time per change (p50) |\n| ---: | ---: | ---: | ---: |\n"
    contexts += "".join(
        f"| {'**' + c + '** (chosen)' if int(c) == chosen else c} | {row['macro_f1']:.3f} | {row['accuracy']:.3f} | "
        f"{row['latency_p50_s']:.2f} s |\n"
        for c, row in report["contexts"]["validation"].items()
    )
    v1 = report["contexts"]["v1_validation"]
    contexts += f"| v1 at 512, for comparison | {v1['macro_f1']:.3f} | {v1['accuracy']:.3f} | {v1['latency_p50_s']:.2f} s |\n"
    m = models[shipped]
    cover = "| --min-confidence | results kept | accuracy of those kept |\n| ---: | ---: | ---: |\n"
    cover += f"| (none) | 100% | {m['accuracy']:.2f} |\n" + "".join(
        f"| {c['min_confidence']} | {c['kept']:.0%} | "
        + ("" if c["accuracy"] is None else f"{c['accuracy']:.2f}")
        + " |\n"
        for c in m["coverage"]
    )
    readme = _readme_summary(report, m)
    return {
        "model-decision": _decision_text(report),
        "model-ship": ship,
        "model-intervals": intervals,
        "model-per-category": per_cat,
        "model-whole": whole_t,
        "model-prompt-room": room_t,
        "model-reasonings": said,
        "model-contexts": contexts,
        "model-coverage": cover,
        "readme-summary": readme,
        "model-reasoning-check": _reasoning_check_table(report),
    }


def write_blocks(blocks: dict[str, str]) -> None:
    for path in DOCS.values():
        text = path.read_text(encoding="utf-8")
        new = BLOCK.sub(lambda m: m.group(1) + blocks[m.group("name")] + m.group(4), text)
        path.write_text(new, encoding="utf-8")


def main(argv: Sequence[str] | None = None, say: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "v3")
    parser.add_argument("--choose-context", action="store_true", help="print the context v3 is served at")
    parser.add_argument("--write", action="store_true")
    parser.add_argument(
        "--update", action="store_true",
        help="keep the report's runs of examples/v3/evaluate.sh; add only the default's (default-test.jsonl)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.choose_context:
        say(str(choose_context(context_table(args.runs))))
        return
    if args.update:  # the report's earlier runs are kept as they are; only the default's is read
        report = json.loads(REPORT.read_text(encoding="utf-8"))
        report.pop("decision", None)
    else:
        report = build(args.runs, choose_context(context_table(args.runs)))
    add_explained(args.runs, report)
    report["decision"] = decide(report)
    blocks = render(report)
    for name, text in blocks.items():
        say(f"== {name}\n{text}")
    if args.write:
        REPORT.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        write_blocks(blocks)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
