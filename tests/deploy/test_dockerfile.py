"""Dockerfile and .dockerignore, read statically (no Docker engine here); the
HEALTHCHECK command is run for real against a local HTTP server."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
import tomllib

import pytest


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


@pytest.fixture(scope="module")
def dockerfile(repo) -> list[tuple[str, str]]:
    return instructions((repo / "Dockerfile").read_text())


def stages(dockerfile) -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for instruction in dockerfile:
        if instruction[0] == "FROM":
            out.append([])
        if out:
            out[-1].append(instruction)
    return out


def test_multi_stage_from_a_pinned_python_311_slim(dockerfile) -> None:
    args = dict(a.split("=", 1) for word, a in dockerfile if word == "ARG" and "=" in a)
    froms = [a for word, a in dockerfile if word == "FROM"]
    assert len(froms) >= 2
    base = args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-bookworm)?(@sha256:[0-9a-f]{64})?", base), base
    assert all(f.startswith("${PYTHON_IMAGE} AS ") for f in froms), froms


def test_builder_installs_every_package_source_from_pyproject(dockerfile, repo) -> None:
    where = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["where"]
    builder = stages(dockerfile)[0]
    copied = {a.split()[0] for word, a in builder if word == "COPY"}
    for source in where:
        assert source in copied, f"{source} (a package root in pyproject.toml) is not copied into the builder"
    assert any(word == "RUN" and "pip install --no-deps ." in a for word, a in builder), "the project is not installed"


def test_runtime_stage_is_non_root_and_holds_only_the_venv(dockerfile) -> None:
    runtime = stages(dockerfile)[-1]
    copies = [a for word, a in runtime if word == "COPY"]
    assert copies == ["--from=builder /opt/venv /opt/venv"]
    users = [a for word, a in runtime if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    entrypoint = [json.loads(a) for word, a in runtime if word == "ENTRYPOINT"]
    assert entrypoint == [["python", "-m"]]
    cmd = [json.loads(a) for word, a in runtime if word == "CMD"]
    assert cmd[-1][0] in ("referral", "matching", "journey", "notify")


def healthcheck_command(dockerfile) -> list[str]:
    checks = [a for word, a in stages(dockerfile)[-1] if word == "HEALTHCHECK"]
    assert len(checks) == 1
    return json.loads(checks[0].split("CMD", 1)[1])


@pytest.mark.parametrize("status,healthy", [(200, True), (503, False)])
def test_healthcheck_asks_health_live_with_python_alone(dockerfile, deploy, status: int, healthy: bool) -> None:
    command = healthcheck_command(dockerfile)
    assert command[0] == "python", "slim images have no curl"
    with deploy.health_server("/health/live", status) as port:
        env = {**os.environ, "HTTP_PORT": str(port)}
        done = subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True, timeout=30)
    assert (done.returncode == 0) is healthy, done.stderr.decode()


def test_dockerignore_sends_only_what_the_build_copies(repo) -> None:
    """Docker's rule: the last matching line wins; `!` re-includes."""
    rules = [line.strip() for line in (repo / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]

    def ignored(path: str) -> bool:
        verdict = False
        for rule in rules:
            negate = rule.startswith("!")
            pattern = rule.lstrip("!")
            if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern.replace("/**", "/*")):
                verdict = not negate
        return verdict

    for kept in ("pyproject.toml", "README.md", "runtime/src/brobygger_runtime/settings.py",
                 "services/notify/src/notify/templates/da/match_proposed.txt.j2", "contracts/src/brobygger_contracts/catalogue.py"):
        assert not ignored(kept), kept
    for dropped in (".venv/bin/python", ".git/config", ".brobygger/data/x.db", "services/notify/tests/test_x.py",
                    "tests/e2e/test_slice.py", "runtime/src/brobygger_runtime/__pycache__/x.pyc"):
        assert ignored(dropped), dropped
