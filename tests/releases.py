"""The template's releases, as CHANGELOG.md records them, and a git repository that has them.

A clean clone of main carries no tags, so CHANGELOG.md is the record: every release heading
`## X.Y.Z (date)` is followed by a line naming its tag and full commit. `tagged_template()`
clones this checkout, tags each recorded commit, and commits the working tree on top as the next
version, so `copier update` can travel from any release to the template under test.
"""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.harness import GIT_ENV, TEMPLATE_ROOT, git

CHANGELOG = TEMPLATE_ROOT / "CHANGELOG.md"
RELEASE = re.compile(
    r"^## (?P<version>\d+\.\d+\.\d+) \(\d{4}-\d{2}-\d{2}\)\n\n"
    r"Tag `v(?P=version)`, commit `(?P<commit>[0-9a-f]{40})`\.",
    re.MULTILINE,
)


@dataclass(frozen=True, order=True)
class Release:
    version: tuple[int, int, int]
    commit: str

    @property
    def tag(self) -> str:
        return "v" + ".".join(map(str, self.version))


def recorded_releases(changelog: str | None = None) -> list[Release]:
    """Every release CHANGELOG.md records, oldest first."""
    text = CHANGELOG.read_text(encoding="utf-8") if changelog is None else changelog
    releases = [
        Release(tuple(int(part) for part in match["version"].split(".")), match["commit"])  # type: ignore[arg-type]
        for match in RELEASE.finditer(text)
    ]
    return sorted(releases)


def next_tag(releases: list[Release]) -> str:
    """The tag the working tree gets: the minor version after the newest release."""
    major, minor, _ = releases[-1].version
    return f"v{major}.{minor + 1}.0"


def tagged_template(destination: Path) -> Path:
    """A clone of this checkout with every release tagged and the working tree as next_tag()."""
    releases = recorded_releases()
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(TEMPLATE_ROOT), str(destination)],
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    for release in releases:
        git(destination, "tag", release.tag, release.commit)
    # The working tree as it is, uncommitted and untracked files included, ignored ones not.
    git(destination, "rm", "-r", "--quiet", "--cached", ".")
    for path in destination.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    listed = git(TEMPLATE_ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for name in filter(None, listed.split("\0")):
        source = TEMPLATE_ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "--allow-empty", "-m", "working tree under test")
    git(destination, "tag", next_tag(releases))
    return destination
