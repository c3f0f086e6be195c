"""The fused scorer against the LLM alone, the lexical model alone and the rules, on the same records.

Reads `prtriage eval --predictions` files of the LLM (with `--attack` for the planted half) and
re-scores them with the lexical model exactly as `classify --scorer fused` does: the fusion is a
function of the LLM's category probabilities and the change, so no model run is repeated. The
records and planted cases are rebuilt from the same data, sample size and seed as the eval run.

Usage: python scripts/fusion_report.py --lexical prtriage/data/lexical.npz \
           --predictions runs/eval10/adapter-300.jsonl --limit 300 \
           [--attack-predictions runs/eval10/adapter-attack.jsonl --attack-limit 100] \
           [--rules runs/eval10/rules-300.jsonl] [--compare "v1=runs/eval10/adapter-300.jsonl"]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prtriage.config import Settings
from prtriage.dataset.planted import PLACEMENTS, load_phrasings, planted_cases
from prtriage.evaluation.metrics import attack_report, metrics, paired_bootstrap
from prtriage.evaluation.predict import load_eval_records
from prtriage.evaluation.prediction import Prediction, load_predictions
from prtriage.lexical import LexicalModel
from prtriage.train.lexical import fused_predictions, lexical_predictions, lexical_scores

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "commits-train.jsonl.gz"
TEST_REPOS = "goreleaser/goreleaser,vitest-dev/vitest"


def lexical_alone(preds: list[Prediction], scores: dict[str, dict[str, float]]) -> list[Prediction]:
    out = []
    for p in preds:
        s = scores[p.id]
        best = max(s, key=s.__getitem__)
        out.append(Prediction(p.id, p.truth, best, {}, True, 0.0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lexical", type=Path, required=True)
    parser.add_argument("--predictions", type=Path, required=True, help="the LLM on the records as is")
    parser.add_argument("--limit", type=int, required=True, help="the eval run's --limit")
    parser.add_argument("--attack-predictions", type=Path, help="an eval --attack run's predictions")
    parser.add_argument("--attack-limit", type=int, help="that run's --limit")
    parser.add_argument("--rules", type=Path, help="the rules' predictions on the same records")
    parser.add_argument("--compare", action="append", default=[], metavar="NAME=FILE",
                        help="another model's predictions on the same records (e.g. the previous adapter)")  # fmt: skip
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--repos", default=TEST_REPOS)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = Settings().category_names
    model = LexicalModel.load(args.lexical)
    repos = args.repos.split(",")
    records = load_eval_records(args.data, names, [], args.limit, args.seed, repos)
    llm = load_predictions(args.predictions)
    scores = lexical_predictions(model, records)
    runs = {
        "llm": llm,
        "lexical": lexical_alone(llm, scores),
        f"fused (weight {model.weight:.1f})": fused_predictions(llm, scores, model.weight),
    }
    if args.rules:
        runs["rules"] = load_predictions(args.rules)
    compared = dict(item.split("=", 1) for item in args.compare)
    for name, path in compared.items():
        runs[name] = load_predictions(Path(path))
    print(f"{len(records)} records; lexical weight {model.weight:.2f}\n")
    print("| scorer | accuracy | macro-F1 | " + " | ".join(names) + " |")
    print("| --- | ---: | ---: | " + " | ".join("---:" for _ in names) + " |")
    for name, preds in runs.items():
        m = metrics(preds, names)
        cells = " | ".join(f"{m['per_category'][c]['f1']:.2f}" for c in names)
        print(f"| {name} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | {cells} |")
    fused_name = next(n for n in runs if n.startswith("fused"))
    print("\nmacro-F1 differences, 95% paired bootstrap over the same records:")
    pairs = [("llm", fused_name), ("lexical", fused_name), ("lexical", "llm")]
    pairs += [(name, other) for name in compared for other in ("llm", fused_name)]
    for a, b in pairs:
        low, high = paired_bootstrap(runs[a], runs[b], names)
        print(f"- {b} minus {a}: [{low:+.3f}, {high:+.3f}]")
    if args.attack_predictions:
        attack_records = load_eval_records(args.data, names, [], args.attack_limit, args.seed, repos)
        cases = planted_cases(attack_records, PLACEMENTS, names, load_phrasings("eval"), args.seed)
        clean = load_predictions(args.attack_predictions)
        attacked = load_predictions(args.attack_predictions, attacked=True)
        if [(p.id, p.placement, p.target) for p in attacked] != [
            (c.record["id"], c.placement, c.target) for c in cases
        ]:
            raise SystemExit(
                "the attack predictions do not match the rebuilt cases (limit, seed, placements?)"
            )
        keyed = [Prediction(f"{p.id}|{i}", p.truth, p.predicted, p.probabilities, p.parsed, 0.0,
                            placement=p.placement, target=p.target) for i, p in enumerate(attacked)]  # fmt: skip
        planted = lexical_scores(model, [c.record for c in cases])
        planted_scores = {f"{c.record['id']}|{i}": s for i, (c, s) in enumerate(zip(cases, planted))}
        fused_clean = fused_predictions(clean, lexical_predictions(model, attack_records), model.weight)
        fused_attacked = [
            Prediction(p.id.split("|")[0], p.truth, p.predicted, p.probabilities, p.parsed, 0.0,
                       placement=p.placement, target=p.target)
            for p in fused_predictions(keyed, planted_scores, model.weight)
        ]  # fmt: skip
        for name, (c, a) in {"llm": (clean, attacked), "fused": (fused_clean, fused_attacked)}.items():
            rates = attack_report(c, a)
            print(f"\nplanted instructions, {name}: " + "; ".join(
                f"{k} flip {v['flip_rate']:.0%} hit {v['hit_rate']:.0%}" for k, v in rates.items()))  # fmt: skip


if __name__ == "__main__":
    main()
