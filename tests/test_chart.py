"""The Helm chart renders, lints and validates in every values profile (K3, K4, S7).

Per variant with a chart: `helm lint --strict` and a render for every values profile (through
helm-python-sdk), every manifest validated against the Kubernetes schemas of the supported
versions (CRDs allowed by an explicit list), checkov's Kubernetes policies with zero failures,
the restricted pod security settings asserted one by one, and values that never hold secrets.
"""

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import helm_python
import kubernetes_validate
import pytest
import yaml
from pytest_copie.plugin import Result

from tests import infra
from tests.infra import Manifest
from tests.variants import VARIANTS

CHART_VARIANTS = [name for name, answers in VARIANTS.items() if answers.get("helm", True)]
KUBERNETES_VERSIONS = ("1.29.0", "1.33.0")
# Custom resources kubernetes-validate has no schema for; anything else must validate.
CRD_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("external-secrets.io/v1beta1", "ExternalSecret"),
    ("external-secrets.io/v1", "ExternalSecret"),
}
POD_OWNERS = {"Deployment", "Job", "CronJob"}
APP_UID = 10001
# Keys that name a secret; the only ones allowed hold references to where secrets live.
SECRET_LIKE_KEY = re.compile(r"(?i)password|secret|token|credential|private|api_?key|_url$")
SECRET_REFERENCE_KEYS = {
    "secrets",
    "existingSecret",
    "externalSecret",
    "secretStoreRef",
    "secretKey",
}
SECRET_REFERENCE_KEYS |= {"tlsSecretName", "imagePullSecrets"}

Rendered = Callable[[str], Result]

variants = pytest.mark.parametrize("variant", CHART_VARIANTS)
profiles = pytest.mark.parametrize("profile", list(infra.PROFILES))


def per_profile_and_kubernetes_version(test: Callable[..., None]) -> Callable[..., None]:
    by_version = pytest.mark.parametrize("kubernetes", KUBERNETES_VERSIONS)(test)
    return variants(profiles(by_version))


def chart_of(rendered: Rendered, variant: str) -> Path:
    return infra.chart_dir(rendered(variant).project_dir)


def rendered_profile(rendered: Rendered, variant: str, profile: str) -> list[Manifest]:
    chart = chart_of(rendered, variant)
    return infra.manifests(chart, infra.profile_values(chart, profile))


def by_kind(documents: list[Manifest], kind: str) -> list[Manifest]:
    return [document for document in documents if document["kind"] == kind]


def pod_specs(documents: list[Manifest]) -> Iterator[tuple[str, dict[str, Any]]]:
    for document in documents:
        if document["kind"] in ("Deployment", "Job"):
            yield document["metadata"]["name"], document["spec"]["template"]["spec"]
        elif document["kind"] == "CronJob":
            pod = document["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            yield document["metadata"]["name"], pod


@per_profile_and_kubernetes_version
def test_chart_lints_strictly(
    rendered: Rendered, variant: str, profile: str, kubernetes: str
) -> None:
    chart = chart_of(rendered, variant)

    report = helm_python.lint(
        str(chart),
        strict=True,
        values=infra.profile_values(chart, profile),
        kube_version=f"v{kubernetes}",
    )

    assert report["errors"] == []
    # Severity 1 is information (such as "icon is recommended"); 2 and 3 are warnings, errors.
    assert [message for message in report["messages"] if message["severity"] > 1] == []


@per_profile_and_kubernetes_version
def test_manifests_match_the_kubernetes_schemas(
    rendered: Rendered, variant: str, profile: str, kubernetes: str
) -> None:
    documents = rendered_profile(rendered, variant, profile)
    unvalidated = []

    for document in documents:
        try:
            kubernetes_validate.validate(document, kubernetes, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            unvalidated.append((document["apiVersion"], document["kind"]))

    assert {"Deployment", "Service", "NetworkPolicy", "Job"} <= {d["kind"] for d in documents}
    assert set(unvalidated) <= CRD_KINDS


@variants
def test_manifests_pass_checkov(
    checkov_reports: Callable[[str], dict[str, dict[str, Any]]], variant: str
) -> None:
    report = checkov_reports(variant)["kubernetes"]

    # Each skip is an annotation in the chart with a written reason.
    skipped = infra.assert_checkov_clean(report, minimum_passed=100)
    assert skipped <= {"CKV_K8S_15", "CKV_K8S_43"}


@variants
@profiles
def test_every_pod_runs_restricted(rendered: Rendered, variant: str, profile: str) -> None:
    documents = rendered_profile(rendered, variant, profile)
    specs = dict(pod_specs(documents))
    assert specs, "no pods rendered"

    for name, pod in specs.items():
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True, name
        assert context["runAsUser"] == APP_UID, name
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod["automountServiceAccountToken"] is False, name
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        assert "emptyDir" in volumes["tmp"], name
        assert volumes["secrets"]["secret"]["secretName"], name
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert set(container["resources"]) == {"requests", "limits"}, name
            mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
            assert mounts["/tmp"]["name"] == "tmp", name
            assert mounts["/run/secrets"] == {
                "name": "secrets",
                "mountPath": "/run/secrets",
                "readOnly": True,
            }, name
            # Secrets are files in SECRETS_DIR, never environment variables.
            for source in container.get("envFrom", []):
                assert "secretRef" not in source, name
            for variable in container.get("env", []):
                assert "secretKeyRef" not in variable.get("valueFrom", {}), name
    for account in by_kind(documents, "ServiceAccount"):
        assert account["automountServiceAccountToken"] is False


@variants
def test_deployment_probes_and_shutdown_match_the_server(rendered: Rendered, variant: str) -> None:
    chart = chart_of(rendered, variant)
    values = yaml.safe_load((chart / "values.yaml").read_text(encoding="utf-8"))
    (deployment,) = by_kind(infra.manifests(chart, {}), "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    server = values["server"]

    assert container["startupProbe"]["httpGet"]["path"] == "/health/startup"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    graceful = server["gracefulShutdownSeconds"]
    assert f"--timeout-graceful-shutdown={graceful}" in container["command"]
    assert "--no-proxy-headers" in container["command"]
    assert container["lifecycle"]["preStop"]["exec"]["command"] == [
        "sleep",
        str(server["preStopSleepSeconds"]),
    ]
    assert pod["terminationGracePeriodSeconds"] == server["preStopSleepSeconds"] + graceful + 5
    assert pod["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"]
    assert container["resources"]["limits"]["memory"]


@variants
def test_network_policy_admits_only_ingress_and_prometheus(
    rendered: Rendered, variant: str
) -> None:
    chart = chart_of(rendered, variant)
    provider = {"cidr": "203.0.113.0/24", "port": 443}
    values = {"networkPolicy": {"providers": [provider]}}

    (policy,) = by_kind(infra.manifests(chart, values), "NetworkPolicy")

    (rule,) = policy["spec"]["ingress"]
    namespaces = {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for peer in rule["from"]
    }
    assert namespaces == {"ingress-nginx", "monitoring"}
    egress_ports = {port["port"] for egress in policy["spec"]["egress"] for port in egress["ports"]}
    assert egress_ports == {53, 5432, 6379, 443}
    assert {"ipBlock": {"cidr": "203.0.113.0/24"}} in policy["spec"]["egress"][-1]["to"]
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]


@variants
def test_migrations_and_backups_run_as_jobs(rendered: Rendered, variant: str) -> None:
    documents = rendered_profile(rendered, variant, "production")

    (migration,) = by_kind(documents, "Job")
    hooks = migration["metadata"]["annotations"]["helm.sh/hook"].split(",")
    assert hooks == ["pre-install", "pre-upgrade"]
    (container,) = migration["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["alembic", "upgrade", "head"]
    (backup,) = by_kind(documents, "CronJob")
    pod = backup["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    package = rendered(variant).project_dir.joinpath(".copier-answers.yml")
    assert container["command"][:3] == ["python", "-m", chosen_package(package)]
    assert container["command"][3] == "backup"
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert volumes["backup"]["persistentVolumeClaim"]["claimName"]


def chosen_package(answers_file: Path) -> str:
    answers = yaml.safe_load(answers_file.read_text(encoding="utf-8"))
    package: str = answers.get("package_name") or answers["project_slug"].replace("-", "_")
    return package


@variants
def test_prometheus_rule_carries_the_alert_rules_file(rendered: Rendered, variant: str) -> None:
    project = rendered(variant).project_dir
    chart = infra.chart_dir(project)
    rules = (project / "ops" / "prometheus" / "alerts.yaml").read_text(encoding="utf-8")

    (rule,) = by_kind(
        infra.manifests(chart, infra.profile_values(chart, "staging")), "PrometheusRule"
    )
    assert (chart / "files" / "alerts.yaml").read_text(encoding="utf-8") == rules
    assert rule["spec"] == yaml.safe_load(rules)
    (monitor,) = by_kind(
        infra.manifests(chart, infra.profile_values(chart, "staging")), "ServiceMonitor"
    )
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    default = infra.manifests(chart, {})
    assert by_kind(default, "PrometheusRule") == by_kind(default, "ServiceMonitor") == []


@variants
def test_secrets_come_from_the_configured_backend(rendered: Rendered, variant: str) -> None:
    chart = chart_of(rendered, variant)
    documents = infra.manifests(chart, {})
    (deployment,) = by_kind(documents, "Deployment")
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    secret_name = next(v["secret"]["secretName"] for v in volumes if v["name"] == "secrets")
    external = by_kind(documents, "ExternalSecret")

    assert by_kind(documents, "Secret") == []  # the chart never carries secret values
    if VARIANTS[variant].get("secrets_backend") == "external-secrets":
        (resource,) = external
        assert resource["spec"]["target"]["name"] == secret_name
        (migration,) = by_kind(documents, "Job")
        weight = int(resource["metadata"]["annotations"]["helm.sh/hook-weight"])
        assert weight < int(migration["metadata"]["annotations"]["helm.sh/hook-weight"])
        keys = {entry["secretKey"] for entry in resource["spec"]["data"]}
        # Every secret the service reads in production, as `generate-secrets` lists them.
        assert keys == generated_secret_names(rendered(variant).project_dir)
    else:
        assert external == []


def generated_secret_names(project: Path) -> set[str]:
    """The settings `generate-secrets` prints, as the Secret's keys (lower-case file names)."""
    (source,) = (project / "src").glob("*/generate_secrets.py")
    names = re.findall(r'GeneratedSecret\(\s*"([A-Z_]+)"', source.read_text(encoding="utf-8"))
    assert names, "no GeneratedSecret entries found"
    return {name.lower() for name in names}


def secret_like_keys(node: object, path: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if SECRET_LIKE_KEY.search(str(key)) and key not in SECRET_REFERENCE_KEYS:
                yield here
            yield from secret_like_keys(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from secret_like_keys(item, f"{path}[{index}]")
    elif isinstance(node, str) and re.search(r"://[^/\s]*:[^/\s]*@", node):
        yield f"{path} (credentials in a URL)"


@variants
def test_values_files_hold_no_secrets(rendered: Rendered, variant: str) -> None:
    chart = chart_of(rendered, variant)
    values_files = sorted(chart.glob("values*.yaml"))

    found = {
        path.name: list(secret_like_keys(yaml.safe_load(path.read_text(encoding="utf-8"))))
        for path in values_files
    }

    assert len(values_files) == 3
    assert found == {path.name: [] for path in values_files}
    assert list(secret_like_keys({"config": {"DB_PASSWORD": "x"}})) == [".config.DB_PASSWORD"]


BAD_VALUES = {
    "replicas-zero": ({"replicaCount": 0}, "/replicaCount"),
    "pull-policy": ({"image": {"pullPolicy": "Sometimes"}}, "/image/pullPolicy"),
    "secret-in-config": (
        {"config": {"DATABASE_URL": "postgresql://u:p@db/app"}},
        "propertyName 'DATABASE_URL'",
    ),
    "cidr-not-a-list": ({"networkPolicy": {"postgresql": {"cidrs": "10.0.0.0/8"}}}, "cidrs"),
    "unknown-key": ({"secretValues": {"database_url": "x"}}, "secretValues"),
    "digest": ({"image": {"digest": "latest"}}, "/image/digest"),
}


@pytest.mark.parametrize(("values", "where"), BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_values_schema_rejects_bad_values(
    rendered: Rendered, values: dict[str, Any], where: str
) -> None:
    chart = chart_of(rendered, "default")

    with (
        helm_python.Chart.load(str(chart)) as loaded,
        pytest.raises(helm_python.HelmValuesError, match=re.escape(where)),
    ):
        loaded.render(values=values, name=infra.RELEASE, namespace=infra.NAMESPACE)


def test_values_schema_is_self_contained(rendered: Rendered) -> None:
    schema = (chart_of(rendered, "default") / "values.schema.json").read_text(encoding="utf-8")

    assert '"$ref"' not in schema  # Helm would fetch a remote $ref at every render


def test_helm_false_renders_no_chart(rendered: Rendered) -> None:
    project = rendered("helm:false").project_dir

    assert not (project / "deploy").exists()
    assert (project / "Dockerfile").is_file()
    assert (project / "compose.yaml").is_file()


@variants
def test_deploy_guide_walks_from_image_to_rollback(rendered: Rendered, variant: str) -> None:
    project = rendered(variant).project_dir
    guide = (project / "docs" / "deploy.md").read_text(encoding="utf-8")
    chart = infra.chart_dir(project).relative_to(project)

    for step in ("docker build", "docker compose up", "helm upgrade --install", "helm rollback"):
        assert step in guide
    assert f"-f {chart}/values-production.yaml" in guide
    assert "image.digest=sha256:" in guide
