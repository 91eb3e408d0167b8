"""Helpers shared by the template's tests: rendering and driving a rendered project."""

import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from pytest_copie.plugin import Result

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]
# The uv of the template's own virtual environment; rendered projects build theirs with it.
UV = Path(sys.executable).with_name("uv")

# Hermetic git: no user or system configuration, a fixed identity for the tests' own commits.
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "shipshape tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "shipshape tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
}

Render = Callable[[dict[str, str | bool]], Result]
# A variant's name in tests/variants.py -> its one render of the session.
RenderVariant = Callable[[str], Result]


def variant_params(variants: Iterable[str]) -> list[object]:
    """Parameters named after each variant, in one xdist group per variant (one render each)."""
    return [
        pytest.param(variant, id=variant, marks=pytest.mark.xdist_group(variant))
        for variant in variants
    ]


def run_make(project: Path, target: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run one of the rendered project's own make targets, as its user would."""
    env = {**os.environ, "UV": str(UV), "PYTHON": sys.executable}
    env.pop("VIRTUAL_ENV", None)  # the project builds and uses its own .venv
    return subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def output_of(process: subprocess.CompletedProcess[str]) -> str:
    return f"exit {process.returncode}\n--- stdout\n{process.stdout}\n--- stderr\n{process.stderr}"


def git(repo: Path, *arguments: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *arguments],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
    ).stdout


def tree(project: Path) -> dict[str, bytes]:
    """Every file the project's git would track, with its content (caches and .venv ignored)."""
    if not (project / ".git").exists():
        git(project, "init", "--quiet", "--initial-branch=main")
    names = git(project, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    # --cached lists files an update deleted from the working tree too: those are not there.
    paths = {name: project / name for name in filter(None, names.split("\0"))}
    return {name: path.read_bytes() for name, path in paths.items() if path.is_file()}
