"""Alert rules, Alertmanager routing and the Grafana dashboard of every variant (O3, O4).

Each check runs the real tool on the rendered files: promtool (rules, unit tests, PromQL
syntax) and amtool (Alertmanager config). The dashboard and the rules may only query metrics
the service exposes (ops/prometheus/metrics.txt, kept equal to /metrics by the rendered
test_metrics_catalogue.py) or the names in PENDING_METRICS below.
"""

import json
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from pytest_copie.plugin import Result

from tests.harness import RenderVariant, output_of, run_make, variant_params
from tests.promql import grafana_to_promql, metric_names, promtool_parse_errors
from tests.variants import RENDER_MATRIX

parametrize_variants = pytest.mark.parametrize("variant", variant_params(RENDER_MATRIX))

# Metrics other workstreams add. The alerts and dashboard already query them under these agreed
# names; when a workstream lands, its names move into the rendered ops/prometheus/metrics.txt
# (its test then proves /metrics serves them) and leave this list.
PENDING_METRICS: dict[str, str] = {}
# Written by Prometheus itself for every scrape target.
SCRAPE_METRICS = frozenset({"up"})

DASHBOARD_SCHEMA = {
    "type": "object",
    "required": ["uid", "title", "panels", "templating", "schemaVersion", "time"],
    "properties": {
        "uid": {"type": "string", "pattern": "^[a-z0-9-]{1,40}$"},
        "title": {"type": "string", "minLength": 1},
        "templating": {
            "type": "object",
            "required": ["list"],
            "properties": {
                "list": {
                    "type": "array",
                    "contains": {
                        "type": "object",
                        "required": ["name", "type", "query"],
                        "properties": {
                            "name": {"const": "datasource"},
                            "type": {"const": "datasource"},
                            "query": {"const": "prometheus"},
                        },
                    },
                }
            },
        },
        "panels": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "type", "title", "datasource", "gridPos", "targets"],
                "properties": {
                    "title": {"type": "string", "minLength": 1},
                    "datasource": {"$ref": "#/$defs/datasource"},
                    "targets": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["refId", "expr", "datasource"],
                            "properties": {
                                "expr": {"type": "string", "minLength": 1},
                                "datasource": {"$ref": "#/$defs/datasource"},
                            },
                        },
                    },
                },
            },
        },
    },
    "$defs": {
        "datasource": {
            "type": "object",
            "required": ["type", "uid"],
            "properties": {"type": {"const": "prometheus"}, "uid": {"const": "${datasource}"}},
        }
    },
}


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def project_of(result: Result) -> tuple[Path, dict[str, object]]:
    assert result.exit_code == 0, result.exception
    return result.project_dir, result.answers


def alert_rules(project: Path) -> list[dict[str, object]]:
    rules = yaml.safe_load((project / "ops/prometheus/alerts.yaml").read_text(encoding="utf-8"))
    return [rule for group in rules["groups"] for rule in group["rules"]]


def exposed_metrics(project: Path) -> set[str]:
    lines = (project / "ops/prometheus/metrics.txt").read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


@parametrize_variants
def test_alert_rules_pass_promtool_check_and_their_unit_tests(
    rendered: RenderVariant, variant: str
) -> None:
    project, _ = project_of(rendered(variant))

    checked = run_make(project, "alerts", timeout=120)  # promtool check rules + test rules

    assert checked.returncode == 0, output_of(checked)
    assert f"SUCCESS: {len(alert_rules(project))} rules found" in checked.stdout
    assert checked.stdout.rstrip().endswith("SUCCESS")


@parametrize_variants
def test_every_alert_is_labelled_documented_and_unit_tested_both_ways(
    rendered: RenderVariant, variant: str
) -> None:
    project, _ = project_of(rendered(variant))
    rules = alert_rules(project)
    unit_tests = yaml.safe_load(
        (project / "ops/prometheus/alerts_test.yaml").read_text(encoding="utf-8")
    )["tests"]
    checks = [check for test in unit_tests for check in test["alert_rule_test"]]
    alerts_doc = (project / "docs" / "alerts.md").read_text(encoding="utf-8")

    assert rules
    for rule in rules:
        name = rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert {"summary", "description", "runbook_url"} <= set(rule["annotations"]), name
        assert rule["annotations"]["runbook_url"] == f"docs/alerts.md#alert-{name.lower()}"
        assert f"\n## Alert: {name}\n" in alerts_doc, name
        outcomes = {bool(check["exp_alerts"]) for check in checks if check["alertname"] == name}
        assert outcomes == {True, False}, f"{name} needs a firing and a quiet unit test"


@parametrize_variants
def test_alertmanager_config_passes_amtool_and_holds_no_secret(
    rendered: RenderVariant, variant: str
) -> None:
    project, chosen = project_of(rendered(variant))
    path = project / "ops" / "alertmanager" / "alertmanager.yml"
    text = path.read_text(encoding="utf-8")
    config = yaml.safe_load(text)
    receivers = {receiver["name"]: receiver for receiver in config["receivers"]}

    # Debian's amtool is 0.25, one release before Telegram's `bot_token_file` (0.26): check a
    # copy that names an inline placeholder instead; the shipped file never holds the token.
    checkable = re.sub(r"bot_token_file: \S+", 'bot_token: "0:placeholder"', text)
    (project / "amtool-check.yml").write_text(checkable, encoding="utf-8")
    checked = run(["amtool", "check-config", "amtool-check.yml"], project)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    routes = {route["matchers"][0]: route["receiver"] for route in config["route"]["routes"]}
    assert routes == {'severity="critical"': "critical", 'severity="warning"': "warning"}
    receiver = chosen["alerts_receiver"]
    for name in ("critical", "warning"):
        if receiver == "telegram":
            (telegram,) = receivers[name]["telegram_configs"]
            assert telegram["bot_token_file"].startswith("/etc/alertmanager/secrets/")
            assert "bot_token" not in telegram
        elif receiver == "slack":
            (slack,) = receivers[name]["slack_configs"]
            assert slack["api_url_file"].startswith("/etc/alertmanager/secrets/")
            assert "api_url" not in slack
        else:
            assert set(receivers[name]) == {"name"}  # a receiver without configs drops alerts


@parametrize_variants
def test_dashboard_keeps_its_invariants_and_queries_only_exposed_metrics(
    rendered: RenderVariant, variant: str
) -> None:
    project, chosen = project_of(rendered(variant))
    path = project / "ops" / "grafana" / "dashboards" / f"{chosen['project_slug']}.json"
    dashboard = json.loads(path.read_text(encoding="utf-8"))

    jsonschema.validate(dashboard, DASHBOARD_SCHEMA)
    assert dashboard["title"] == chosen["project_name"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))

    dashboard_exprs = [
        grafana_to_promql(target["expr"])
        for panel in dashboard["panels"]
        for target in panel["targets"]
    ]
    rule_exprs = [str(rule["expr"]) for rule in alert_rules(project)]
    assert promtool_parse_errors(dashboard_exprs + rule_exprs, project) == ""

    known = exposed_metrics(project) | set(PENDING_METRICS) | SCRAPE_METRICS
    unknown = {
        expr: sorted(metric_names(expr) - known)
        for expr in dashboard_exprs + rule_exprs
        if metric_names(expr) - known
    }
    assert unknown == {}


def test_pending_metrics_are_not_yet_exposed(rendered: RenderVariant) -> None:
    """A name in PENDING_METRICS that the service now exposes must leave the list."""
    project, _ = project_of(rendered("default"))

    assert exposed_metrics(project) & set(PENDING_METRICS) == set()
