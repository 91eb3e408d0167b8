"""pytest-copie wiring: every render comes from this checkout's working tree.

copier renders the newest release tag by default, which would silently test an old template;
`render()` always asks for HEAD, and copier adds uncommitted changes on top of it.
"""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_copie.plugin import Copie, Result

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]
# The uv of the template's own virtual environment; rendered projects build theirs with it.
UV = Path(sys.executable).with_name("uv")

Render = Callable[[dict[str, str]], Result]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--variant",
        action="append",
        default=[],
        help="only run variant-parametrized tests for this variant id (repeatable); CI shards on it",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(config.getoption("--variant"))
    if not wanted:
        return
    selected, deselected = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        variant_test = callspec is not None and item.path.name in ("test_render.py", "test_project.py")
        (deselected if variant_test and callspec.id not in wanted else selected).append(item)
    config.hook.pytest_deselected(items=deselected)
    items[:] = selected


def pytest_configure(config: pytest.Config) -> None:
    # pytest-copie resolves --template against the working directory; pin it to this checkout.
    if config.option.template in (None, ".", str(Path.cwd())):
        config.option.template = str(TEMPLATE_ROOT)


@pytest.fixture
def render(copie: Copie) -> Render:
    def render_answers(answers: dict[str, str]) -> Result:
        return copie.copy(extra_answers=answers, vcs_ref="HEAD")

    return render_answers


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
