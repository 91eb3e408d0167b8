"""The PromQL helpers find metric names and parse errors the way the observability tests need."""

from pathlib import Path

import pytest

from tests.promql import grafana_to_promql, metric_names, promtool_parse_errors


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'sum by (route) (rate(http_requests_total{status=~"5..", route!~"/a|/b"}[5m]))',
            {"http_requests_total"},
        ),
        ("histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))", {"x_bucket"}),
        ("time() - max by (job_name) (job_last_success) > 6 * 3600", {"job_last_success"}),
        (
            "a_total / ignoring (status) group_left b_total unless on (x) c",
            {"a_total", "b_total", "c"},
        ),
        ('up{job="and"} == 0 and bool offset_metric', {"up", "offset_metric"}),
    ],
)
def test_metric_names_are_found_and_keywords_labels_and_functions_are_not(
    expr: str, names: set[str]
) -> None:
    assert metric_names(expr) == names


def test_grafana_interval_variables_become_durations() -> None:
    assert grafana_to_promql("rate(x[$__rate_interval]) + y[$__range]") == "rate(x[5m]) + y[5m]"


def test_promtool_reports_an_expression_that_does_not_parse(tmp_path: Path) -> None:
    assert promtool_parse_errors(["sum(rate(x[5m]))"], tmp_path) == ""
    assert "unclosed left parenthesis" in promtool_parse_errors(["sum(rate(x[5m])"], tmp_path)
