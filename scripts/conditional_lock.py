"""Write a lock file template whose extra packages appear only when a copier flag is on.

The rendered service has one requirements.lock; an option such as `tracing` adds packages to
it. Lock both renders (`make lock` in a copy rendered with the flag off, and one with it on),
then:

    python scripts/conditional_lock.py tracing off/requirements.lock on/requirements.lock \\
        > template/requirements.lock.jinja

Every package of the `off` lock must appear unchanged in the `on` lock (the option only adds
packages); otherwise this refuses, because no single template could render both.
"""

import sys
from pathlib import Path


def entries(lock: Path) -> dict[str, str]:
    """Requirement -> its whole entry (the `name==version ; marker \\` line and its hash lines).

    Keyed by the requirement line, not the name: a universal lock may pin one package twice,
    under different environment markers (e.g. one version below Python 3.12, one above).
    """
    blocks: dict[str, str] = {}
    name = ""
    for line in lock.read_text(encoding="utf-8").splitlines(keepends=True):
        if line[:1].strip():
            name = line.rstrip(" \\\n")
            blocks[name] = line
        else:
            blocks[name] += line
    return blocks


def conditional(flag: str, off: Path, on: Path) -> str:
    base, full = entries(off), entries(on)
    changed = sorted(name for name in base if full.get(name) != base[name])
    if changed:
        msg = f"the {flag} lock changes or drops these packages of the base lock: {changed}"
        raise SystemExit(msg)
    parts = []
    for name, entry in full.items():
        parts.append(entry if name in base else f"{{% if {flag} %}}\n{entry}{{% endif %}}\n")
    return "".join(parts)


if __name__ == "__main__":
    flag, off, on = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    sys.stdout.write(conditional(flag, off, on))
