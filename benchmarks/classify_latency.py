"""prtriage's classify overhead over raw llama.cpp, model load time, and thread/quant choices.

Prints, in one run and measured side by side (interleaved repeats, medians):
1. for prompts of about 500, 1500 and 3000 tokens: prtriage's classify() time with a cold
   context next to raw llama.cpp evaluating the same prompt ids plus the same generated
   tokens, and their ratio (target: at most 1.10 at 1500 tokens);
2. model load time (target: under 1 s) and one whole `prtriage classify` command;
3. prompt-evaluation time of 1500 tokens per GGUF quant type and thread count, as ratios to
   the shipped Q4_1 file at the default thread count;
4. contention: classify() of a default-context change (the default model and adapter) with 0, 1
   and N-1 busy processes beside it, which the benchmark starts (each stops itself after
   --busy-limit seconds at most, and is killed when its row ends), at 1, 2 and 4 threads and at
   the default thread count as chosen under that load, as ratios to the best in each row
   (target: the default at most about 1.5x the best in every row);
5. the default (fused scorer, reasoning built from the scores) against the previous default (the
   LLM's scores alone, the model's own reasoning generated), side by side: the whole command on
   a small change, quiet and with N-1 busy processes (target: at most 1.5x), and classify() on
   each record of a sample, e.g. docs/model.md's 400 test records (target: median at most 2x).

Usage: python benchmarks/classify_latency.py [--repeats 3] [--quick | --contention |
       --defaults [--sample runs/v3/data/test.jsonl --limit 400]]
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import llama_cpp

from prtriage.core.settings import Settings
from prtriage.pipeline.change import Change
from prtriage.pipeline.cpu import speed_flags
from prtriage.pipeline.diff import mark_skipped, parse_diff
from prtriage.pipeline.engine import LlamaEngine, default_threads
from prtriage.pipeline.model_cache import quantize
from prtriage.pipeline.model_files import (
    ModelFiles,
    embedded_model_path,
    fast_copy_of_embedded,
    resolve_model,
)
from prtriage.pipeline.prompt import category_segment, reasoning_prefix_segment
from prtriage.pipeline.triage import budget, classify

ROOT = Path(__file__).resolve().parents[1]
CONTEXT = 4096


def synthetic_change(target_tokens: int, engine: LlamaEngine) -> Change:
    """A change made of this repository's own source, sized to about `target_tokens` of prompt."""
    sources = sorted((ROOT / "prtriage").glob("*.py"))
    chunks, size = [], 0
    for path in sources * 3:
        lines = path.read_text().splitlines()
        body = "".join(f"+{line}\n" for line in lines)
        chunks.append(f"diff --git a/{path.name} b/{path.name}\n--- /dev/null\n+++ b/{path.name}\n"
                      f"@@ -0,0 +1,{len(lines)} @@\n{body}")  # fmt: skip
        size += len(engine.tokenize(body, False))
        if size > target_tokens * 2:
            break
    files = parse_diff("".join(chunks).splitlines(True))
    mark_skipped(files, (), {})
    return Change("Add the classify pipeline", "Adds the modules of the pipeline.", files)


def sized_settings(engine: LlamaEngine, change: Change, target: int) -> Settings:
    """Settings whose context makes the budgeted prompt about `target` tokens long."""
    lo, hi = 512, CONTEXT
    while lo < hi:
        mid = (lo + hi) // 2
        n = len(budget(change, engine, Settings(context_size=mid)).ids)
        lo, hi = (mid + 1, hi) if n < target else (lo, mid)
    return Settings(context_size=lo)


def raw_time(engine: LlamaEngine, prompt: list[int], generated: list[int]) -> float:
    llm = engine.llm
    start = time.perf_counter()
    llm.reset()
    llm.eval(prompt)
    for token in generated:
        llm.eval([token])
    return time.perf_counter() - start


def overhead(engine: LlamaEngine, repeats: int, sizes: list[int]) -> None:
    print(
        f"\n## classify() vs raw llama.cpp (cold context, {engine.threads} threads, {engine.files.path.name})"
    )
    print(f"{'prompt tokens':>13} {'prtriage s':>11} {'raw s':>8} {'ratio':>6}  (generated tokens)")
    for target in sizes:
        change = synthetic_change(target, engine)
        settings = sized_settings(engine, change, target)
        fitted = budget(change, engine, settings)
        names = settings.category_names
        ours, raws = [], []
        for _ in range(repeats):
            engine.llm.reset()
            engine.take_timings()
            start = time.perf_counter()
            result = classify(change, engine, settings)
            ours.append(time.perf_counter() - start)
            # The same ids raw llama.cpp would see: prompt, chosen category, reasoning prefix, output.
            answer = [*engine.tokenize(category_segment(result.category).text, False),
                      *engine.tokenize(reasoning_prefix_segment().text, False)]  # fmt: skip
            generated = engine.tokenize(result.reasoning + '"}', False) if result.reasoning else []
            raws.append(raw_time(engine, list(fitted.ids), [*answer, *generated]))
        a, b = statistics.median(ours), statistics.median(raws)
        print(
            f"{len(fitted.ids):>13} {a:>11.3f} {b:>8.3f} {a / b:>6.2f}  ({len(generated)}; {len(names)} categories)"
        )


def load_and_cli(repeats: int, model: Path) -> None:
    loads = []
    for _ in range(repeats):
        start = time.perf_counter()
        eng = LlamaEngine(ModelFiles("bench", model, None), 2048)
        loads.append(time.perf_counter() - start)
        del eng
    print(f"\n## model load: median {statistics.median(loads):.3f} s over {repeats} (target < 1 s)")
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        small_change_repo(repo)
        walls = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "prtriage", "classify", "--format", "json"], cwd=repo,
                           check=True, capture_output=True)  # fmt: skip
            walls.append(time.perf_counter() - start)
        print(f"## whole `prtriage classify` command, small change: median {statistics.median(walls):.2f} s")


PREVIOUS_DEFAULT = {"PRTRIAGE_SCORER": "llm", "PRTRIAGE_REASONING": "model"}


def small_change_repo(repo: Path) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@b"}  # fmt: skip
    git = lambda *a: subprocess.run(["git", *a], cwd=repo, env=env, check=True, capture_output=True)  # noqa: E731
    git("init", "-q", "-b", "main")
    (repo / "app.py").write_text("def div(a, b):\n    return a / b\n")
    git("add", ".")
    git("commit", "-qm", "init")
    git("checkout", "-qb", "fix")
    (repo / "app.py").write_text(
        "def div(a, b):\n    if not b:\n        raise ValueError('b')\n    return a / b\n"
    )
    git("commit", "-qam", "Raise on division by zero")


def defaults_command(repeats: int, busy: int, limit_s: float) -> tuple[float, float]:
    """Median seconds of the whole command on a small change: the default, the previous default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRTRIAGE_")}
    walls: dict[str, list[float]] = {"default": [], "previous": []}
    busy_procs = [busy_process(limit_s) for _ in range(busy)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            small_change_repo(Path(tmp))
            for _ in range(repeats):  # interleaved, so drift in the machine's load hits both alike
                for name, extra in (("default", {}), ("previous", PREVIOUS_DEFAULT)):
                    start = time.perf_counter()
                    subprocess.run([sys.executable, "-m", "prtriage", "classify", "--format", "json"], cwd=tmp,
                                   env={**env, **extra}, check=True, capture_output=True)  # fmt: skip
                    walls[name].append(time.perf_counter() - start)
    finally:
        for proc in busy_procs:
            proc.kill()
    return statistics.median(walls["default"]), statistics.median(walls["previous"])


def defaults_sample(sample: Path, limit: int) -> None:
    """classify() of each record under both defaults, one engine, alternating; medians and ratio."""
    from prtriage.evaluation.predict import load_eval_records
    from prtriage.pipeline.change import change_from_record
    from prtriage.pipeline.engine_factory import open_engine

    default = Settings()
    previous = Settings(scorer="llm", reasoning="model")
    records = load_eval_records(sample, default.category_names, [], limit, 0)
    engine = open_engine(default)
    times: dict[str, list[float]] = {"default": [], "previous": []}
    for i, record in enumerate(records):
        change = change_from_record(record, ())
        order = (("default", default), ("previous", previous))
        for name, settings in order if i % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            classify(change, engine, settings)
            times[name].append(time.perf_counter() - start)
    d, p = statistics.median(times["default"]), statistics.median(times["previous"])
    print(f"## classify() on {len(records)} records of {sample.name}: median default {d:.3f} s, "
          f"previous default {p:.3f} s, ratio {d / p:.2f} (target <= 2)")  # fmt: skip


def defaults(repeats: int, limit_s: float, sample: Path | None, limit: int) -> None:
    print(
        "\n## the default (fused, built reasoning) against the previous default (llm, the model's reasoning)"
    )
    busy = max(len(os.sched_getaffinity(0)) - 1, 1)
    for label, n in (("quiet", 0), (f"{busy} busy", busy)):
        d, p = defaults_command(repeats, n, limit_s)
        print(f"## whole command, small change, {label}: default {d:.2f} s, previous {p:.2f} s, "
              f"ratio {d / p:.2f} (target <= 1.5)")  # fmt: skip
    if sample is not None:
        defaults_sample(sample, limit)


def quant_and_threads(repeats: int, tmp: Path) -> None:
    shipped = embedded_model_path()
    variants = {"Q4_1 (shipped)": shipped}
    for qtype in ("Q8_0", "Q4_0", "F16"):
        target = tmp / f"smollm2.{qtype}.gguf"
        quantize(shipped, target, qtype, allow_requantize=True)
        variants[qtype] = target
    cores = len(os.sched_getaffinity(0))
    threads = sorted({1, 2, min(4, cores), cores})
    probe = LlamaEngine(ModelFiles("probe", shipped, None), 2048, threads=1)
    text = "".join(p.read_text() for p in sorted((ROOT / "prtriage").glob("*.py")))
    ids = probe.tokenize(text, False)[:1500]
    del probe
    engines = {
        (q, t): LlamaEngine(ModelFiles(q, p, None), 2048, threads=t)
        for q, p in variants.items()
        for t in threads
    }
    times: dict[tuple[str, int], list[float]] = {k: [] for k in engines}
    for _ in range(repeats):  # interleaved, so background load hits every variant alike
        for key, eng in engines.items():
            eng.llm.reset()
            start = time.perf_counter()
            eng.llm.eval(ids)
            times[key].append(time.perf_counter() - start)
    ref = statistics.median(times[("Q4_1 (shipped)", default_threads())])
    print(f"\n## prompt eval, 1500 tokens: median seconds (ratio to Q4_1 at {default_threads()} threads)")
    print(f"{'quant':<16}" + "".join(f"{f'{t} thr':>16}" for t in threads))
    for q in variants:
        cells = [statistics.median(times[(q, t)]) for t in threads]
        print(f"{q:<16}" + "".join(f"{c:>8.2f} ({c / ref:.2f})" for c in cells))


def busy_process(limit_s: float) -> subprocess.Popen[bytes]:
    """One process spinning on a core: the contention a build, an IDE or a test run makes."""
    code = f"import time\nend = time.monotonic() + {limit_s}\nwhile time.monotonic() < end: pass\n"
    return subprocess.Popen([sys.executable, "-c", code])


def contention(repeats: int, limit_s: float) -> None:
    from prtriage.pipeline.cpu import available_cores

    cores = available_cores()
    files = resolve_model(None, None)  # what `prtriage classify` runs: Q8_0 copy + bundled adapter
    settings = Settings()
    engines = {t: LlamaEngine(files, settings.context_size, threads=t) for t in (1, 2, 4)}
    change = synthetic_change(1500, engines[1])  # more than fits: the budget fills the context
    tokens = len(budget(change, engines[1], settings).ids)
    print(f"\n## contention: classify() of a {tokens}-token prompt ({settings.context_size} context, "
          f"default model and adapter) beside busy processes; median s (ratio to the row's best)")  # fmt: skip
    print(f"{'busy':>4} {'load':>5}" + "".join(f"{f'{t} thr':>15}" for t in (1, 2, 4)) + f"{'default':>22}")
    for busy in sorted({0, 1, max(cores - 1, 0)}):
        procs = [busy_process(limit_s) for _ in range(busy)]
        try:
            time.sleep(0.5)  # let them reach their cores
            times: dict[object, list[float]] = {t: [] for t in (1, 2, 4, "default")}
            picked: list[int] = []
            for _ in range(repeats):  # interleaved: drift on the shared machine hits every column
                picked.append(default_threads())  # as a command started now would choose
                engines.setdefault(picked[-1], LlamaEngine(files, settings.context_size, threads=picked[-1]))
                for key in (1, 2, 4, "default"):
                    eng = engines[picked[-1] if key == "default" else key]  # type: ignore[index]
                    eng.llm.reset()
                    start = time.perf_counter()
                    classify(change, eng, settings)
                    times[key].append(time.perf_counter() - start)
            load = os.getloadavg()[0]
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
        med = {k: statistics.median(v) for k, v in times.items()}
        best = min(med.values())
        cells = "".join(f"{med[t]:>7.2f} ({med[t] / best:.2f})" for t in (1, 2, 4))
        chosen = "/".join(str(n) for n in sorted(set(picked)))
        print(
            f"{busy:>4} {load:>5.2f}{cells}   {med['default']:>6.2f} ({med['default'] / best:.2f}) [{chosen} thr]"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="only the 1500-token overhead and load")
    parser.add_argument("--contention", action="store_true", help="only the contention table")
    parser.add_argument("--busy-limit", type=float, default=900, help="seconds a busy process lives at most")
    parser.add_argument("--defaults", action="store_true", help="only the default against the previous one")
    parser.add_argument("--sample", type=Path, help="with --defaults: JSONL records to time classify() on")
    parser.add_argument("--limit", type=int, default=400, help="records of --sample (seeded, by category)")
    args = parser.parse_args()
    print(f"# machine: {platform.processor() or platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
          f"flags: {speed_flags()}; llama-cpp-python {llama_cpp.__version__}; load avg {os.getloadavg()[0]:.2f}")  # fmt: skip
    # A kill still ends the busy processes (their `finally`), not only their own time limit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.contention:
        contention(args.repeats, args.busy_limit)
        return
    if args.defaults:
        defaults(args.repeats, args.busy_limit, args.sample, args.limit)
        return
    model = fast_copy_of_embedded(embedded_model_path())
    engine = LlamaEngine(ModelFiles("default", model, None), CONTEXT)
    overhead(engine, args.repeats, [1500] if args.quick else [500, 1500, 3000])
    del engine
    load_and_cli(args.repeats, model)
    if not args.quick:
        with tempfile.TemporaryDirectory() as tmp:
            quant_and_threads(args.repeats, Path(tmp))
        contention(args.repeats, args.busy_limit)
        defaults(args.repeats, args.busy_limit, args.sample, args.limit)


if __name__ == "__main__":
    main()
