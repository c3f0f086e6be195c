"""Keep llama.cpp's C-level logging off the user's terminal, but at hand when something fails."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


class Captured:
    text = ""

    def last_error(self) -> str | None:
        """The last line of the native log that reads like an error, if any."""
        lines = [ln.strip() for ln in self.text.splitlines() if ln.strip()]
        for line in reversed(lines):
            lowered = line.lower()
            if "error" in lowered or "failed" in lowered or "invalid" in lowered:
                return line
        return None


@contextmanager
def capture_native_output() -> Iterator[Captured]:
    """Redirect file descriptors 1 and 2 (where C code writes) into a temporary file."""
    captured = Captured()
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            sink.seek(0)
            captured.text = sink.read()[-200_000:].decode("utf-8", "replace")
