"""Every variant renders into a project that passes ruff and mypy --strict (requirement T2)."""

import ast
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.harness import GIT_ENV, RenderVariant, git, output_of, run_make, tree, variant_params
from tests.variants import RENDER_MATRIX

# Files that may legitimately contain Jinja-like braces after rendering: the pre-commit hook that
# looks for them, Prometheus and Alertmanager templates, Grafana legends, GitHub Actions
# expressions, and the Helm chart, whose templates copier copies verbatim (they do not end in
# .jinja). Anything else with `{{` or `{%` is a template expression left unrendered.
UNRENDERED_ALLOWED: tuple[str, ...] = (
    ".pre-commit-config.yaml",
    "ops/prometheus/alerts.yaml",
    "ops/grafana/dashboards/",
    ".github/workflows/",
    "deploy/helm/",
)
UNRENDERED = re.compile(r"\{\{|\{%|%\}")
LINT_TIMEOUT_SECONDS = 600

parametrize_variants = pytest.mark.parametrize("variant", variant_params(RENDER_MATRIX))


def text_files(project: Path) -> list[Path]:
    """The rendered files (as git sees them: not .venv or caches the project's tools wrote)."""
    return [
        project / name for name, content in tree(project).items() if b"\0" not in content[:1024]
    ]


def python_constants(module: Path) -> dict[str, object]:
    """Module-level `NAME = <literal>` assignments, evaluated without importing the module."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }


@parametrize_variants
def test_variant_renders_every_expression(rendered: RenderVariant, variant: str) -> None:
    result = rendered(variant)
    assert result.exit_code == 0, result.exception
    project = result.project_dir

    leftovers = [
        str(path.relative_to(project))
        for path in text_files(project)
        if UNRENDERED.search(path.read_text(encoding="utf-8"))
        and not str(path.relative_to(project)).startswith(UNRENDERED_ALLOWED)
    ]
    assert leftovers == []
    assert [name for name in tree(project) if name.endswith(".jinja")] == []


@parametrize_variants
def test_variant_applies_its_answers(rendered: RenderVariant, variant: str) -> None:
    result = rendered(variant)
    assert result.exit_code == 0, result.exception
    project, chosen, answers = result.project_dir, result.answers, RENDER_MATRIX[variant]

    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert {key: recorded[key] for key in answers} == answers
    assert "_commit" in recorded  # copier update needs to know where it started from

    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["name"] == chosen["project_slug"]
    assert pyproject["project"]["description"] == chosen["description"]
    assert pyproject["project"]["authors"][0]["name"] == chosen["owner_name"]
    python = chosen["python_version"]
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + python.replace(".", "")
    assert pyproject["tool"]["mypy"]["python_version"] == python
    assert (project / "src" / chosen["package_name"] / "main.py").is_file()
    about = python_constants(project / "src" / chosen["package_name"] / "about.py")
    assert about["SERVICE_TITLE"] == chosen["project_name"]
    assert about["SERVICE_DESCRIPTION"] == chosen["description"]


@parametrize_variants
def test_variant_passes_ruff_and_mypy_strict(rendered: RenderVariant, variant: str) -> None:
    result = rendered(variant)
    assert result.exit_code == 0, result.exception

    lint = run_make(result.project_dir, "lint", timeout=LINT_TIMEOUT_SECONDS)

    assert lint.returncode == 0, output_of(lint)
    assert "All checks passed!" in lint.stdout
    assert re.search(r"Success: no issues found in \d+ source files", lint.stdout)


@parametrize_variants
def test_variant_passes_its_pre_commit_hooks(
    rendered: RenderVariant, variant: str, tmp_path: Path
) -> None:
    result = rendered(variant)
    assert result.exit_code == 0, result.exception
    project = result.project_dir
    assert run_make(project, "venv", timeout=LINT_TIMEOUT_SECONDS).returncode == 0
    # pre-commit checks what git tracks: the team's first commit, as the README says.
    if not (project / ".git").exists():
        git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")

    hooks = subprocess.run(
        [str(project / ".venv" / "bin" / "pre-commit"), "run", "--all-files"],
        cwd=project,
        env={**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit")},
        capture_output=True,
        text=True,
        timeout=LINT_TIMEOUT_SECONDS,
        check=False,
    )

    assert hooks.returncode == 0, hooks.stdout + hooks.stderr
    assert "Failed" not in hooks.stdout
