"""`eval`: score a model (or the rules baseline) on labeled records; optionally under attack."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from prtriage.commands.common import ModelFlags, open_engine, stderr, stdout
from prtriage.core import errors
from prtriage.core.settings import Settings, resolve_settings


@dataclass(frozen=True)
class EvalOptions(ModelFlags):
    input_: Path
    scorer: str | None = None
    limit: int | None = None
    repos: str | None = None  # comma-separated
    seed: int = 0
    report_path: Path | None = None
    predictions: Path | None = None
    plot: Path | None = None
    attack: bool = False
    placements: str | None = None
    phrasings: str = "eval"
    show_reasoning: int = 0


def run(options: EvalOptions) -> int:
    import json
    from dataclasses import asdict

    from prtriage.core.atomic import atomic_output
    from prtriage.core.jsonl import SHOWN_SKIPPED, report_skipped, write_jsonl
    from prtriage.core.progress import ProgressLine
    from prtriage.dataset import planting
    from prtriage.evaluation import metrics, plots, predict, printed

    o = options
    if not o.attack and (o.placements is not None or o.phrasings != "eval"):
        raise errors.UsageError("--placements and --phrasings go with --attack")
    chosen = planting.parse_placements(o.placements) if o.attack else ()
    use_rules = o.model == "rules"
    # model 'rules': the path-and-keyword baseline, no model to resolve
    flags = {**o.model_settings(), "model": None if use_rules else o.model, "scorer": o.scorer}
    settings = resolve_settings(flags, cwd=Path.cwd(), config_file=o.config)
    names = settings.category_names
    bad: list[Any] = []
    repo_list = [r.strip() for r in (o.repos or "").split(",") if r.strip()]
    records = predict.load_eval_records(o.input_, names, bad, o.limit, o.seed, repo_list)
    err = stderr()
    report_skipped(bad, lambda line: err.print(line, markup=False), SHOWN_SKIPPED)
    if not records:
        raise errors.UsageError(f"no usable labeled records in {o.input_}")
    name, predictor = _predictor(use_rules, settings, err)
    phrasing_set = planting.load_phrasings(o.phrasings) if o.attack else []
    cases = planting.planted_cases(records, chosen, names, phrasing_set, o.seed)
    with ProgressLine(err, f"evaluating {name}", len(records) + len(cases), "records") as progress:
        report, preds = predict.run_eval(records, predictor(records), names, lambda p: progress.advance())
        attacked = []
        for p in predict.predict_planted(cases, predictor):
            attacked.append(p)
            progress.advance()
    report = {"model": name, "input": str(o.input_), "skipped_lines": len(bad), **report}
    if o.attack:
        report["attack"] = metrics.attack_report(preds, attacked)
        report["attack_phrasings"] = o.phrasings
    out = stdout()
    printed.print_report(report, out)
    if o.show_reasoning:
        printed.print_reasonings(predict.sample_reasonings(preds, o.show_reasoning, o.seed), out)
    if o.report_path is not None:
        with atomic_output(o.report_path) as written:
            written.write(json.dumps(report, indent=2) + "\n")
    if o.predictions is not None:
        write_jsonl(o.predictions, (asdict(p) for p in [*preds, *attacked]))
    if o.plot is not None and not plots.plot_confusion(report, o.plot):
        err.print("no plot: matplotlib is not installed", markup=False)
    return errors.EXIT_OK


def _predictor(use_rules: bool, settings: Settings, err: Console) -> tuple[str, Any]:
    """The evaluated model's name and a function from records to its predictions."""
    from prtriage.evaluation import predict

    if use_rules:
        return "rules", lambda records: predict.predict_rules(records, settings)
    engine = open_engine(settings, err)
    name = engine.name + (" + lexical (fused)" if settings.scorer == "fused" else "")
    return name, lambda records: predict.predict_model(records, engine, settings)
