"""Progress of long loops: a rich bar on a terminal, plain lines with rate and ETA everywhere else.

A bar redraws in place, which a log file, a CI step or a pipe cannot show: there it printed
nothing for minutes. So when the console is not a terminal, a line goes out at the start, every
`every` items and at least every `interval` seconds (checked as items finish), and at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

DEFAULT_INTERVAL_S = 30.0


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class ProgressLine:
    """`with ProgressLine(console, "classifying", total, "records") as p: ... p.advance()`."""

    def __init__(
        self,
        console: Console,
        label: str,
        total: int | None,
        unit: str,
        every: int | None = None,
        interval: float = DEFAULT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        done: int = 0,
        transient: bool = True,
    ) -> None:
        self.console, self.label, self.total, self.unit = console, label, total, unit
        self._every = every
        self.transient = transient  # a terminal's bar disappears at the end
        self.interval, self.clock = interval, clock
        self.done = self._start_done = done
        self.info = ""
        self._said = -1  # `done` when the last line went out
        self._bar: Progress | None = None
        self._task: object = None

    def __enter__(self) -> ProgressLine:
        self._start = self._last = self.clock()
        if self.console.is_terminal:
            self._bar = Progress(
                TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                TimeRemainingColumn(), console=self.console, transient=self.transient,
            )  # fmt: skip
            self._bar.__enter__()
            self._task = self._bar.add_task(self.label, total=self.total, completed=self.done, info="")
        else:
            self._say()
        return self

    def advance(self, n: int = 1, info: str = "") -> None:
        self.update(self.done + n, info=info)

    def update(self, done: int, total: int | None = None, info: str = "") -> None:
        """Set the count (and the total, when it becomes known only inside the loop)."""
        self.done = done
        self.total = total if total is not None else self.total
        self.info = info or self.info
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=self.total, info=self.info)  # type: ignore[arg-type]
            return
        due = self.done % self.every == 0 or self.clock() - self._last >= self.interval
        if due and self.done != self._said:
            self._say()

    @property
    def every(self) -> int:
        """About 10 lines for a known total, else one every 10 items (and the time rule always)."""
        return self._every or (max(1, self.total // 10) if self.total else 10)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, exc, tb)
        elif kind is None and self.done != self._said:
            self._say()

    def line(self) -> str:
        """`classifying: 12/24 records (50%), 2.4 s per record, ETA 29 s, 29 s elapsed` (what a log gets)."""
        elapsed = self.clock() - self._start
        count = self.done - self._start_done
        text = f"{self.label}: {self.done}" + (f"/{self.total}" if self.total else "") + f" {self.unit}"
        if self.total:
            text += f" ({self.done / self.total:.0%})"
        if count > 0 and elapsed > 0:
            rate = count / elapsed
            # Slow loops (training steps, big records) read better as seconds per item.
            text += (
                f", {rate:.3g} {self.unit}/s"
                if rate >= 1
                else f", {1 / rate:.3g} s per {self.unit.removesuffix('s')}"
            )
            if self.total and self.done < self.total:
                text += f", ETA {_duration((self.total - self.done) / rate)}"
        elif self.done == self._start_done:
            text += ", starting"
        text += f", {_duration(elapsed)} elapsed" if elapsed >= 1 else ""
        return text + (f"; {self.info}" if self.info else "")

    def _say(self) -> None:
        self._last = self.clock()
        self._said = self.done
        self.console.print(self.line(), markup=False, highlight=False, soft_wrap=True)
