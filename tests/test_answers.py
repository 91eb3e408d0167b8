"""Bad answers are refused with a message that says what is wrong and what is allowed."""

import pytest

from tests.harness import Render
from tests.variants import REFUSED, Answers


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
