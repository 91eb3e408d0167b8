"""Named variants run their own test suite against real PostgreSQL and Redis."""

import re

import pytest

from tests.harness import RenderVariant, output_of, run_make, variant_params
from tests.variants import PROJECT_SUITES

SUITE_TIMEOUT_SECONDS = 900
SUMMARY = re.compile(r"^=+ (?P<counts>.*) in [\d.]+s", re.MULTILINE)


@pytest.mark.slow
@pytest.mark.parametrize("variant", variant_params(PROJECT_SUITES))
def test_project_suite_passes_against_real_services(rendered: RenderVariant, variant: str) -> None:
    # The same render as tests/test_render.py's checks of this variant: its .venv is reused.
    result = rendered(variant)
    assert result.exit_code == 0, result.exception

    suite = run_make(result.project_dir, "test", timeout=SUITE_TIMEOUT_SECONDS)

    assert suite.returncode == 0, output_of(suite)
    summary = SUMMARY.findall(suite.stdout)
    assert summary, output_of(suite)
    counts = summary[-1]
    # Every test ran: nothing skipped, deselected or expected to fail counts as a pass here.
    assert re.fullmatch(r"\d+ passed", counts), counts
