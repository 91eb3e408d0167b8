"""Operations commands: `python -m <package> <command>`; `--help` lists them.

Each command lives in the module of its concern and registers itself here with one line: its
`add_command(commands)` adds a subparser whose `run` default takes the parsed arguments and
returns the process exit status. This module only wires; it holds no command logic.
"""

import argparse
from collections.abc import Callable, Sequence

from . import generate_secrets, openapi, production_checks, seed
from .market import sync
from .platform import backup

# A command's entry point: parsed arguments in, exit status out.
Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__}",
        description="Operations commands of the service.",
    )
    commands = parser.add_subparsers(dest="command", metavar="command")
    # Commands register here, one line each.
    backup.add_command(commands)
    openapi.add_command(commands)
    sync.add_command(commands)
    production_checks.add_command(commands)
    generate_secrets.add_command(commands)
    seed.add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run: Command | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 2
    return run(args)
