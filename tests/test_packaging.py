from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_maps_train_into_the_package_and_runs_installed(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    wheel = next(tmp_path.glob("prtriage-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "prtriage/train/__init__.py" in names and "prtriage/cli.py" in names
    assert "prtriage/commands/modes.py" in names  # cli.py imports it: a wheel without it cannot start
    assert "prtriage/py.typed" in names
    data = ROOT / "prtriage" / "data"
    assert all(f"prtriage/data/{p.name}" in names for p in data.glob("*.gguf"))  # a default adapter ships
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
    help_ = subprocess.run(
        [sys.executable, "-m", "prtriage", "--help"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert help_.returncode == 0 and "classify" in help_.stdout
