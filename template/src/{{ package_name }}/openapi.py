"""`python -m <package> openapi`: the OpenAPI document, printed without running a server.

Interactive docs and /openapi.json are for development; in production the document comes
from this command (in CI, for client generation or API review) instead of from the service.
"""

import argparse
import json

from .main import create_app


def _print_openapi(args: argparse.Namespace) -> int:
    print(json.dumps(create_app().openapi(), indent=args.indent))
    return 0


def add_command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("openapi", help="print the OpenAPI document as JSON")
    parser.add_argument("--indent", type=int, default=2)
    parser.set_defaults(run=_print_openapi)
