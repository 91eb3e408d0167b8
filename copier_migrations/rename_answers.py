"""Rename answers in a project's `.copier-answers.yml`: `old=new` pairs as arguments.

Copier runs this in the project directory before an update reads the old answers, so the
renamed question keeps the user's value instead of silently falling back to its default.
Stdlib only: it runs with the Python that runs Copier. Idempotent: a name already renamed is
left alone, and the file's formatting and comments are kept line by line.
"""

import re
import sys
from pathlib import Path

ANSWERS_FILE = Path(".copier-answers.yml")


def rename(text: str, renames: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        return renames[match["key"]] + match["rest"]

    keys = "|".join(re.escape(old) for old in renames)
    return re.sub(rf"^(?P<key>{keys})(?P<rest>:)", replace, text, flags=re.MULTILINE)


def main(arguments: list[str]) -> int:
    renames = dict(argument.split("=", 1) for argument in arguments)
    if not ANSWERS_FILE.is_file():
        print(f"{ANSWERS_FILE} not found in {Path.cwd()}", file=sys.stderr)
        return 1
    text = ANSWERS_FILE.read_text(encoding="utf-8")
    ANSWERS_FILE.write_text(rename(text, renames), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
