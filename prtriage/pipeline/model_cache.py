"""prtriage's cache folder: the re-quantized copy of the default model, remembered file hashes,
and what `prtriage cache info|clean` lists and removes; llama.cpp's quantizer."""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
from pathlib import Path

from prtriage.core.atomic import atomic_path
from prtriage.core.cache_folder import cache_dir
from prtriage.core.errors import ModelError
from prtriage.pipeline.native import capture_native_output


def models_dir() -> Path:
    return cache_dir() / "models"


def _digest_cache(path: Path) -> Path:
    """Where the sha256 of `path` as it is now (name, size, modification time) is remembered."""
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()
    return cache_dir() / "sha256" / key[:32]


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def remembered_sha256(path: Path) -> str:
    """The sha256 of a file: remembered from an earlier run, or hashed once and remembered."""
    remembered = _digest_cache(path)
    try:
        digest = remembered.read_text().strip()
        if len(digest) == 64:
            return digest
    except OSError:
        pass
    digest = sha256_of_file(path)
    try:
        remembered.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(remembered, per_process=True) as tmp:
            tmp.write_text(digest + "\n")
    except OSError:
        pass  # a read-only cache: hashed again next time
    return digest


def requantized_copy(path: Path, digest: str) -> Path:
    """The embedded Q4_1 weights re-quantized to Q8_0 once, in the cache.

    Measured on AVX-only CPUs (docs/benchmarks.md): Q8_0 evaluates prompts about 1.7x faster than
    Q4_1, and re-quantizing Q4_1 values to Q8_0 keeps them almost exactly. The copy is named after
    the source's content (`digest`, its sha256: a reinstall of the same weights reuses it) and is
    the only one kept. Falls back to the original file when the cache cannot be written.
    """
    target = models_dir() / f"{path.stem}.{digest[:16]}.Q8_0.gguf"
    if target.is_file():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target, per_process=True) as tmp:  # no half-written model is ever picked up
            quantize(path, tmp, "Q8_0", allow_requantize=True)
    except (OSError, ModelError):
        return path
    for old in target.parent.glob(f"{path.stem}.*.Q8_0.gguf"):
        if old != target:  # an earlier install's copy (a process still using it keeps its mapping)
            old.unlink(missing_ok=True)
    return target


def quantize(src: Path, dst: Path, qtype: str, allow_requantize: bool = False) -> None:
    """llama.cpp's own quantizer, in process (no binary needed)."""
    import llama_cpp

    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{qtype.upper()}", None)
    if ftype is None:
        raise ModelError(f"unknown quantization type {qtype!r}")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.allow_requantize = allow_requantize
    with capture_native_output() as log:
        rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(params))
    if rc != 0:
        dst.unlink(missing_ok=True)
        raise ModelError(f"quantizing {src} to {qtype} failed: {log.last_error() or 'rc=' + str(rc)}")


def cache_files() -> list[tuple[Path, int]]:
    """Every file in prtriage's cache folder, with its size: what `prtriage cache info` lists."""
    root = cache_dir()
    if not root.is_dir():
        return []
    return sorted((p, p.stat().st_size) for p in root.rglob("*") if p.is_file() and not p.is_symlink())


# What prtriage remakes by itself when it is gone: model copies, remembered hashes, base-commit
# files. The rest of the folder (wheels/: scripts/llama_wheel.sh's llama.cpp build, ten minutes to
# redo; logs/: crash reports) goes only with `cache clean --all`.
REMADE = ("models", "sha256", "base-files")


def clean_cache(everything: bool = False) -> tuple[int, int, list[str]]:
    """Remove the model copies and remembered hashes (with `everything`, the whole folder's
    contents); (files, bytes) removed and the top-level entries kept. The Hugging Face cache and
    the installed weights are not prtriage's to remove."""
    root = cache_dir()
    files = [(p, size) for p, size in cache_files() if everything or p.relative_to(root).parts[0] in REMADE]
    for path, _ in files:
        path.unlink(missing_ok=True)
    mine = (
        p for p in root.rglob("*") if p.is_dir() and (everything or p.relative_to(root).parts[0] in REMADE)
    )
    for folder in sorted(mine, reverse=True):
        with contextlib.suppress(OSError):  # not empty: a symlink, or another process's new file
            folder.rmdir()
    kept = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
    return len(files), sum(size for _, size in files), kept
