"""pytest-copie wiring: every render comes from this checkout's working tree.

copier renders the newest release tag by default, which would silently test an old template;
`render()` always asks for HEAD, and copier adds uncommitted changes on top of it.
"""

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_copie.plugin import Copie, Result

from tests import infra
from tests.harness import TEMPLATE_ROOT, Render
from tests.variants import RENDER_MATRIX


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
        variant = callspec.params.get("variant") if callspec is not None else None
        (deselected if variant is not None and variant not in wanted else selected).append(item)
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


@pytest.fixture(scope="session")
def rendered(copie_session: Copie) -> Callable[[str], Result]:
    """One render per variant for the whole session, shared by every check of that variant.

    `make test` runs with `--dist loadgroup` and each variant's tests in one xdist group, so
    a variant is rendered once, by the worker that checks it.
    """
    cache: dict[str, Result] = {}

    def render_variant(variant: str) -> Result:
        if variant not in cache:
            cache[variant] = copie_session.copy(
                extra_answers=RENDER_MATRIX[variant], vcs_ref="HEAD"
            )
        return cache[variant]

    return render_variant


@pytest.fixture(scope="session")
def checkov_reports(
    rendered: Callable[[str], Result], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], dict[str, dict[str, Any]]]:
    """checkov's reports (by framework) for a variant's Dockerfile and, when it has a chart, the
    manifests of every values profile: one checkov run per variant, as each run takes seconds."""
    reports: dict[str, dict[str, dict[str, Any]]] = {}

    def report_of(variant: str) -> dict[str, dict[str, Any]]:
        if variant not in reports:
            project = rendered(variant).project_dir
            scanned = tmp_path_factory.mktemp("checkov")
            shutil.copy(project / "Dockerfile", scanned / "Dockerfile")
            frameworks = ["dockerfile"]
            if (project / "deploy").is_dir():
                infra.write_profiles(project, scanned / "manifests")
                frameworks.append("kubernetes")
            reports[variant] = infra.checkov(scanned, frameworks)
        return reports[variant]

    return report_of
