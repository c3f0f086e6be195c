"""Write the example outputs in README.md from real runs of this version (like scripts/cli_docs.py).

Each example runs prtriage on the small repository examples/demo-repo.sh makes, with the real default model, one
thread (its numbers do not depend on the thread count, and one thread is the least noisy), and
writes the output to docs/examples/NAME.txt and into README.md between the markers
`<!-- example: NAME -->` and `<!-- end example -->`. The one edit: the install folder in the
adapter path becomes `…/`.

Usage: python scripts/readme_examples.py            (runs the model, rewrites both)
       python scripts/readme_examples.py --check    (README.md matches docs/examples/; no model)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
EXAMPLES = ROOT / "docs" / "examples"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_AUTHOR_DATE": "2026-01-01T12:00:00Z",
    "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_COMMITTER_DATE": "2026-01-01T12:00:00Z", "GIT_CONFIG_NOSYSTEM": "1",
}  # fmt: skip
BLOCK = re.compile(
    r"(<!-- example: (?P<name>[\w-]+) -->\n```text\n)(?P<body>.*?)(```\n<!-- end example -->)", re.S
)


def demo_repo(root: Path) -> Path:
    """The README's demo: examples/demo-repo.sh, which the first screen tells readers to run."""
    repo = root / "demo"
    subprocess.run(
        ["bash", str(ROOT / "examples" / "demo-repo.sh"), str(repo)], check=True, capture_output=True
    )
    return repo


def run_prtriage(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRTRIAGE_", "GITHUB_"))}
    env.update(GIT_ENV, PRTRIAGE_THREADS="1", COLUMNS="100", TERM="dumb", NO_COLOR="1")
    if "PRTRIAGE_CACHE_DIR" in os.environ:
        env["PRTRIAGE_CACHE_DIR"] = os.environ["PRTRIAGE_CACHE_DIR"]
    proc = subprocess.run([sys.executable, "-m", "prtriage", *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"prtriage {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    import prtriage

    install = str(Path(prtriage.__file__).resolve().parent.parent) + os.sep
    lines = [line.rstrip() for line in proc.stdout.replace(install, "…/").splitlines()]
    return "\n".join(lines) + "\n"


def render() -> dict[str, str]:
    """Every example's text: the command, then what it printed."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = demo_repo(Path(tmp))
        return {"classify": "$ prtriage classify\n" + run_prtriage(repo, "classify")}


def readme_blocks(text: str) -> dict[str, str]:
    return {m["name"]: m["body"] for m in BLOCK.finditer(text)}


def with_blocks(text: str, examples: dict[str, str]) -> str:
    return BLOCK.sub(lambda m: m[1] + examples.get(m["name"], m["body"]) + m[4], text)


def committed() -> dict[str, str]:
    return {p.stem: p.read_text() for p in sorted(EXAMPLES.glob("*.txt"))}


def main() -> None:
    if "--check" in sys.argv:
        blocks, files = readme_blocks(README.read_text()), committed()
        if not files or blocks != files:
            print("README.md examples differ from docs/examples/: run python scripts/readme_examples.py",
                  file=sys.stderr)  # fmt: skip
            sys.exit(1)
        return
    examples = render()
    EXAMPLES.mkdir(parents=True, exist_ok=True)
    for name, body in examples.items():
        (EXAMPLES / f"{name}.txt").write_text(body)
    README.write_text(with_blocks(README.read_text(), examples))


if __name__ == "__main__":
    main()
