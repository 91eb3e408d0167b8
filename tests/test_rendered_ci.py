"""The rendered project's CI/CD workflows and its security lint, per variant (K5, S10).

actionlint (with ShellCheck on PATH, so `run:` scripts are checked too) and zizmor (offline,
strict collection: a workflow that does not parse fails instead of being skipped) must report
nothing; bandit must find nothing of medium severity or higher.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pytest_copie.plugin import Result

from tests.harness import RenderVariant, variant_params
from tests.variants import RENDER_MATRIX

parametrize_variants = pytest.mark.parametrize("variant", variant_params(RENDER_MATRIX))
TOOLS = Path(sys.executable).parent  # actionlint, shellcheck, zizmor, bandit of this checkout
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d", re.MULTILINE)


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{TOOLS}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def project_of(result: Result) -> tuple[Path, dict[str, object]]:
    assert result.exit_code == 0, result.exception
    return result.project_dir, result.answers


def workflows(project: Path) -> dict[str, dict[str, object]]:
    folder = project / ".github" / "workflows"
    return {path.name: yaml.safe_load(path.read_text("utf-8")) for path in folder.glob("*.yml")}


@parametrize_variants
def test_workflows_pass_actionlint_and_zizmor(rendered: RenderVariant, variant: str) -> None:
    project, chosen = project_of(rendered(variant))
    if chosen["ci_provider"] == "none":
        assert not (project / ".github").exists()
        return

    assert set(workflows(project)) == {"ci.yml", "deploy.yml"}
    files = sorted(str(path) for path in (project / ".github" / "workflows").glob("*.yml"))
    linted = run([str(TOOLS / "actionlint"), "-oneline", *files], project)
    audited = run(
        [str(TOOLS / "zizmor"), "--offline", "--strict-collection", ".github/workflows"], project
    )

    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert "No findings to report" in audited.stdout
    assert_pinned_least_privilege_and_no_expressions_in_scripts(project)


def assert_pinned_least_privilege_and_no_expressions_in_scripts(project: Path) -> None:
    for name, workflow in workflows(project).items():
        text = (project / ".github" / "workflows" / name).read_text("utf-8")
        uses = re.findall(r"uses: (\S+.*)$", text, re.MULTILINE)
        assert uses
        assert all(PINNED.match(line) for line in uses), uses
        assert workflow["permissions"] == {}, name  # nothing by default; each job asks
        for job_name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{name}: {job_name}"
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), f"{name}: {job_name}: {step}"
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False


def test_ci_tests_against_service_containers_and_scans(rendered: RenderVariant) -> None:
    project, _ = project_of(rendered("default"))
    jobs = workflows(project)["ci.yml"]["jobs"]

    assert set(jobs["test"]["services"]) == {"postgres", "redis"}
    assert {"TEST_DATABASE_URL", "TEST_REDIS_URL"} <= set(jobs["test"]["env"])
    scripts = "\n".join(
        str(step.get("run", "")) + str(step.get("with", ""))
        for job in jobs.values()
        for step in job["steps"]
    )
    for check in ("make lint", "make test", "make bandit", "pip-audit", "scanners': 'secret"):
        assert check in scripts, check
    assert "'scan-type': 'image'" in scripts
    assert "helm lint --strict" in scripts


def test_deploy_promotes_one_digest_behind_an_approval_and_can_roll_back(
    rendered: RenderVariant,
) -> None:
    project, _ = project_of(rendered("default"))
    jobs = workflows(project)["deploy.yml"]["jobs"]

    assert jobs["staging"]["environment"] == "staging"
    assert jobs["production"]["environment"] == "production"  # required reviewers approve
    assert jobs["production"]["needs"] == ["build", "staging"]
    for job in ("staging", "production"):
        deploy, smoke = jobs[job]["steps"][-2:]
        assert deploy["env"]["DIGEST"] == "${{ needs.build.outputs.digest }}"
        assert "image.digest=" in deploy["run"]
        assert smoke["run"].startswith("make smoke URL=")
    assert "helm rollback" in jobs["rollback"]["steps"][-1]["run"]


@parametrize_variants
def test_bandit_finds_nothing_of_medium_severity_or_higher(
    rendered: RenderVariant, variant: str
) -> None:
    project, _ = project_of(rendered(variant))

    scanned = run([str(TOOLS / "bandit"), "-c", "pyproject.toml", "-r", ".", "-ll", "-q"], project)

    assert scanned.returncode == 0, scanned.stdout + scanned.stderr
