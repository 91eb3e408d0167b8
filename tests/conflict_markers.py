"""Exit non-zero naming every file that holds a merge conflict marker (pre-commit hook).

`copier update --conflict inline` exits 0 even when it leaves markers behind, so they are
easy to commit by accident; this hook and tests/test_update.py look for the same markers.
"""

import re
import sys
from pathlib import Path

CONFLICT_MARKER = re.compile(r"^(<{7}|>{7}) ", re.MULTILINE)


def files_with_markers(paths: list[str]) -> list[str]:
    return [
        path
        for path in paths
        if CONFLICT_MARKER.search(Path(path).read_text(encoding="utf-8", errors="replace"))
    ]


if __name__ == "__main__":
    found = files_with_markers(sys.argv[1:])
    for path in found:
        print(f"{path}: conflict marker left by a merge or copier update")
    sys.exit(1 if found else 0)
