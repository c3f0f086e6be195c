"""`prtriage train ...`: imports nothing heavy at module level (torch loads inside commands)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from prtriage.core.errors import UsageError


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _say(console: Console) -> Any:
    return lambda message: console.print(message, markup=False, soft_wrap=True)


def _need_train_extra() -> None:
    """A one-line error, not an ImportError traceback, when the train extra is not installed."""
    import importlib.util

    missing = [
        m
        for m in ("torch", "transformers", "peft", "accelerate", "yaml")
        if importlib.util.find_spec(m) is None
    ]
    if missing:
        raise UsageError(
            f"prtriage train needs the train extra (missing: {', '.join(missing)})",
            hint="pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu (or your CUDA "
            "build) first, then pip install 'prtriage[train]'",
        )


@click.group()
def train() -> None:
    """Fine-tune a model on labeled changes and export it as GGUF (needs the train extra)."""


def _overrides(
    data: tuple[Path, ...], base_model: str | None, sets: tuple[str, ...], **flags: Any
) -> dict[str, Any]:
    from prtriage.train.config import parse_override

    out: dict[str, Any] = dict(parse_override(s) for s in sets)
    if data:
        out["datasets"] = [{"path": str(p)} for p in data]
    if base_model is not None:
        out["base_model"] = base_model
    out.update({k: v for k, v in flags.items() if v is not None})
    return out


def _config(config: Path | None, overrides: dict[str, Any]) -> Any:
    from prtriage.train.config import build_config, read_config

    if config is None:
        return build_config(overrides, "command line")
    return read_config(config, overrides)


_data_option = click.option(
    "--data", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
    help="Training data (JSONL, .gz ok: change records or input_output rows); replaces the config's datasets.",
)  # fmt: skip
_threads_option = click.option("--threads", type=click.IntRange(min=1),
                               help="llama.cpp threads for the parity check (default: the cores not busy at start, at most 4).")  # fmt: skip
_set_option = click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
                           help="Override any config key (value parsed as YAML; repeatable).")  # fmt: skip


@train.command("build-data")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="Training config (YAML).")
@_data_option
@click.option("--base-model", help="Whose tokenizer counts the diff budget (default: embedded).")
@_set_option
@click.option("--output", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Where the input_output rows go (JSONL).")  # fmt: skip
def build_data(config: Path | None, data: tuple[Path, ...], base_model: str | None, sets: tuple[str, ...],
               output: Path) -> None:  # fmt: skip
    """Write change records as Axolotl input_output rows, exactly as `fit` tokenizes them."""
    _need_train_extra()
    from prtriage.core.jsonl import report_skipped, skipped_summary, write_jsonl
    from prtriage.train.base import load_tokenizer, resolve_base
    from prtriage.train.data import build_examples, example_to_json, read_rows
    from prtriage.train.prepare import prompt_budget

    cfg = _config(config, _overrides(data, base_model, sets))
    console = _stderr()
    tokenizer = load_tokenizer(resolve_base(cfg.base_model))

    def rows_out() -> Iterator[dict[str, Any]]:  # each dataset's rows, then what was skipped in it
        for ds in cfg.datasets:
            rows, skipped = read_rows(ds.path, ds.type, cfg.categories, ds.parse_special)
            examples, bad = build_examples(rows, tokenizer, prompt_budget(cfg))
            skipped.extend(bad)
            yield from (example_to_json(ex) for ex in examples)
            report_skipped(skipped, lambda line: console.print(line, markup=False))
            console.print(f"{ds.path}: {len(examples)} rows; {skipped_summary(skipped)}", markup=False)

    written = write_jsonl(output, rows_out())
    console.print(f"wrote {written} rows to {output}", markup=False)
    if written == 0:
        raise UsageError("no usable row")


@train.command()
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="Training config (YAML).")
@_data_option
@click.option("--base-model", help="embedded, a .gguf file, a Hugging Face folder or hub id.")
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False), help="Run folder.")
@click.option("--max-steps", type=click.IntRange(min=1), help="Stop after this many optimizer steps.")
@click.option(
    "--train-on-inputs/--no-train-on-inputs", default=None, help="Train on every token, not only the answer."
)
@click.option("--prompt-loss-weight", type=click.FloatRange(0, 1),
              help="Weight of the input tokens' loss (0 = masked, 1 = like the answer).")  # fmt: skip
@click.option("--resume", is_flag=False, flag_value="latest", default=None, metavar="[CHECKPOINT]",
              help="Continue from the latest checkpoint in the run folder (or the one given).")  # fmt: skip
@_set_option
def fit(config: Path | None, data: tuple[Path, ...], base_model: str | None, output_dir: Path | None,
        max_steps: int | None, train_on_inputs: bool | None, prompt_loss_weight: float | None,
        resume: str | None, sets: tuple[str, ...]) -> None:  # fmt: skip
    """Fine-tune a LoRA on labeled changes (one process, or under torchrun / accelerate launch)."""
    _need_train_extra()
    from prtriage.train.fit import fit as run_fit

    overrides = _overrides(
        data, base_model, sets, output_dir=str(output_dir) if output_dir else None, max_steps=max_steps,
        train_on_inputs=train_on_inputs, prompt_loss_weight=prompt_loss_weight,
    )  # fmt: skip
    cfg = _config(config, overrides)
    where: bool | Path = False if resume is None else True if resume == "latest" else Path(resume)
    run_fit(cfg, where, _stderr())


def _run_folder(run: Path | None, config: Path | None) -> Path:
    if run is not None:
        return run
    if config is not None:
        return Path(_config(config, {}).output_dir)
    raise UsageError("which run? pass --run DIR (the output_dir of `prtriage train fit`) or --config")


@train.command()
@click.option("--run", type=click.Path(path_type=Path, file_okay=False), help="The run folder of `fit`.")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="Or the config it ran with.")
@click.option("--type", "kinds", multiple=True, metavar="TYPE",
              help="q8_0 (default), f32, f16, bf16 (gguf package) or q4_k_m, q5_k_m, q6_k, q4_0, ... "
                   "(llama.cpp's quantizer); repeat or comma-separate for several files.")  # fmt: skip
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="The merged model GGUF, for a single type (default: RUN/model-TYPE.gguf).")  # fmt: skip
@click.option("--adapter-output", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write the unmerged LoRA as a llama.cpp adapter GGUF.")  # fmt: skip
@click.option(
    "--verify/--no-verify", default=True, show_default=True, help="Check parity with llama.cpp after writing."
)
@_threads_option
def export(run: Path | None, config: Path | None, kinds: tuple[str, ...], output: Path | None,
           adapter_output: Path | None, verify: bool, threads: int | None) -> None:  # fmt: skip
    """Merge the LoRA into the base and write GGUF for llama.cpp, then check parity."""
    _need_train_extra()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from prtriage.train.export import check_type, export_run
    from prtriage.train.rundir import read_run
    from prtriage.train.verify import ParityError

    folder = _run_folder(run, config)
    finished = read_run(folder)
    types = [check_type(k.strip()) for item in kinds or ("q8_0",) for k in item.split(",") if k.strip()]
    if output is not None and len(types) > 1:
        raise UsageError("--output names one file: give one --type, or leave --output out")
    targets = [(k, output or folder / f"model-{k}.gguf") for k in types]
    console = _stderr()
    progress = Progress(TextColumn("writing tensors"), BarColumn(), MofNCompleteColumn(), console=console,
                        transient=True)  # fmt: skip
    with progress:
        task = progress.add_task("export", total=None)
        results = export_run(finished, targets, adapter_output, verify,
                             progress=lambda name: progress.advance(task), say=_say(console),
                             threads=threads)  # fmt: skip
    failed = [(r.files.name, r.parity) for r in results if r.parity is not None and not r.parity.passed]
    if failed:
        raise ParityError(
            "the exported model does not match the trained one: "
            + "; ".join(f"{name}: {p}" for name, parity in failed for p in parity.problems),
            hint="the files are kept for inspection",
        )
    first = results[0].files.path
    console.print(f"classify with: prtriage classify --model {first} --context-size {finished.sequence_len}"
                  + (f"  (or --model {results[-1].files.path} --adapter {adapter_output})" if adapter_output else ""),
                  markup=False, soft_wrap=True)  # fmt: skip


@train.command()
@click.option("--run", type=click.Path(path_type=Path, file_okay=False), help="The run folder of `fit`.")
@click.option("--config", type=click.Path(path_type=Path, dir_okay=False), help="Or the config it ran with.")
@click.option("--model", "model_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The GGUF to check (a merged export, or the base for --adapter).")  # fmt: skip
@click.option(
    "--adapter", type=click.Path(path_type=Path, dir_okay=False), help="A LoRA adapter GGUF on --model."
)
@_threads_option
def verify(
    run: Path | None, config: Path | None, model_path: Path, adapter: Path | None, threads: int | None
) -> None:
    """Check that llama.cpp running a GGUF computes what the trained PyTorch model computes."""
    _need_train_extra()
    from prtriage.train.verify import ParityError, verify_run

    parity = verify_run(_run_folder(run, config), model_path, adapter, threads)
    _stderr().print(parity.summary(), markup=False)
    if not parity.passed:
        raise ParityError("parity check failed: " + "; ".join(parity.problems))


@train.command("lexical")
@click.option("--data", "data_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Labeled change records to train on (JSONL, .gz ok).")  # fmt: skip
@click.option("--output", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The lexical model (.npz) for --scorer fused (config key `lexical`).")  # fmt: skip
@click.option(
    "--exclude-repos", metavar="LIST", help="Leave these repositories out of training (comma-separated)."
)
@click.option("--validation", type=click.Path(path_type=Path, dir_okay=False),
              help="Records of a validation repository: the mixing weight is chosen on them.")  # fmt: skip
@click.option("--llm-predictions", type=click.Path(path_type=Path, dir_okay=False),
              help="`prtriage eval --predictions` of the LLM on the --validation records.")  # fmt: skip
@click.option("--weight", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="The lexical model's share in the mix, when no --validation is given.")  # fmt: skip
@click.option("--max-features", type=click.IntRange(min=100), default=50_000, show_default=True,
              help="Vocabulary size of each of the three fields.")  # fmt: skip
@click.option(
    "--config", type=click.Path(path_type=Path, dir_okay=False), help="prtriage config (categories)."
)
def lexical(data_path: Path, output: Path, exclude_repos: str | None, validation: Path | None,
            llm_predictions: Path | None, weight: float, max_features: int, config: Path | None) -> None:  # fmt: skip
    """Train the fused scorer's lexical model (TF-IDF + logistic regression; needs scikit-learn)."""
    from prtriage.core.settings import resolve_settings
    from prtriage.train.lexical import train_lexical

    names = resolve_settings({}, config_file=config).category_names
    excluded = {r.strip() for r in (exclude_repos or "").split(",") if r.strip()}
    train_lexical(data_path, output, names, excluded, validation, llm_predictions, weight, max_features,
                  _say(_stderr()))  # fmt: skip


@train.command("fuse")
@click.option("--lexical", "model_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The lexical model (.npz) of `train lexical`.")  # fmt: skip
@click.option("--validation", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Records of the validation repositories (never the test ones).")  # fmt: skip
@click.option("--llm-predictions", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="`prtriage eval --predictions` of the LLM the mix is for, on --validation records.")  # fmt: skip
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the tuned model (default: over --lexical).")  # fmt: skip
@click.option(
    "--config", type=click.Path(path_type=Path, dir_okay=False), help="prtriage config (categories)."
)
def fuse(
    model_path: Path, validation: Path, llm_predictions: Path, output: Path | None, config: Path | None
) -> None:
    """Choose the fused scorer's mixing weight and temperature for one LLM, on validation records."""
    from prtriage.core.settings import resolve_settings
    from prtriage.train.lexical import tune_fusion

    names = resolve_settings({}, config_file=config).category_names
    tune_fusion(model_path, output or model_path, validation, llm_predictions, names, _say(_stderr()))
