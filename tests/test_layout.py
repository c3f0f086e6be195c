"""The package's layout: one name for one thing, and imports that run one way (docs/architecture.md)."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# train/ imports as prtriage.train and may keep names of its own for its CLI, config and data.
TRAIN_OWN = {"prtriage.train.cli", "prtriage.train.config", "prtriage.train.data"}


def _modules() -> dict[str, Path]:
    """Dotted name → file, for prtriage/ and train/ (as prtriage.train)."""
    found = {}
    for top, dotted in ((ROOT / "prtriage", "prtriage"), (ROOT / "train", "prtriage.train")):
        for path in top.rglob("*.py"):
            parts = path.relative_to(top).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((dotted, *parts))] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The prtriage modules a module imports, at any depth of its code (lazy imports included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                ).strip(".")
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.add(full if full in modules else base)
    return {m for m in out if m in modules and m != name}


def test_no_two_modules_share_a_name() -> None:
    """Modules and packages alike: `where is X?` has one answer (train's own CLI, config and data aside)."""
    names = Counter(
        name.rpartition(".")[2] for name in _modules() if name != "prtriage" and name not in TRAIN_OWN
    )
    assert [name for name, n in names.items() if n > 1] == []


def test_imports_form_no_circle() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    circles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    # A package's __init__ is its parent: a module importing a sibling through it is no circle.
    circles = [
        c
        for c in circles
        if not any(a.startswith(b + ".") or b.startswith(a + ".") for a, b in zip(c, c[1:]))
    ]
    assert circles == []


def test_lower_layers_never_import_upper_ones() -> None:
    """core ← pipeline ← (batching, dataset, evaluation, github, git_hooks, release_notes) ← commands ← cli."""
    modules = _modules()
    below = {
        "prtriage.core": ("prtriage.core",),
        "prtriage.pipeline": ("prtriage.core", "prtriage.pipeline"),
    }
    for name, path in modules.items():
        for layer, allowed in below.items():
            if name.startswith(layer + "."):
                wrong = {m for m in _imports(name, path, modules) if not m.startswith(allowed)}
                assert not wrong, f"{name} imports {sorted(wrong)}"
        if not name.startswith("prtriage.commands") and name not in ("prtriage.cli", "prtriage.__main__"):
            if name.startswith("prtriage.train"):
                continue  # the train CLI is its own group, loaded lazily by cli.py
            assert not {m for m in _imports(name, path, modules) if m.startswith("prtriage.commands")}, name


def _calls(path: Path, name: str) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and (getattr(n.func, "id", None) == name or getattr(n.func, "attr", None) == name)
    ]


def test_a_change_is_built_in_one_place() -> None:
    """From git, a pull request, a push, the staged files or a record: pipeline/change.py builds it."""
    builders = {name for name, path in _modules().items() if _calls(path, "Change")}
    assert builders == {"prtriage.pipeline.change"}


def test_the_classify_step_holds_no_write_token_and_the_steps_stay_apart() -> None:
    """github/classify_step.py reads the pull request's bytes; only label_step.py asks for a token."""
    modules = _modules()
    classify_step = modules["prtriage.github.classify_step"]
    label_step = modules["prtriage.github.label_step"]
    asks = [
        kw.value.value
        for call in _calls(classify_step, "from_env")
        for kw in call.keywords
        if kw.arg == "need_token" and isinstance(kw.value, ast.Constant)
    ]
    assert asks and not any(asks)
    assert "prtriage.github.label_step" not in _imports(
        "prtriage.github.classify_step", classify_step, modules
    )
    assert "prtriage.github.classify_step" not in _imports("prtriage.github.label_step", label_step, modules)
    assert any(call.keywords for call in _calls(label_step, "from_env"))
