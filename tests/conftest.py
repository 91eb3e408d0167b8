"""pytest-copie wiring: every render comes from this checkout's working tree.

copier renders the newest release tag by default, which would silently test an old template;
`render()` always asks for HEAD, and copier adds uncommitted changes on top of it.
"""

from pathlib import Path

import pytest
from pytest_copie.plugin import Copie, Result

from tests.harness import TEMPLATE_ROOT, Render


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--variant",
        action="append",
        default=[],
        help="run variant tests only for this variant id (repeatable; CI shards on it)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(config.getoption("--variant"))
    if not wanted:
        return
    selected, deselected = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        variant_test = callspec is not None and item.path.name in (
            "test_render.py",
            "test_project.py",
            "test_chart.py",
            "test_container.py",
        )
        # Tests with more parameters than the variant name it in a `variant` parameter.
        variant = callspec.params.get("variant", callspec.id) if variant_test else None
        (deselected if variant_test and variant not in wanted else selected).append(item)
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
