"""Where prtriage keeps what it can remake: PRTRIAGE_CACHE_DIR, else the XDG cache folder.

Its own module, free of imports, so that the commit-msg hook finds its lexical index without
loading the model cache's code (hashing, llama.cpp's quantizer).
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    if os.environ.get("PRTRIAGE_CACHE_DIR"):
        return Path(os.environ["PRTRIAGE_CACHE_DIR"])
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "prtriage"
