"""The one list of named answer sets the template is tested with.

VARIANTS render, pass `ruff check`, `ruff format --check` and `mypy --strict`; the ones in
PROJECT_SUITES also pass their own test suite against real PostgreSQL and Redis. REFUSED are
answers copier must refuse, each with a fragment of the message the user sees.

Ids read like cookiecutter-django's: `question:value` for one answer away from the defaults.
When a feature question is added, add a variant that turns it off (and on, if off is the
default), and the combinations that interact or must be refused.
"""

import json
import sys
from typing import Final

from tests.pairwise import pairwise

# Copier casts answers to each question's type: booleans stay booleans in .copier-answers.yml.
Answers = dict[str, str | bool]

VARIANTS: Final[dict[str, Answers]] = {
    # Every default answer.
    "default": {},
    # Every feature off and the shortest identity the validators allow.
    "minimal": {
        "auth": False,
        "example_domain": False,
        "project_name": "Ab",
        "project_slug": "ab",
        "package_name": "ab",
        "description": "",
        "python_version": "3.11",
        "background_jobs": False,
        "alerts_receiver": "none",
        "ci_provider": "none",
        "tracing": False,
        "helm": False,
        "load_tests": False,
    },
    # Every feature on, each optional one in its fuller form.
    "full": {"tracing": True, "secrets_backend": "external-secrets"},
    # Non-ASCII, quotes and backslashes that need escaping in TOML and Python strings, and a
    # description of the longest length allowed.
    "project_name:unicode": {
        "project_name": 'Café "Ünïcode" \\ Ledger',
        "owner_name": 'Zoë O\'Brien "ZB"',
        "description": ('Ünïcode\'s "quoted" \\ text. ' * 8)[:200],
    },
    # Package names on every side of the names the rendered code imports beside it
    # (`local_services`, `tests`): import order must never depend on the name.
    "package_name:custom": {"project_slug": "orders-api", "package_name": "orders_core"},
    "package_name:sorts-last": {"project_slug": "widgets", "package_name": "zz_core"},
    "package_name:sorts-between": {"project_slug": "ledger", "package_name": "m_ledger"},
    "package_name:tests-prefix": {"project_slug": "tests-api", "package_name": "tests_api"},
    "python_version:3.13": {"python_version": "3.13"},
    "background_jobs:false": {"background_jobs": False},
    "alerts_receiver:slack": {"alerts_receiver": "slack"},
    "alerts_receiver:none": {"alerts_receiver": "none"},
    "ci_provider:none": {"ci_provider": "none"},
    "tracing:true": {"tracing": True},
    "helm:false": {"helm": False},
    "secrets_backend:external-secrets": {"secrets_backend": "external-secrets"},
    "auth:false": {"auth": False},
    "password_hasher:bcrypt": {"password_hasher": "bcrypt"},
    "example_domain:false": {"example_domain": False},
    "field_encryption:false": {"field_encryption": False},
    "load_tests:false": {"load_tests": False},
}

# Feature questions and every value each may take, default first. The pairwise render matrix and
# the answer-change tests (`copier update --data question=value`, T6) are generated from this:
# a new feature question adds itself here, and its refused combinations to REFUSED.
FEATURES: Final[dict[str, tuple[str | bool, ...]]] = {
    "background_jobs": (True, False),
    "alerts_receiver": ("telegram", "slack", "none"),
    "ci_provider": ("github", "none"),
    "tracing": (False, True),
    "helm": (True, False),
    "secrets_backend": ("existing-secret", "external-secrets"),
    "auth": (True, False),
    "password_hasher": ("argon2", "bcrypt"),
    "example_domain": (True, False),
    "field_encryption": (True, False),
    "load_tests": (True, False),
}
# Feature questions copier asks only when other answers have these values (their `when:`).
CONDITIONS: Final[dict[str, Answers]] = {
    "secrets_backend": {"helm": True},
    "password_hasher": {"auth": True},
    "field_encryption": {"example_domain": True},
}

# Variants whose rendered project runs its own suite in tests/test_project.py.
PROJECT_SUITES: Final[tuple[str, ...]] = (
    "default",
    "minimal",
    "background_jobs:false",
    "full",
    "password_hasher:bcrypt",
    "field_encryption:false",
)

REFUSED: Final[dict[str, tuple[Answers, str]]] = {
    "project_name:empty": ({"project_name": "   "}, "project_name must not be empty"),
    "project_name:multiline": ({"project_name": "two\nlines"}, "must be a single line"),
    "project_slug:spaces": ({"project_slug": "my service"}, 'project_slug "my service" is not'),
    "project_slug:uppercase": ({"project_slug": "MyService"}, "use lowercase letters"),
    "project_slug:trailing-dash": ({"project_slug": "my-service-"}, "not ending with a dash"),
    "project_slug:one-char": ({"project_slug": "a"}, "use 2 to 63"),
    "project_slug:64-chars": ({"project_slug": "a" * 64}, "use 2 to 63"),
    "package_name:keyword": ({"package_name": "class"}, "is a Python keyword"),
    "package_name:stdlib-test": ({"package_name": "test"}, "shadows the standard-library"),
    "package_name:stdlib-typing": ({"package_name": "typing"}, "shadows the standard-library"),
    "package_name:dependency": ({"package_name": "redis"}, "shadows a dependency"),
    "package_name:scripts-module": ({"package_name": "local_services"}, "shadows a dependency"),
    "package_name:loadtests-folder": ({"package_name": "loadtests"}, "shadows a dependency"),
    "package_name:dash": ({"package_name": "my-service"}, "is not a valid package name"),
    "package_name:leading-digit": ({"package_name": "1service"}, "is not a valid package name"),
    "owner_email:no-at": ({"owner_email": "platform.example.com"}, "is not an e-mail"),
    "owner_email:no-domain": ({"owner_email": "platform@localhost"}, "is not an e-mail"),
    "owner_email:spaces": ({"owner_email": "plat form@example.com"}, "is not an e-mail"),
    "python_version:3.10": ({"python_version": "3.10"}, "Invalid choice for 'python_version'"),
    "password_hasher:md5": ({"password_hasher": "md5"}, "Invalid choice for 'password_hasher'"),
    "example_domain:without-auth": (
        {"auth": False, "example_domain": True},
        "example_domain needs auth=true",
    ),
}


def pairwise_variants() -> dict[str, Answers]:
    """Feature combinations covering every valid pair of values, named by their answers."""
    refused = [answers for answers, _ in REFUSED.values() if answers.keys() <= FEATURES.keys()]
    variants: dict[str, Answers] = {}
    # The features of each named variant, defaults filled in: rendered anyway.
    named = [
        {question: answers.get(question, values[0]) for question, values in FEATURES.items()}
        for answers in VARIANTS.values()
    ]
    for combination in pairwise(FEATURES, CONDITIONS, refused, covered=named):
        asked = {
            question: value
            for question, value in combination.items()
            if all(combination[key] == want for key, want in CONDITIONS.get(question, {}).items())
        }
        name = "pairwise:" + ",".join(f"{question}={value}" for question, value in asked.items())
        variants[name] = asked
    return variants


# What tests/test_render.py renders: the named variants, then the pairwise combinations.
RENDER_MATRIX: Final[dict[str, Answers]] = {**VARIANTS, **pairwise_variants()}


def github_output() -> str:
    """The variant ids as `name=<json list>` lines, for the CI matrix."""
    return f"render={json.dumps(list(RENDER_MATRIX))}\nproject={json.dumps(list(PROJECT_SUITES))}"


if __name__ == "__main__" and sys.argv[1:] == ["--github-output"]:
    print(github_output())
