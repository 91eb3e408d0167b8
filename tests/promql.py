"""PromQL helpers for the template's tests: syntax via promtool, metric names by inspection."""

import json
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

# Grafana's built-in interval variables, replaced by a duration so promtool can parse the query.
GRAFANA_INTERVALS = re.compile(r"\$__(rate_interval|interval|range)")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
# An identifier not followed by "(" is a metric name, unless it is an operator keyword.
_IDENTIFIER = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*)\b(?!\s*\()")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "inf", "nan"}
    | {"group_left", "group_right"}
)


def grafana_to_promql(expr: str) -> str:
    return GRAFANA_INTERVALS.sub("5m", expr)


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (selectors without a name select nothing here)."""
    text = _STRINGS.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = _RANGES.sub("", text)
    text = _LABEL_LISTS.sub("", text)
    return {name for name in _IDENTIFIER.findall(text) if name.lower() not in _KEYWORDS}


def promtool_parse_errors(exprs: Iterable[str], workdir: Path) -> str:
    """`promtool check rules` on one recording rule per expression: '' when all parse."""
    rules = [{"record": f"check:expr_{n}", "expr": expr} for n, expr in enumerate(exprs)]
    path = workdir / "parse_check.rules.json"  # JSON is YAML: promtool reads it as a rules file
    path.write_text(json.dumps({"groups": [{"name": "parse", "rules": rules}]}), encoding="utf-8")
    checked = subprocess.run(
        ["promtool", "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return "" if checked.returncode == 0 else checked.stdout + checked.stderr
