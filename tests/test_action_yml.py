"""action.yml, the workflows and the snippets of the README and docs/, parsed and checked; steps run for real."""

from __future__ import annotations

import re
import stat
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from action_sim import ROOT, evaluate, load_action, read_outputs, run_step, step

from prtriage.core.settings import resolve_settings

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


# The README's snippets moved to docs/ pages (issue 29): every page's are checked, in this order.
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def readme_blocks(lang: str) -> list[str]:
    """The fenced blocks of `lang` in the README and the docs pages."""
    text = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)
    return re.findall(rf"^```{lang}\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def readme_workflows() -> list[dict[str, Any]]:
    docs = [yaml.safe_load(block) for block in readme_blocks("yaml")]
    return [d for d in docs if isinstance(d, dict) and "jobs" in d]


def all_steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in doc:
        steps: list[dict[str, Any]] = doc["runs"]["steps"]
        return steps
    return [s for job in doc["jobs"].values() for s in job.get("steps", [])]


def documents() -> list[tuple[str, dict[str, Any]]]:
    found = [("action.yml", load_action())]
    found += [(p.name, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in WORKFLOWS]
    found += [(f"README workflow {i}", d) for i, d in enumerate(readme_workflows())]
    return found


def test_every_input_is_used_and_every_reference_is_declared() -> None:
    action = load_action()
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    declared = set(action["inputs"])
    used = set(re.findall(r"inputs\.([\w-]+)", text.split("\nruns:", 1)[1]))
    assert used == declared, f"unused: {declared - used}, undeclared: {used - declared}"
    assert declared >= {"model", "adapter", "config", "fail-on", "label", "label-prefix", "github-token",
                        "gpu-layers", "python-version", "args"}  # fmt: skip
    assert action["inputs"]["label"]["default"] == "false"  # labeling is opt-in
    for name, spec in action["inputs"].items():
        assert name == name.lower() and " " not in name and spec.get("description")


def test_no_expression_inside_run_and_every_run_has_a_shell() -> None:
    for name, doc in documents():
        for s in all_steps(doc):
            if "run" in s:
                assert "${{" not in s["run"], f"{name}: step {s.get('name')!r} puts an expression in run:"
                if name == "action.yml":
                    assert s.get("shell") == "bash", f"{name}: step {s.get('name')!r} has no shell"


def test_outputs_come_from_steps_that_exist_before_use() -> None:
    action = load_action()
    assert set(action["outputs"]) == {"category", "confidence", "reasoning", "json", "prtriage"}
    for name, spec in action["outputs"].items():
        step_id = "install" if name == "prtriage" else "run"  # the executable, for later steps
        assert spec["value"] == f"${{{{ steps.{step_id}.outputs.{name} }}}}"
    assert 'echo "prtriage=$VENV/bin/prtriage" >> "$GITHUB_OUTPUT"' in step("install")["run"]
    seen: set[str] = set()
    for s in action["runs"]["steps"]:
        refs = set(re.findall(r"steps\.([\w-]+)\.outputs", yaml.safe_dump(s)))
        assert refs <= seen, f"step {s.get('name')!r} reads {refs - seen} before they run"
        if "id" in s:
            seen.add(s["id"])
    assert "run" in seen


def test_third_party_actions_are_pinned_by_commit_sha() -> None:
    shas: dict[str, set[str]] = {}
    for name, doc in documents():
        for s in all_steps(doc):
            uses = s.get("uses")
            if uses is None or uses == "./" or uses.startswith("OWNER/prtriage@"):
                continue
            assert PINNED.match(uses), f"{name}: {uses} is not pinned to a full commit SHA"
            repo, sha = uses.split("@")
            shas.setdefault(repo.split("/")[0] + "/" + repo.split("/")[1], set()).add(sha)
    assert all(len(v) == 1 for v in shas.values()), f"one SHA per action everywhere: {shas}"
    text = "\n".join(p.read_text() for p in [ROOT / "action.yml", *WORKFLOWS])
    for line in text.splitlines():
        if re.search(r"uses: [\w-]+/[\w./-]+@[0-9a-f]{40}", line):
            assert re.search(r"# v\d", line), f"say which version a SHA is: {line.strip()}"


def test_cache_keys_never_depend_on_pull_request_content() -> None:
    for name, doc in documents():
        for s in all_steps(doc):
            if str(s.get("uses", "")).startswith("actions/cache"):
                key = str(s["with"]["key"])
                assert "github.event" not in key and "head_ref" not in key, f"{name}: {key}"
                if name == "action.yml":
                    assert "hashFiles" not in key  # the workspace is the pull request's code


def test_workflows_run_the_tests_and_self_test_the_action() -> None:
    tests = yaml.safe_load((ROOT / ".github/workflows/tests.yml").read_text())
    runs = [s.get("run", "") for s in all_steps(tests)]
    assert "bash .ci/run" in runs
    assert "bash scripts/test.sh" in (ROOT / ".ci/run").read_text()  # the README's command
    assert "GGML_NATIVE=OFF" in tests["jobs"]["tests"]["env"]["CMAKE_ARGS"]
    selftest = yaml.safe_load((ROOT / ".github/workflows/action-selftest.yml").read_text())
    triggers = selftest[True] if True in selftest else selftest["on"]  # YAML 1.1 reads `on` as True
    assert "pull_request" in triggers and "push" in triggers
    steps = all_steps(selftest)
    assert any(s.get("uses") == "./" for s in steps)
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    for _, doc in documents()[1:]:
        assert "permissions" in doc, "every workflow states its token's permissions"


def test_readme_workflows_use_real_inputs_and_the_fork_safe_shapes() -> None:
    declared = set(load_action()["inputs"])
    flows = readme_workflows()
    assert len(flows) >= 4
    for flow in flows:
        for s in all_steps(flow):
            if str(s.get("uses", "")).startswith("OWNER/prtriage@"):
                assert set(s.get("with") or {}) <= declared
    by_trigger = {next(iter(f[True] if True in f else f["on"])): f for f in flows[1:]}
    untrusted = flows[1]  # the fork-safe classify half: read-only
    assert untrusted["permissions"] == {"contents": "read"}
    label_job = by_trigger["workflow_run"]
    assert label_job["permissions"]["pull-requests"] == "write"
    assert "workflow_run.event == 'pull_request'" in label_job["jobs"]["label"]["if"]
    assert any((s.get("with") or {}).get("label-from") for s in all_steps(label_job))
    assert not any(str(s.get("uses", "")).startswith("actions/checkout") for s in all_steps(label_job))
    target = by_trigger["pull_request_target"]
    for s in all_steps(target):
        assert "ref" not in (s.get("with") or {}), "never check out the pull request's head here"
    assert any((s.get("with") or {}).get("diff-from") == "github" for s in all_steps(target))
    # llama.cpp parses the pull request's bytes: never in a job whose token can write.
    for name, job in target["jobs"].items():
        ours = [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith("OWNER/prtriage@")]
        classifies = any(not (s.get("with") or {}).get("label-from") for s in ours)
        permissions = job.get("permissions", target.get("permissions")) or {}
        assert not (classifies and "write" in permissions.values()), (
            f"job {name} classifies with a write token"
        )
    assert any((s.get("with") or {}).get("label-from") for s in all_steps(target))


def test_readme_config_example_is_accepted(tmp_path: Path) -> None:
    example = readme_blocks("toml")[0]  # the full example; tests/test_readme.py loads every block
    path = tmp_path / ".prtriage.toml"
    path.write_text(example)
    assert tomllib.loads(example)
    settings = resolve_settings({}, env={}, cwd=tmp_path, config_file=path)
    assert settings.fail_on == ("chore",) and settings.base == "origin/develop"


# --- the steps' scripts, run as the runner runs them -----------------------------------------------


def check(tmp_path: Path, event: str = "pull_request", **inputs: str) -> tuple[int, str, dict[str, str]]:
    out = tmp_path / "check-output"
    out.write_text("")
    env = {"GITHUB_OUTPUT": str(out), "GITHUB_EVENT_NAME": event}
    proc = run_step("check", inputs, {}, env, tmp_path)
    return proc.returncode, proc.stdout, read_outputs(out)


def test_check_step_validates_inputs(tmp_path: Path) -> None:
    assert check(tmp_path)[0::2] == (0, {"mode": "classify", "needs-token": "false"})
    assert check(tmp_path, event="push")[2] == {"mode": "install", "needs-token": "false"}
    assert check(tmp_path, event="workflow_run", **{"label-from": "r.json"})[2] == {
        "mode": "label",
        "needs-token": "true",
    }
    bad = [
        {"label": "yes"}, {"create-labels": "1"}, {"diff-from": "svn"}, {"gpu-layers": "all"},
        {"python-version": "3.10"}, {"python-version": "3.11; rm -rf /"}, {"cmake-args": "-DX=1\n-DY=2"},
        {"label": "true", "github-token": ""},
    ]  # fmt: skip
    for inputs in bad:
        code, stdout, outputs = check(tmp_path, **inputs)
        assert code == 2 and stdout.startswith("::error title=prtriage::input "), inputs
        assert outputs == {}, inputs
        assert "rm -rf" not in stdout  # values are never echoed into workflow commands


def test_pull_request_target_with_a_checkout_diff_is_refused(tmp_path: Path) -> None:
    """Issue 18, case 4: checking out the head under a write token and secrets only warned."""
    code, stdout, outputs = check(tmp_path, event="pull_request_target")
    assert code == 2 and outputs == {}
    assert stdout.startswith("::error title=prtriage::under pull_request_target, diff-from: git")
    assert "use diff-from: github" in stdout
    code, _, outputs = check(tmp_path, event="pull_request_target", **{"diff-from": "github"})
    assert code == 0 and outputs["mode"] == "classify"


def test_pull_request_target_labelling_in_the_classifying_job_is_warned_about(tmp_path: Path) -> None:
    code, stdout, outputs = check(
        tmp_path, event="pull_request_target", **{"diff-from": "github", "label": "true"}
    )
    assert code == 0 and outputs["mode"] == "classify"
    assert stdout.startswith("::warning title=prtriage::under pull_request_target, label and comment give")
    code, stdout, _ = check(tmp_path, event="pull_request_target", **{"diff-from": "github"})
    assert code == 0 and "::warning" not in stdout
    code, stdout, _ = check(tmp_path, event="pull_request", label="true")
    assert code == 0 and "::warning" not in stdout


def step_envs(tmp_path: Path, event: str = "pull_request", **inputs: str) -> dict[str, dict[str, str]]:
    """Every step's `env:` as the runner evaluates it, after the check step ran with these inputs."""
    code, _, checked = check(tmp_path, event, **inputs)
    assert code == 0
    outputs = {"check": checked, "keys": {"venv": "/v"}, "python": {"python-path": "/p"}}
    return {
        str(s.get("id") or s["name"]): {
            k: evaluate(str(v), inputs, outputs, SECRET) for k, v in (s.get("env") or {}).items()
        }
        for s in load_action()["runs"]["steps"]
    }


SECRET = "ghs_the-token-itself"


def test_the_token_reaches_only_the_step_that_needs_it(tmp_path: Path) -> None:
    """Issue 18, case 4: GITHUB_TOKEN went to the classify step even when nothing needed it."""

    def holders(event: str = "pull_request", **inputs: str) -> list[str]:
        envs = step_envs(tmp_path, event, **inputs)
        return [name for name, env in envs.items() if any(SECRET in v for v in env.values())]

    assert holders() == []  # classify only: the model needs no token
    for inputs in ({"label": "true"}, {"comment": "true"}, {"diff-from": "github"}):
        assert holders(**inputs) == ["run"], inputs
    assert holders("workflow_run", **{"label-from": "r.json"}) == ["run"]
    assert holders("push") == []  # install only
    assert step_envs(tmp_path, label="true")["run"]["GITHUB_TOKEN"] == SECRET


def keys(tmp_path: Path, workspace: Path, **inputs: str) -> dict[str, str]:
    out = tmp_path / "keys-output"
    out.write_text("")
    env = {"GITHUB_OUTPUT": str(out), "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
           "RUNNER_TEMP": str(tmp_path), "HOME": str(tmp_path)}  # fmt: skip
    proc = run_step("keys", inputs, {"python": {"python-path": sys.executable}}, env, workspace)
    assert proc.returncode == 0, proc.stderr
    return read_outputs(out)


def test_cache_keys(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (b / "setup.py").write_text("print('a pull request changing anything')\n")
    first = keys(tmp_path, a)
    assert first == keys(tmp_path, b)  # the workspace (pull request content) does not matter
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    assert first["wheel-key"].startswith(f"prtriage-llama-cpp-python-0.3.36-Linux-X64-{tag}-")
    assert first["wheelhouse"] == f"{tmp_path}/.cache/prtriage/action-wheels/{first['wheel-key']}"
    assert first["models"] == "false" and "models-key" not in first
    cuda = keys(tmp_path, a, **{"cmake-args": "-DGGML_CUDA=on -DGGML_NATIVE=OFF"})
    assert cuda["wheel-key"] != first["wheel-key"]
    hf = keys(tmp_path, a, model="hf://o/r/m.gguf@v1")
    assert (
        hf["models"] == "true"
        and hf["models-key"] != keys(tmp_path, a, model="hf://o/r/m.gguf@v2")["models-key"]
    )


def test_llama_version_matches_the_wheel_script_and_the_requirement() -> None:
    version = step("keys")["env"]["LLAMA_CPP_PYTHON_VERSION"]
    script = (ROOT / "scripts/llama_wheel.sh").read_text()
    assert f"LLAMA_CPP_PYTHON_VERSION:-{version}}}" in script
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (req,) = [d for d in pyproject["project"]["dependencies"] if d.startswith("llama-cpp-python")]
    from packaging.specifiers import SpecifierSet

    assert version in SpecifierSet(req.removeprefix("llama-cpp-python"))


@pytest.fixture
def fake_venv(tmp_path: Path) -> Path:
    """A venv whose `prtriage` records its arguments, one per line."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    script = venv / "bin" / "prtriage"
    script.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path}/argv\n'
        f"env | grep '^PRTRIAGE_' | grep -v '^PRTRIAGE_CACHE_DIR=' | sort > {tmp_path}/env\n"  # settings without a flag
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return venv


def run_mode(tmp_path: Path, venv: Path, mode: str, **inputs: str) -> tuple[int, str, list[str]]:
    (tmp_path / "argv").unlink(missing_ok=True)
    outputs = {"check": {"mode": mode}, "keys": {"venv": str(venv)}}
    proc = run_step("run", inputs, outputs, {"GITHUB_EVENT_NAME": "push"}, tmp_path)
    argv = (tmp_path / "argv").read_text().splitlines() if (tmp_path / "argv").exists() else []
    return proc.returncode, proc.stdout, argv


def test_run_step_builds_arguments_without_expanding_inputs(tmp_path: Path, fake_venv: Path) -> None:
    code, _, argv = run_mode(
        tmp_path, fake_venv, "classify",
        model="hf://o/r/m.gguf", **{"fail-on": "chore,deps", "label": "true", "label-prefix": "type: ",
                                    "args": "--exclude docs/* $(touch pwned) `touch pwned2`"},
    )  # fmt: skip
    assert code == 0
    assert argv == [
        "classify", "--github", "--diff-from", "git", "--model", "hf://o/r/m.gguf", "--fail-on", "chore,deps",
        "--label", "--label-prefix", "type: ", "--exclude", "docs/*", "$(touch", "pwned)", "`touch", "pwned2`",
    ]  # fmt: skip
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()
    code, _, argv = run_mode(
        tmp_path, fake_venv, "label", **{"label-from": "r.json", "create-labels": "true"}
    )
    assert (code, argv) == (
        0,
        ["label", "--from", "r.json", "--label-prefix", "prtriage:", "--create-labels"],
    )
    code, stdout, argv = run_mode(tmp_path, fake_venv, "install")
    assert (
        code == 0
        and argv == []
        and stdout.startswith("::notice title=prtriage::no pull request in this push")
    )


def test_label_map_and_comment_inputs(tmp_path: Path, fake_venv: Path) -> None:
    code, stdout, _ = check(tmp_path, comment="yes")
    assert code == 2 and "input comment must be true or false" in stdout
    code, stdout, _ = check(tmp_path, comment="true", **{"github-token": ""})
    assert code == 2 and "github-token is empty" in stdout
    label_map = "fix=bug,feature=enhancement,chore="
    code, _, argv = run_mode(
        tmp_path, fake_venv, "classify", label="true", comment="true", **{"label-map": label_map}
    )
    assert code == 0 and argv == [
        "classify", "--github", "--diff-from", "git", "--label", "--label-prefix", "prtriage:",
        "--label-map", label_map, "--comment",
    ]  # fmt: skip
    code, _, argv = run_mode(tmp_path, fake_venv, "classify", **{"label-map": label_map})
    assert argv == ["classify", "--github", "--diff-from", "git"]  # no label: the map is unused
    code, _, argv = run_mode(
        tmp_path, fake_venv, "label", comment="true", **{"label-from": "r.json", "label-map": label_map}
    )
    assert argv == [
        "label", "--from", "r.json", "--label-prefix", "prtriage:", "--label-map", label_map, "--comment",
    ]  # fmt: skip


def test_readme_label_map_recipe_and_release_workflow() -> None:
    steps = [yaml.safe_load(b) for b in readme_blocks("yaml")]
    recipe = next(s[0]["with"] for s in steps if isinstance(s, list) and "label-map" in s[0].get("with", {}))
    assert set(recipe) <= set(load_action()["inputs"])
    settings = resolve_settings({"labels": recipe["label-map"]}, env={})
    assert dict(settings.labels)["fix"] == "bug" and dict(settings.labels)["feature"] == "enhancement"
    release = next(
        f for f in readme_workflows() if "tags" in ((f.get(True) or f.get("on") or {}).get("push") or {})
    )
    runs = " ".join(s.get("run", "") for s in all_steps(release))
    assert '"$PRTRIAGE" notes "$previous..$TAG"' in runs and "gh release create" in runs
    (env,) = [s["env"] for s in all_steps(release) if "PRTRIAGE" in s.get("env", {})]
    assert env["PRTRIAGE"] == "${{ steps.prtriage.outputs.prtriage }}"
    assert "prtriage" in load_action()["outputs"]
    assert release["permissions"] == {"contents": "write"}


def test_label_rule_and_declared_inputs_reach_prtriage_as_its_variables(
    tmp_path: Path, fake_venv: Path
) -> None:
    for name, value in (("size-labels", "yes"), ("skip-drafts", "no"), ("declared", "always")):
        code, stdout, _ = check(tmp_path, **{name: value})
        assert code == 2 and stdout.startswith(f"::error title=prtriage::input {name} must be"), name
    inputs = {"label": "true", "size-labels": "true", "path-labels": "docs/**=documentation",
              "skip-drafts": "false", "skip-authors": "none", "declared": "check"}  # fmt: skip
    for mode in ("classify", "label"):
        code, _, _ = run_mode(
            tmp_path, fake_venv, mode, **inputs, **{"label-from": "r.json"} if mode == "label" else {}
        )
        assert code == 0 and (tmp_path / "env").read_text().splitlines() == [
            "PRTRIAGE_DECLARED=check", "PRTRIAGE_PATH_LABELS=docs/**=documentation", "PRTRIAGE_SIZE_LABELS=true",
            "PRTRIAGE_SKIP_AUTHORS=none", "PRTRIAGE_SKIP_DRAFTS=false",
        ]  # fmt: skip
    run_mode(tmp_path, fake_venv, "classify")
    assert (tmp_path / "env").read_text().splitlines() == [
        "PRTRIAGE_DECLARED=",
        "PRTRIAGE_PATH_LABELS=",
        "PRTRIAGE_SIZE_LABELS=",
        "PRTRIAGE_SKIP_AUTHORS=",
        "PRTRIAGE_SKIP_DRAFTS=",
    ]  # fmt: skip  (empty: not set as far as prtriage is concerned, so the config decides)
