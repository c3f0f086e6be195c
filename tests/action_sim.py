"""Run one `run:` step of action.yml the way the runner does, with its `env:` expressions evaluated.

Only the expression forms action.yml uses are understood (`inputs.*`, `steps.<id>.outputs.*`,
`github.token`, string literals, `==`, `!=`, `&&`, `||`); any other reference fails the test, so
the simulator cannot silently drift.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load_action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return data


def step(step_id: str) -> dict[str, Any]:
    for s in load_action()["runs"]["steps"]:
        if s.get("id") == step_id:
            found: dict[str, Any] = s
            return found
    raise KeyError(step_id)


def evaluate(
    value: str, inputs: Mapping[str, str], outputs: Mapping[str, Mapping[str, str]], token: str
) -> str:
    defaults = {name: str(spec.get("default", "")) for name, spec in load_action()["inputs"].items()}

    def ref(expr: str) -> str:
        if expr.startswith("inputs."):
            name = expr[len("inputs.") :]
            if name not in defaults:
                raise KeyError(f"unknown input {name}")
            raw = inputs.get(name, defaults[name])
            return EXPR.sub(one, raw)  # a default may itself be an expression (github.token)
        if expr == "github.token":
            return token
        m = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
        if m:
            return outputs.get(m[1], {}).get(m[2], "")
        raise ValueError(f"the simulator does not know {expr!r}")

    def operand(expr: str) -> str | bool:
        """A literal, a reference, or `a == 'b'` / `a != 'b'` (GitHub compares strings case-insensitively)."""
        for op in ("==", "!="):
            if op in expr:
                left, right = (operand(part.strip()) for part in expr.split(op, 1))
                same = str(left).lower() == str(right).lower()
                return same if op == "==" else not same
        if re.fullmatch(r"'[^']*'", expr):
            return expr[1:-1]
        return ref(expr)

    def truthy(v: str | bool) -> bool:
        return v is True or (isinstance(v, str) and v != "")

    def expression(expr: str) -> str | bool:
        """`a && b || c` as GitHub evaluates it: && binds tighter; each returns one of its operands."""
        result: str | bool = False
        for i, alternative in enumerate(expr.split("||")):
            value: str | bool = True
            for part in alternative.split("&&"):
                value = operand(part.strip())
                if not truthy(value):
                    break
            result = value
            if truthy(value) or i == len(expr.split("||")) - 1:
                return value
        return result

    def one(match: re.Match[str]) -> str:
        value = expression(match.group(1))
        return ("true" if value else "false") if isinstance(value, bool) else value

    return EXPR.sub(one, value)


def run_step(
    step_id: str, inputs: Mapping[str, str], outputs: Mapping[str, Mapping[str, str]],
    env: Mapping[str, str], cwd: Path, token: str = "test-token", timeout: float = 300,
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    s = step(step_id)
    assert s["shell"] == "bash"
    step_env = {k: evaluate(str(v), inputs, outputs, token) for k, v in (s.get("env") or {}).items()}
    full_env = {**os.environ, "GITHUB_ACTION_PATH": str(ROOT), **env, **step_env}
    # What `shell: bash` runs: bash --noprofile --norc -eo pipefail {0}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", s["run"]],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def read_outputs(path: Path) -> dict[str, str]:
    """Parse $GITHUB_OUTPUT as the runner does: `name=value` and `name<<DELIM` ... `DELIM`."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            values[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
            i += 1
        else:
            i += 1
    return values
