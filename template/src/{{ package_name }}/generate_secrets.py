"""`python -m <package> generate-secrets`: fresh values for every secret the service reads.

Printed as `.env` lines, or with `--format k8s --name <secret>` as a Kubernetes Secret
manifest. The command cannot know the passwords a real PostgreSQL or Redis server expects, so
it generates them inside URL templates: set the same password on the server (ALTER ROLE ...
PASSWORD, requirepass) and edit the host, port and database. docs/security.md walks through it.
A new secret is one more entry in SECRETS.
"""

import argparse
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from .about import SERVICE_NAME


@dataclass(frozen=True)
class GeneratedSecret:
    name: str  # the environment variable (and the key in the Kubernetes Secret)
    comment: str
    generate: Callable[[], str]


def _password() -> str:
    # URL-safe alphabet: it goes into user:password@ without percent-encoding.
    return secrets.token_urlsafe(32)


SECRETS: tuple[GeneratedSecret, ...] = (
    GeneratedSecret(
        "SECRET_KEY",
        "Signs tokens; 32 random bytes as hex (openssl rand -hex 32).",
        lambda: secrets.token_hex(32),
    ),
    GeneratedSecret(
        "DATABASE_URL",
        "Set this password on the PostgreSQL role (ALTER ROLE app PASSWORD '...'); "
        "edit user, host, port and database.",
        lambda: f"postgresql+asyncpg://app:{_password()}@db:5432/app",
    ),
    GeneratedSecret(
        "REDIS_URL",
        "Set this password on the Redis server (requirepass, or an ACL user); "
        "edit host and port; rediss:// for TLS.",
        lambda: f"redis://:{_password()}@redis:6379/0",
    ),
)

# Kubernetes object names: lowercase DNS subdomain (RFC 1123), at most 253 characters.
K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


def generate() -> dict[str, str]:
    return {secret.name: secret.generate() for secret in SECRETS}


def as_dotenv(values: dict[str, str]) -> str:
    lines = [
        f"# Fresh secrets from `python -m {__package__} generate-secrets`.",
        "# Store them in your secret manager; never commit them.",
    ]
    for secret in SECRETS:
        lines += [f"# {secret.comment}", f"{secret.name}={values[secret.name]}"]
    return "\n".join(lines) + "\n"


def as_kubernetes_secret(values: dict[str, str], name: str) -> str:
    # JSON strings are valid YAML scalars: no quoting rules to get wrong.
    lines = [
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        f"  name: {name}",
        "  labels:",
        f"    app.kubernetes.io/name: {SERVICE_NAME}",
        "type: Opaque",
        "stringData:",
    ]
    for secret in SECRETS:
        lines += [f"  # {secret.comment}", f"  {secret.name}: {json.dumps(values[secret.name])}"]
    return "\n".join(lines) + "\n"


def _kubernetes_name(value: str) -> str:
    if not K8S_NAME.fullmatch(value):
        msg = f"{value!r} is not a Kubernetes name (lowercase letters, digits, '-' and '.')"
        raise argparse.ArgumentTypeError(msg)
    return value


def generate_secrets(args: argparse.Namespace) -> int:
    values = generate()
    if args.format == "k8s":
        print(as_kubernetes_secret(values, args.name), end="")
    else:
        print(as_dotenv(values), end="")
    return 0


def add_command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    command = commands.add_parser(
        "generate-secrets",
        help="print fresh values for every secret, as .env lines or a Kubernetes Secret",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("--format", choices=("env", "k8s"), default="env")
    command.add_argument(
        "--name",
        type=_kubernetes_name,
        default=f"{SERVICE_NAME}-secrets",
        help="name of the Kubernetes Secret (with --format k8s)",
    )
    command.set_defaults(run=generate_secrets)
