"""docs/readiness.md covers every requirement ID and names only files and tests that exist (T5)."""

import re
from pathlib import Path

from tests.harness import TEMPLATE_ROOT

READINESS = TEMPLATE_ROOT / "docs" / "readiness.md"
# The catalogue's IDs: T1-T6, S1-S14, ... (REQUIREMENTS.md, 55 IDs).
GROUP_SIZES = {"T": 6, "S": 14, "D": 7, "P": 4, "R": 5, "O": 5, "K": 5, "E": 5, "X": 4}
REQUIREMENT_IDS = [
    f"{group}{number}" for group, size in GROUP_SIZES.items() for number in range(1, size + 1)
]
ROW = re.compile(r"^\| (?P<id>[A-Z]\d+) \|(?P<status>[^|]+)\|[^|]*\|(?P<tests>[^|]*)\|$")
# Jinja in a file name: `{% if flag %}` and `{% endif %}` (gating), stripped when rendered.
GATE = re.compile(r"\{%[^%]*%\}")
TEST_REFERENCE = re.compile(r"`(?P<file>(?:template:)?tests/[\w/]+\.py)?(?:::(?P<test>\w+))?`")


def rows() -> list[dict[str, str]]:
    lines = READINESS.read_text(encoding="utf-8").splitlines()
    return [match.groupdict() for line in lines if (match := ROW.match(line))]


def source_of(reference: str) -> Path:
    """The file a reference names: in this repository, or in template/ before rendering."""
    if reference.startswith("template:"):
        return TEMPLATE_ROOT / reference.removeprefix("template:")
    rendered = TEMPLATE_ROOT / "template" / reference.replace("src/pkg", "src/{{ package_name }}")
    if rendered.exists():
        return rendered
    # A file gated by its name, such as `{% if auth %}test_accounts.py{% endif %}.jinja`.
    for candidate in rendered.parent.glob("*"):
        plain = GATE.sub("", candidate.name).removesuffix(".jinja")
        if plain == rendered.name:
            return candidate
    return rendered.with_name(rendered.name + ".jinja")


def test_every_requirement_has_exactly_one_row() -> None:
    assert [row["id"] for row in rows()] == REQUIREMENT_IDS


def test_a_requirement_marked_done_or_partial_names_a_test() -> None:
    for row in rows():
        if not row["status"].strip().startswith("not yet"):
            assert TEST_REFERENCE.search(row["tests"]), row["id"]


def test_every_named_test_exists() -> None:
    for row in rows():
        current_file: Path | None = None
        for match in TEST_REFERENCE.finditer(row["tests"]):
            if match["file"]:
                current_file = source_of(match["file"])
                assert current_file.is_file(), (row["id"], match["file"])
            if match["test"]:
                assert current_file is not None, (row["id"], match["test"])
                assert re.search(rf"def {match['test']}\(", current_file.read_text()), (
                    row["id"],
                    match["test"],
                )
