"""The production guard: staging and production refuse to start with unsafe settings.

Every check is a small function that returns one problem (naming the setting and what to do)
or None; CHECKS lists them, and a new check is one more line there. The app runs them at start
(`create_app`), listing every problem at once; `python -m <package> check-production` runs the
same checks in CI/CD against the current environment, whatever ENVIRONMENT says.
"""

import argparse
import re
from collections.abc import Callable, Iterable
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import SecretStr, ValidationError

from .settings import Settings, load_settings

Check = Callable[[Settings], str | None]

MIN_SECRET_KEY_BYTES = 32
MIN_PASSWORD_LENGTH = 16
MIN_DISTINCT_CHARACTERS = 10
GENERATE = f"`python -m {__package__} generate-secrets`"
# Values that were shipped as defaults somewhere, and the ones in this project's .env.example.
KNOWN_PLACEHOLDERS = frozenset(
    {
        "change_this_secret_key_in_production",
        "changethis",
        "changeme",
        "secret",
        "secretkey",
        "postgres",
        "postgres123",
        "password",
        "password123",
        "redis",
        "admin",
        "default",
    }
)
# Squashed to letters and digits, a placeholder usually says so.
PLACEHOLDER_MARKERS = ("changeme", "changethis", "replaceme", "placeholder", "example")


class SettingsError(Exception):
    """The settings cannot be used; `problems` lists each one, one line each."""

    def __init__(self, problems: Iterable[str], environment: str = "") -> None:
        self.problems = list(problems)
        where = f" (ENVIRONMENT={environment})" if environment else ""
        super().__init__(report(f"Refusing to start{where}", self.problems))


def report(headline: str, problems: list[str]) -> str:
    lines = "".join(f"\n  - {problem}" for problem in problems)
    return f"{headline}: {len(problems)} setting problem(s):{lines}"


def is_placeholder(value: str) -> bool:
    squashed = re.sub(r"[^a-z0-9]", "", value.lower())
    known = {re.sub(r"[^a-z0-9]", "", known) for known in KNOWN_PLACEHOLDERS}
    return squashed in known or any(marker in squashed for marker in PLACEHOLDER_MARKERS)


def url_password(url: SecretStr) -> str | None:
    """The password in a URL (user:password@ or ?password=), None when there is none."""
    parts = urlsplit(url.get_secret_value())
    if parts.password:
        return unquote(parts.password)
    in_query = parse_qs(parts.query).get("password")
    return in_query[0] if in_query else None


# --- Checks ---------------------------------------------------------------------------------


def secret_key_set_and_strong(settings: Settings) -> str | None:
    if "secret_key" not in settings.model_fields_set:
        return f"SECRET_KEY is not set: set it to a value from {GENERATE}."
    key = settings.secret_key.get_secret_value()
    if is_placeholder(key):
        return f"SECRET_KEY is a known placeholder: replace it with a value from {GENERATE}."
    if len(key.encode()) < MIN_SECRET_KEY_BYTES or len(set(key)) < MIN_DISTINCT_CHARACTERS:
        return (
            f"SECRET_KEY is too weak (fewer than {MIN_SECRET_KEY_BYTES} bytes or too few "
            f"distinct characters): replace it with a value from {GENERATE}."
        )
    return None


def _password_problem(setting: str, url: SecretStr, example: str) -> str | None:
    password = url_password(url)
    if password is None:
        return (
            f"{setting} has no password: give the server a password and put it in the URL "
            f"({example}); {GENERATE} prints one."
        )
    if is_placeholder(password) or len(password) < MIN_PASSWORD_LENGTH:
        return (
            f"{setting} has a placeholder or short password (under {MIN_PASSWORD_LENGTH} "
            f"characters): set a generated one on the server and in the URL ({GENERATE})."
        )
    return None


def database_password(settings: Settings) -> str | None:
    example = "postgresql+asyncpg://app:<password>@db:5432/app"
    return _password_problem("DATABASE_URL", settings.database_url, example)


def redis_password(settings: Settings) -> str | None:
    example = "redis://:<password>@redis:6379/0, rediss:// for TLS"
    return _password_problem("REDIS_URL", settings.redis_url, example)


def debug_off(settings: Settings) -> str | None:
    return "DEBUG is on: set DEBUG=false." if settings.debug else None


def docs_off(settings: Settings) -> str | None:
    if settings.docs_enabled:
        return "DOCS_ENABLED is on (/docs, /redoc, /openapi.json are public): set it to false."
    return None


def no_wildcard_cors(settings: Settings) -> str | None:
    if "*" in settings.cors_origins:
        return "CORS_ORIGINS contains *: list the exact origins (https://app.example.com)."
    return None


def explicit_allowed_hosts(settings: Settings) -> str | None:
    if "*" in settings.allowed_hosts:
        return "ALLOWED_HOSTS is *: list the host names the service answers to (api.example.com)."
    return None


def https_enforced(settings: Settings) -> str | None:
    if not settings.enforce_https:
        return (
            "ENFORCE_HTTPS is off: set ENFORCE_HTTPS=true (and BEHIND_TLS_PROXY=true when a "
            "load balancer or ingress terminates TLS)."
        )
    return None


def rate_limits_on(settings: Settings) -> str | None:
    if not settings.rate_limit_enabled:
        return "RATE_LIMIT_ENABLED is off: set it to true (limits protect login and money routes)."
    return None


CHECKS: list[Check] = [
    secret_key_set_and_strong,
    database_password,
    redis_password,
    debug_off,
    docs_off,
    no_wildcard_cors,
    explicit_allowed_hosts,
    https_enforced,
    rate_limits_on,
]


def production_problems(settings: Settings) -> list[str]:
    """Every problem CHECKS find, in order; an empty list means production-ready."""
    return [problem for check in CHECKS if (problem := check(settings)) is not None]


def validation_problems(error: ValidationError) -> list[str]:
    """One line per invalid setting, named as its environment variable; never the value."""
    problems = []
    for item in error.errors():
        setting = ".".join(str(part) for part in item["loc"]).upper() or "settings"
        problems.append(f"{setting}: {item['msg']}")
    return problems


def refuse_unsafe(settings: Settings) -> None:
    """In staging and production, raise SettingsError listing every problem."""
    if settings.environment.is_deployed and (problems := production_problems(settings)):
        raise SettingsError(problems, settings.environment.value)


def load_safe_settings() -> Settings:
    """load_settings(), refused with every problem listed when invalid or unsafe."""
    try:
        settings = load_settings()
    except ValidationError as error:
        raise SettingsError(validation_problems(error)) from None
    refuse_unsafe(settings)
    return settings


# --- check-production -------------------------------------------------------------------------


def check_production(_: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except ValidationError as error:
        problems = validation_problems(error)
    else:
        problems = production_problems(settings)
        if not settings.environment.is_deployed:
            problems.insert(
                0,
                f"ENVIRONMENT is {settings.environment.value}: set ENVIRONMENT=production "
                "(or staging) where this configuration is deployed.",
            )
    if problems:
        print(report("Not production-ready", problems))
        return 1
    print("Production settings: all checks passed.")
    return 0


def add_command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    command = commands.add_parser(
        "check-production",
        help="check the current environment's settings against the production guard",
        description="Exit 1 listing every setting that staging or production would refuse.",
    )
    command.set_defaults(run=check_production)
