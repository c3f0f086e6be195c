from __future__ import annotations

import io

from fake_clock import Clock
from rich.console import Console

from prtriage.core.progress import ProgressLine


def _log_console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=200, highlight=False, color_system=None), out


def test_not_a_terminal_gets_plain_lines_with_rate_and_eta() -> None:
    console, out = _log_console()
    clock = Clock()
    with ProgressLine(console, "classifying", 20, "records", every=5, clock=clock) as p:
        for _ in range(20):
            clock.now += 2.0
            p.advance()
    lines = out.getvalue().splitlines()
    assert lines[0] == "classifying: 0/20 records (0%), starting"
    assert lines[1] == "classifying: 5/20 records (25%), 2 s per record, ETA 30 s, 10 s elapsed"
    assert lines[-1] == "classifying: 20/20 records (100%), 2 s per record, 40 s elapsed"
    assert len(lines) == 5  # start, 5, 10, 15, 20: the end is not printed twice


def test_a_slow_loop_still_prints_every_interval() -> None:
    console, out = _log_console()
    clock = Clock()
    with ProgressLine(console, "evaluating", 1000, "records", clock=clock, interval=30) as p:
        for _ in range(3):
            clock.now += 31.0
            p.advance()
    lines = out.getvalue().splitlines()
    assert len(lines) == 4  # start, then each record: every one took longer than the interval
    assert lines[2].startswith(
        "evaluating: 2/1000 records (0%), 31 s per record, ETA 8 h 35 min, 62 s elapsed"
    )


def test_unknown_total_then_known_and_info() -> None:
    console, out = _log_console()
    clock = Clock()
    with ProgressLine(console, "training", None, "steps", every=1, clock=clock) as p:
        clock.now += 0.5
        p.update(1, total=4, info="loss 1.2345")
    lines = out.getvalue().splitlines()
    assert lines[0] == "training: 0 steps, starting"
    assert lines[1] == "training: 1/4 steps (25%), 2 steps/s, ETA 2 s; loss 1.2345"


def test_a_terminal_gets_the_bar_not_lines() -> None:
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=True)
    with ProgressLine(console, "classifying", 3, "records", every=1) as p:
        for _ in range(3):
            p.advance()
    assert "records/s" not in out.getvalue() and "starting" not in out.getvalue()
