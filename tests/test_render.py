"""Every variant renders into a project that passes ruff and mypy --strict (requirement T2)."""

import ast
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.harness import Render, output_of, run_make
from tests.variants import VARIANTS, Answers

# Files that may legitimately contain Jinja-like braces after rendering: the Helm chart, whose
# templates copier copies verbatim (they do not end in .jinja). Anything else with `{{` or `{%`
# is a template expression left unrendered.
UNRENDERED_ALLOWED: tuple[str, ...] = ("deploy/helm/",)
UNRENDERED = re.compile(r"\{\{|\{%|%\}")
LINT_TIMEOUT_SECONDS = 600

parametrize_variants = pytest.mark.parametrize("answers", VARIANTS.values(), ids=VARIANTS.keys())


def text_files(project: Path) -> list[Path]:
    files = [path for path in project.rglob("*") if path.is_file() and ".git" not in path.parts]
    return [path for path in files if b"\0" not in path.read_bytes()[:1024]]


def python_constants(module: Path) -> dict[str, object]:
    """Module-level `NAME = <literal>` assignments, evaluated without importing the module."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }


@parametrize_variants
def test_variant_renders_every_expression(render: Render, answers: Answers) -> None:
    result = render(answers)
    assert result.exit_code == 0, result.exception
    project = result.project_dir

    leftovers = [
        str(path.relative_to(project))
        for path in text_files(project)
        if UNRENDERED.search(path.read_text(encoding="utf-8"))
        and not str(path.relative_to(project)).startswith(UNRENDERED_ALLOWED)
    ]
    assert leftovers == []
    assert not list(project.rglob("*.jinja"))


@parametrize_variants
def test_variant_applies_its_answers(render: Render, answers: Answers) -> None:
    result = render(answers)
    assert result.exit_code == 0, result.exception
    project, chosen = result.project_dir, result.answers

    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert {key: recorded[key] for key in answers} == answers
    assert "_commit" in recorded  # copier update needs to know where it started from

    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["name"] == chosen["project_slug"]
    assert pyproject["project"]["description"] == chosen["description"]
    assert pyproject["project"]["authors"][0]["name"] == chosen["author_name"]
    python = chosen["python_version"]
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + python.replace(".", "")
    assert pyproject["tool"]["mypy"]["python_version"] == python
    assert (project / "src" / chosen["package_name"] / "main.py").is_file()
    about = python_constants(project / "src" / chosen["package_name"] / "about.py")
    assert about["SERVICE_TITLE"] == chosen["project_name"]
    assert about["SERVICE_DESCRIPTION"] == chosen["description"]


@parametrize_variants
def test_variant_passes_ruff_and_mypy_strict(render: Render, answers: Answers) -> None:
    result = render(answers)
    assert result.exit_code == 0, result.exception

    lint = run_make(result.project_dir, "lint", timeout=LINT_TIMEOUT_SECONDS)

    assert lint.returncode == 0, output_of(lint)
    assert "All checks passed!" in lint.stdout
    assert re.search(r"Success: no issues found in \d+ source files", lint.stdout)
