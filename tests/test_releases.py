"""CHANGELOG.md records every release with a commit that exists (T5)."""

import yaml

from tests.harness import TEMPLATE_ROOT
from tests.releases import Release, git, next_tag, recorded_releases

SAMPLE = """# Changelog

## Unreleased

## 0.2.0 (2026-12-01)

Tag `v0.2.0`, commit `bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb`.

## 0.1.0 (2026-11-25)

Tag `v0.1.0`, commit `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`.
"""


def test_releases_are_read_oldest_first() -> None:
    assert recorded_releases(SAMPLE) == [
        Release((0, 1, 0), "a" * 40),
        Release((0, 2, 0), "b" * 40),
    ]
    assert next_tag(recorded_releases(SAMPLE)) == "v0.3.0"


def test_every_recorded_release_is_a_commit_of_main() -> None:
    releases = recorded_releases()
    assert releases, "CHANGELOG.md records no release"
    assert len({release.version for release in releases}) == len(releases)
    for release in releases:
        assert git(TEMPLATE_ROOT, "cat-file", "-t", release.commit).strip() == "commit"
        # An ancestor of the checkout: the release is in main's history, not on a side branch.
        git(TEMPLATE_ROOT, "merge-base", "--is-ancestor", release.commit, "HEAD")


def test_every_migration_is_declared_at_the_first_release_that_ships_it() -> None:
    """Copier runs a migration when the update crosses its version: a wrong one never runs."""
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))
    releases = recorded_releases()
    for migration in config["_migrations"]:
        script = next(part for part in migration["command"] if "copier_migrations/" in part)
        path = script.split("}}/", 1)[1]
        shipped = [
            release.tag
            for release in releases
            if git(TEMPLATE_ROOT, "ls-tree", "--name-only", release.commit, path).strip()
        ]
        assert migration["version"] == (shipped[0] if shipped else next_tag(releases)), path
