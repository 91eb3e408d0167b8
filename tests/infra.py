"""Offline infrastructure checkers for the rendered Dockerfile, compose.yaml and Helm chart.

Helm runs through helm-python-sdk (the Helm v4 SDK as a shared library: no helm binary),
manifests are validated by kubernetes-validate, policies by checkov in its own virtual
environment (it pins dependencies the template's tools disagree with), Dockerfiles by hadolint.
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

import helm_python
import yaml

from tests.harness import TEMPLATE_ROOT, UV

Manifest = dict[str, Any]

CHECKOV_VERSION: Final = "3.3.30"
CHECKOV_LOCK: Final = TEMPLATE_ROOT / "tests" / "tools" / "checkov.lock"
CHECKOV_VENV: Final = TEMPLATE_ROOT / ".tools" / f"checkov-{CHECKOV_VERSION}"
# checkov would otherwise ask the Prisma Cloud API and PyPI (both time out offline).
CHECKOV_ENV: Final = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}
TOOL_TIMEOUT_SECONDS: Final = 300
HADOLINT: Final = Path(sys.executable).with_name("hadolint")

# Values profiles of the chart: name -> values file (None = the chart's values.yaml alone).
PROFILES: Final[dict[str, str | None]] = {
    "default": None,
    "staging": "values-staging.yaml",
    "production": "values-production.yaml",
}
RELEASE: Final = "svc"
# Not `default`: checkov flags resources that would land in the default namespace.
NAMESPACE: Final = "apps"


def chart_dir(project: Path) -> Path:
    charts = list((project / "deploy" / "helm").iterdir())
    assert len(charts) == 1, charts
    return charts[0]


def profile_values(chart: Path, profile: str) -> dict[str, Any]:
    values_file = PROFILES[profile]
    if values_file is None:
        return {}
    loaded: dict[str, Any] = yaml.safe_load((chart / values_file).read_text(encoding="utf-8"))
    return loaded


def render_chart(chart: Path, values: dict[str, Any]) -> dict[str, str]:
    """Template path -> rendered text, for the templates that produce output."""
    with helm_python.Chart.load(str(chart)) as loaded:
        out: dict[str, str] = loaded.render(values=values, name=RELEASE, namespace=NAMESPACE)
    return {path: text for path, text in out.items() if path.endswith(".yaml") and text.strip()}


def manifests(chart: Path, values: dict[str, Any]) -> list[Manifest]:
    return [
        document
        for _, text in sorted(render_chart(chart, values).items())
        for document in yaml.safe_load_all(text)
        if document
    ]


def write_profiles(project: Path, target: Path) -> None:
    """Every profile's manifests under target/<profile>/, one file per template."""
    chart = chart_dir(project)
    for profile in PROFILES:
        for path, text in render_chart(chart, profile_values(chart, profile)).items():
            out = target / profile / path
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")


def checkov_bin() -> Path:
    """checkov from its pinned, hash-checked lock file, installed once into .tools/."""
    checkov = CHECKOV_VENV / "bin" / "checkov"
    CHECKOV_VENV.parent.mkdir(exist_ok=True)
    with (CHECKOV_VENV.parent / "checkov.install-lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers share one install
        if not checkov.exists():
            shutil.rmtree(CHECKOV_VENV, ignore_errors=True)
            python = ["--python", sys.executable]
            subprocess.run([UV, "venv", "--quiet", *python, CHECKOV_VENV], check=True)
            install = [UV, "pip", "install", "--quiet", "--require-hashes", "-r", CHECKOV_LOCK]
            subprocess.run(
                [*install, "--python", CHECKOV_VENV / "bin" / "python"],
                check=True,
                timeout=TOOL_TIMEOUT_SECONDS,
            )
    return checkov


def checkov(directory: Path, frameworks: list[str]) -> dict[str, dict[str, Any]]:
    """checkov's JSON report per framework (check_type) for every file under directory."""
    command = [checkov_bin(), "-d", directory, "--framework", *frameworks, "--skip-download"]
    process = subprocess.run(
        [*command, "--output", "json"],
        env={**os.environ, **CHECKOV_ENV},
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_SECONDS,
        check=False,
    )
    assert process.returncode in (0, 1), process.stderr
    report = json.loads(process.stdout)
    reports = report if isinstance(report, list) else [report]
    return {entry["check_type"]: entry for entry in reports}


def assert_checkov_clean(report: dict[str, Any], minimum_passed: int) -> set[str]:
    """No failed check, enough passed ones (a scan that found nothing fails nothing either),
    and a written reason on every skip; returns the skipped check ids."""
    results = report["results"]
    failed = [f"{c['check_id']} {c['resource']} {c['file_path']}" for c in results["failed_checks"]]
    assert failed == []
    assert report["summary"]["passed"] >= minimum_passed
    skipped = results["skipped_checks"]
    assert all(len(check["check_result"]["suppress_comment"]) > 30 for check in skipped)
    return {check["check_id"] for check in skipped}


def hadolint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    config = dockerfile.with_name(".hadolint.yaml")
    return subprocess.run(
        [HADOLINT, "--no-color", "--failure-threshold", "warning", "-c", config, dockerfile],
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_SECONDS,
        check=False,
    )
