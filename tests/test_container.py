"""The image and the local stack (K1, K2): hadolint and checkov on the Dockerfile of every
variant; compose.yaml validated against the Compose Specification's JSON schema, and its
references (services, health checks, profiles, mounted files) resolved. There is no container
runtime here: the image build and a container smoke test run in the rendered project's CI.
"""

import json
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pytest_copie.plugin import Result

from tests import infra
from tests.harness import output_of
from tests.variants import VARIANTS

Rendered = Callable[[str], Result]
variants = pytest.mark.parametrize("variant", list(VARIANTS))
APP_USER = "10001:10001"
# The Compose Specification's schema as check-jsonschema vendors it (Apache-2.0, like the spec).
COMPOSE_SCHEMA = "compose-spec.json"


def dockerfile_instructions(project: Path) -> list[tuple[str, str]]:
    text = (project / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def compose_of(project: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


@variants
def test_dockerfile_passes_hadolint(rendered: Rendered, variant: str) -> None:
    linted = infra.hadolint(rendered(variant).project_dir / "Dockerfile")

    assert linted.returncode == 0, output_of(linted)


@variants
def test_dockerfile_passes_checkov(
    checkov_reports: Callable[[str], dict[str, dict[str, Any]]], variant: str
) -> None:
    report = checkov_reports(variant)["dockerfile"]

    # No HEALTHCHECK: the orchestrator probes; the skip is in the Dockerfile with its reason.
    assert infra.assert_checkov_clean(report, minimum_passed=50) == {"CKV_DOCKER_2"}


@variants
def test_image_is_multi_stage_locked_and_unprivileged(rendered: Rendered, variant: str) -> None:
    project = rendered(variant).project_dir
    python = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    base = f"python:{python.get('python_version', '3.12')}-slim-bookworm"
    instructions = dockerfile_instructions(project)
    stages = [index for index, (op, _) in enumerate(instructions) if op == "FROM"]
    runtime = instructions[stages[-1] :]
    runs = [argument for op, argument in instructions if op == "RUN"]

    assert [instructions[i][1] for i in stages] == [f"{base} AS build", f"{base} AS runtime"]
    assert any("--require-hashes" in run and "requirements.lock" in run for run in runs)
    assert any(re.search(r"--no-deps \.$", run) for run in runs)
    assert ("USER", APP_USER) in runtime
    assert ("STOPSIGNAL", "SIGTERM") in runtime
    assert "HEALTHCHECK" not in {op for op, _ in instructions}
    runtime_runs = " ".join(argument for op, argument in runtime if op == "RUN")
    assert not re.search(r"gcc|build-essential|apt-get install", runtime_runs)
    assert not re.search(
        r"(?i)secret|password|token", " ".join(a for op, a in runtime if op == "ENV")
    )
    command = json.loads(next(argument for op, argument in runtime if op == "CMD"))
    assert command[:2] == ["uvicorn", f"{project_package(project)}.main:app"]
    for flag in ("--timeout-graceful-shutdown", "--no-server-header", "--no-proxy-headers"):
        assert flag in command


def project_package(project: Path) -> str:
    (package,) = [path.name for path in (project / "src").iterdir() if path.is_dir()]
    return package


@variants
def test_build_context_leaves_local_state_out(rendered: Rendered, variant: str) -> None:
    project = rendered(variant).project_dir
    ignore = (project / ".dockerignore").read_text(encoding="utf-8").splitlines()
    copied = {
        argument.split()[0]
        for op, argument in dockerfile_instructions(project)
        if op == "COPY" and not argument.startswith("--from")
    }

    assert ignore[ignore.index("*")] == "*"  # deny by default: .env, .venv, .git never enter
    allowed = {line.removeprefix("!").rstrip("/") for line in ignore if line.startswith("!")}
    assert copied <= allowed
    assert all((project / path).exists() for path in allowed)


@variants
def test_compose_file_matches_the_compose_specification(rendered: Rendered, variant: str) -> None:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / COMPOSE_SCHEMA
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    compose = compose_of(rendered(variant).project_dir)
    validator = jsonschema.validators.validator_for(schema)(schema)

    assert [error.message for error in validator.iter_errors(compose)] == []
    assert validator.is_valid({"services": {"app": {"depends_on": 1}}}) is False


@variants
def test_compose_references_resolve(rendered: Rendered, variant: str) -> None:
    project = rendered(variant).project_dir
    services = compose_of(project)["services"]
    volumes = set(compose_of(project)["volumes"])

    for name, service in services.items():
        assert set(service.get("depends_on", {})) <= set(services), name
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("./"):
                assert (project / source).is_dir(), (name, source)
            else:
                assert source in volumes, (name, source)
    app, migrate = services["app"], services["migrate"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert migrate["command"] == ["alembic", "upgrade", "head"]
    for dependency in ("postgres", "redis"):
        assert app["depends_on"][dependency]["condition"] == "service_healthy"
        assert services[dependency]["healthcheck"]["test"]
    assert all("healthcheck" in services[name] for name in ("app", "prometheus", "grafana"))
    unprofiled = {name for name, service in services.items() if "profiles" not in service}
    assert unprofiled == {"app", "migrate", "postgres", "redis"}
    assert services["prometheus"]["profiles"] == services["grafana"]["profiles"] == ["monitoring"]


@variants
def test_monitoring_profile_scrapes_the_app_and_loads_the_rules(
    rendered: Rendered, variant: str
) -> None:
    project = rendered(variant).project_dir
    ops = project / "ops"
    prometheus = yaml.safe_load((ops / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    (scrape,) = prometheus["scrape_configs"]
    datasources = ops / "grafana" / "provisioning" / "datasources" / "prometheus.yaml"
    (datasource,) = yaml.safe_load(datasources.read_text(encoding="utf-8"))["datasources"]
    providers = ops / "grafana" / "provisioning" / "dashboards" / "dashboards.yaml"
    (provider,) = yaml.safe_load(providers.read_text(encoding="utf-8"))["providers"]
    grafana_mounts = compose_of(project)["services"]["grafana"]["volumes"]

    assert scrape["static_configs"][0]["targets"] == ["app:8000"]
    assert scrape["metrics_path"] == "/metrics"
    # compose mounts ops/prometheus/ at /etc/prometheus/.
    assert prometheus["rule_files"] == ["/etc/prometheus/alerts.yaml"]
    rules = yaml.safe_load((ops / "prometheus" / "alerts.yaml").read_text(encoding="utf-8"))
    assert any(
        rule["alert"] == "ServiceNotReady" for group in rules["groups"] for rule in group["rules"]
    )
    assert datasource["url"] == "http://prometheus:9090"
    assert f"./ops/grafana/dashboards:{provider['options']['path']}:ro" in grafana_mounts
