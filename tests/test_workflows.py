"""The template's own workflows pass actionlint (with ShellCheck) and zizmor, offline (T4)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.harness import TEMPLATE_ROOT

WORKFLOWS = TEMPLATE_ROOT / ".github" / "workflows"
TOOLS = Path(sys.executable).parent


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    # ShellCheck must be on PATH, or actionlint silently skips the scripts in `run:` blocks.
    env = {**os.environ, "PATH": f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        command, cwd=TEMPLATE_ROOT, env=env, capture_output=True, text=True, check=False
    )


def test_shellcheck_is_available_to_actionlint() -> None:
    assert shutil.which("shellcheck", path=str(TOOLS)) is not None


def test_workflows_pass_actionlint() -> None:
    lint = run_tool(str(TOOLS / "actionlint"), *map(str, sorted(WORKFLOWS.glob("*.yml"))))
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_workflows_pass_zizmor_offline() -> None:
    audit = run_tool(str(TOOLS / "zizmor"), "--offline", "--strict-collection", str(WORKFLOWS))
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "No findings to report" in audit.stdout + audit.stderr
