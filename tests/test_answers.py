"""Bad answers are refused with a message that says what is wrong and what is allowed."""

import re

import pytest
import yaml

from tests.harness import TEMPLATE_ROOT, Render, tree
from tests.variants import FEATURES, REFUSED, Answers

# Every question's default, written out: what a user gets from `copier copy --defaults`.
EVERY_DEFAULT: Answers = {
    "project_name": "My Service",
    "project_slug": "my-service",
    "package_name": "my_service",
    "description": "My Service: a production-ready FastAPI service.",
    "owner_name": "Platform Team",
    "owner_email": "platform@example.com",
    "python_version": "3.12",
    **{question: values[0] for question, values in FEATURES.items()},
}


@pytest.mark.parametrize(("answers", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_answer_is_refused_with_a_clear_message(
    render: Render, answers: Answers, message: str
) -> None:
    result = render(answers)
    assert result.exit_code != 0, f"copier accepted {answers}"
    assert isinstance(result.exception, ValueError)
    assert message in str(result.exception)


def test_defaults_derive_slug_and_package_from_the_name(render: Render) -> None:
    result = render({"project_name": "Payments API (EU) v2"})
    assert result.exit_code == 0, result.exception
    assert result.answers["project_slug"] == "payments-api-eu-v2"
    assert result.answers["package_name"] == "payments_api_eu_v2"


def test_a_name_without_ascii_letters_still_gets_a_valid_slug(render: Render) -> None:
    result = render({"project_name": "Сервис 42"})
    assert result.exit_code == 0, result.exception
    assert result.answers["project_slug"] == "service"


def test_taking_the_defaults_renders_the_same_tree_as_giving_them(render: Render) -> None:
    implicit, explicit = render({}), render(EVERY_DEFAULT)
    assert implicit.exit_code == 0, implicit.exception
    assert explicit.exit_code == 0, explicit.exception

    implicit_tree, explicit_tree = tree(implicit.project_dir), tree(explicit.project_dir)
    # Each render of a dirty working tree commits it anew: only that commit id may differ.
    for files in (implicit_tree, explicit_tree):
        answers = files.pop(".copier-answers.yml").decode()
        files["answers without _commit"] = re.sub(r"^_commit: .*\n", "", answers, flags=re.M)
    assert implicit_tree == explicit_tree


def test_features_list_every_choice_of_their_question_default_first() -> None:
    """tests/variants.py's FEATURES is what the pairwise and answer-change tests cover."""
    questions = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))
    for question, values in FEATURES.items():
        spec = questions[question]
        default = spec["default"]
        # A default that follows another answer ("{{ auth }}") is that answer's default.
        followed = re.fullmatch(r"\{\{ (\w+) \}\}", str(default))
        if followed:
            default = questions[followed.group(1)]["default"]
        assert values[0] == default, question
        choices = [True, False] if spec["type"] == "bool" else spec["choices"]
        assert sorted(map(str, values)) == sorted(map(str, choices)), question
