"""Template CI shards on the variants in tests/variants.py and never keeps its own copy (T4)."""

import json
import subprocess
import sys

import yaml

from tests.harness import TEMPLATE_ROOT
from tests.variants import PROJECT_SUITES, RENDER_MATRIX

WORKFLOW = TEMPLATE_ROOT / ".github" / "workflows" / "template-ci.yml"


def test_variant_list_is_printed_for_the_ci_matrix() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "tests.variants", "--github-output"],
        cwd=TEMPLATE_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    outputs = dict(line.split("=", 1) for line in printed.splitlines())

    assert json.loads(outputs["render"]) == list(RENDER_MATRIX)
    assert json.loads(outputs["project"]) == list(PROJECT_SUITES)


def test_workflow_matrices_come_from_the_variant_list() -> None:
    jobs = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]

    assert jobs["update"]["steps"][-1]["run"].endswith('tests/test_update.py"')
    for job in ("render", "project"):
        assert jobs[job]["needs"] == "variants"
        matrix = jobs[job]["strategy"]["matrix"]["variant"]
        assert matrix == f"${{{{ fromJSON(needs.variants.outputs.{job}) }}}}"
