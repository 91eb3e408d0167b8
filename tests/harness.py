"""Helpers shared by the template's tests: rendering and driving a rendered project."""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from pytest_copie.plugin import Result

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]
# The uv of the template's own virtual environment; rendered projects build theirs with it.
UV = Path(sys.executable).with_name("uv")

Render = Callable[[dict[str, str]], Result]


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
