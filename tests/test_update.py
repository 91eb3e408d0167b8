"""`copier update` keeps a customised service's edits and brings the new defaults (T3, T6).

Every release recorded in CHANGELOG.md is tagged in a temporary clone (tests/releases.py), with
the working tree on top as the next version. A project is rendered from a release, committed,
edited the way a team edits it, committed again, and updated: the result must be exactly a fresh
render of the new version with the same edits applied, whose own suite must pass.
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import copier
import pytest
from pytest_copie.plugin import Result

from tests.conflict_markers import CONFLICT_MARKER
from tests.harness import GIT_ENV, git, output_of, run_make, tree
from tests.releases import Release, next_tag, recorded_releases, tagged_template
from tests.variants import FEATURES, PROJECT_SUITES, VARIANTS, Answers

UPDATE_VARIANTS = ("default", "minimal")
SUITE_TIMEOUT_SECONDS = 900
RELEASES = recorded_releases()
HEAD_TAG = next_tag(RELEASES)
# The release that renamed author_name/author_email to owner_* (copier_migrations/).
OWNER_RENAME = (0, 2, 0)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def hermetic_git() -> Iterator[None]:
    """copier's own git calls inherit this environment: no user configuration leaks in."""
    saved = {key: os.environ.get(key) for key in GIT_ENV}
    os.environ.update(GIT_ENV)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory: pytest.TempPathFactory, hermetic_git: None) -> Path:
    return tagged_template(tmp_path_factory.mktemp("template") / "shipshape")


def render(template: Path, destination: Path, answers: Answers, tag: str) -> Path:
    copier.run_copy(
        str(template), destination, data=answers, vcs_ref=tag,
        defaults=True, unsafe=True, quiet=True,
    )  # fmt: skip
    return destination


def update(project: Path, tag: str, answers: Answers | None = None) -> None:
    copier.run_update(
        project, data=answers or {}, vcs_ref=tag, conflict="inline",
        defaults=True, overwrite=True, unsafe=True, quiet=True,
    )  # fmt: skip


def commit_all(project: Path, message: str) -> None:
    if not (project / ".git").exists():
        git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--allow-empty", "-m", message)


def assert_merged_cleanly(project: Path) -> None:
    assert git(project, "ls-files", "--unmerged") == ""
    assert list(project.rglob("*.rej")) == []
    with_markers = [
        name
        for name, content in tree(project).items()
        if CONFLICT_MARKER.search(content.decode("utf-8", errors="replace"))
    ]
    assert with_markers == []


def assert_suite_passes(project: Path) -> None:
    suite = run_make(project, "test", timeout=SUITE_TIMEOUT_SECONDS)
    assert suite.returncode == 0, output_of(suite)
    assert re.search(r"^=+ \d+ passed in ", suite.stdout, re.MULTILINE), output_of(suite)


# --- A team's typical edits ---------------------------------------------------------------------
TEAM_ROUTE = '''"""The team's own route, added after the first render."""

from fastapi import APIRouter

router = APIRouter(prefix="/team", tags=["team"])


@router.get("/status")
async def team_status() -> dict[str, str]:
    return {"status": "green"}
'''
TEAM_ROUTE_TEST = """import httpx
from fastapi import FastAPI

from {package}.team_status import router


async def test_team_status_answers() -> None:
    app = FastAPI()
    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/team/status")
    assert response.json() == {{"status": "green"}}
"""


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path.name}: expected one {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def apply_team_edits(project: Path, package: str) -> None:
    (project / "src" / package / "team_status.py").write_text(TEAM_ROUTE, encoding="utf-8")
    (project / "tests" / "unit" / "test_team_status.py").write_text(
        TEAM_ROUTE_TEST.format(package=package), encoding="utf-8"
    )
    replace_once(
        project / "src" / package / "settings.py",
        "redis_max_connections: Annotated[int, Field(ge=1)] = 50",
        "redis_max_connections: Annotated[int, Field(ge=1)] = 200",
    )
    # Appended to the list, where a team adds its own; the template keeps it sorted above.
    replace_once(
        project / "pyproject.toml",
        '"uvicorn[standard]>=0.54.0",\n',
        '"uvicorn[standard]>=0.54.0",\n    "anyio>=4.4.0",\n',
    )
    readme = project / "README.md"
    title, rest = readme.read_text(encoding="utf-8").split("\n", 1)
    readme.write_text(f"{title} (run by the payments team)\n{rest}", encoding="utf-8")


def package_of(project: Path) -> str:
    (package,) = [path.name for path in (project / "src").iterdir() if path.is_dir()]
    return package


# --- T3: from every recorded release to the template under test ---------------------------------
@pytest.mark.parametrize("release", RELEASES, ids=lambda release: release.tag)
@pytest.mark.parametrize("variant", UPDATE_VARIANTS)
def test_update_from_a_release_keeps_team_edits_and_brings_new_defaults(
    template_repo: Path, tmp_path: Path, variant: str, release: Release
) -> None:
    answers = VARIANTS[variant]
    old_answers = {
        re.sub("^owner_", "author_", key) if release.version < OWNER_RENAME else key: value
        for key, value in answers.items()
    }
    project = render(template_repo, tmp_path / "service", old_answers, release.tag)
    commit_all(project, f"Render from shipshape {release.tag}")
    apply_team_edits(project, package_of(project))
    commit_all(project, "Team edits")

    # The variant's answers to questions newer than the release are given, as a user would.
    update(project, HEAD_TAG, answers)

    assert_merged_cleanly(project)
    expected = render(template_repo, tmp_path / "fresh", answers, HEAD_TAG)
    apply_team_edits(expected, package_of(expected))
    # Exactly a fresh render of the new version plus the team's edits: every new default
    # arrived, nothing old stayed behind, and no edit was lost. Being that tree, it passes the
    # suite that test_the_updated_tree_passes_its_suite runs on it once per variant.
    assert tree(project) == tree(expected)


@pytest.mark.parametrize("variant", UPDATE_VARIANTS)
def test_the_updated_tree_passes_its_suite(
    template_repo: Path, tmp_path: Path, variant: str
) -> None:
    # Every update above must equal this tree, whatever release it started from: one suite run
    # per variant proves them all (running it per release would run the same files again).
    project = render(template_repo, tmp_path / "service", VARIANTS[variant], HEAD_TAG)
    apply_team_edits(project, package_of(project))
    commit_all(project, "A fresh render with the team's edits")

    assert_suite_passes(project)


@pytest.mark.parametrize("variant", UPDATE_VARIANTS)
def test_update_to_the_same_version_changes_nothing(
    template_repo: Path, tmp_path: Path, variant: str
) -> None:
    project = render(template_repo, tmp_path / "service", VARIANTS[variant], HEAD_TAG)
    commit_all(project, "Render")
    apply_team_edits(project, package_of(project))
    commit_all(project, "Team edits")

    update(project, HEAD_TAG)

    assert git(project, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    "release",
    [release for release in RELEASES if release.version < OWNER_RENAME],
    ids=lambda release: release.tag,
)
def test_renamed_owner_answers_keep_their_values(
    template_repo: Path, tmp_path: Path, release: Release
) -> None:
    owner = {"author_name": "Payments Squad", "author_email": "payments@example.org"}
    project = render(template_repo, tmp_path / "service", owner, release.tag)
    commit_all(project, "Render")

    update(project, HEAD_TAG)

    answers = (project / ".copier-answers.yml").read_text(encoding="utf-8")
    assert "owner_name: Payments Squad" in answers
    assert "owner_email: payments@example.org" in answers
    assert "author_" not in answers
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert 'name = "Payments Squad", email = "payments@example.org"' in pyproject


# --- T6: changing an answer on an existing service, both ways -----------------------------------
ANSWER_CHANGES: dict[str, tuple[str | bool, str | bool]] = {
    "python_version": ("3.12", "3.13"),
    **{question: (values[0], values[1]) for question, values in FEATURES.items()},
}


# Answers a user changes together: the recorded example_domain=true is refused once auth is
# off (the wallet belongs to users), and stays false when auth comes back unless answered.
COMPANIONS: dict[tuple[str, str | bool], Answers] = {
    ("auth", False): {"example_domain": False},
    ("auth", True): {"example_domain": True},
}


@pytest.mark.parametrize(("question", "values"), ANSWER_CHANGES.items(), ids=ANSWER_CHANGES)
def test_changing_an_answer_gives_the_files_of_a_fresh_render(
    template_repo: Path,
    tmp_path: Path,
    rendered: Callable[[str], Result],
    question: str,
    values: tuple[str | bool, str | bool],
) -> None:
    first, second = values
    project = render(template_repo, tmp_path / "service", {question: first}, HEAD_TAG)
    commit_all(project, "Render")

    for value in (second, first):
        answers = {question: value, **COMPANIONS.get((question, value), {})}
        update(project, HEAD_TAG, answers)

        assert_merged_cleanly(project)
        fresh = render(template_repo, tmp_path / f"fresh-{value}", answers, HEAD_TAG)
        assert tree(project) == tree(fresh), f"{question}={value}"
        commit_all(project, f"{question}={value}")
        # The files are exactly a fresh render's: when tests/test_project.py already runs the
        # suite on the same files (an alerts receiver or CI provider changes none of them),
        # running it again here would prove nothing new.
        if not suite_runs_elsewhere(project, rendered):
            assert_suite_passes(project)


# What the rendered suite (`make test`) never reads: a change confined to these cannot change
# its result. Everything else counts, so a file added later is an input until listed here.
OUTSIDE_THE_SUITE = (
    ".copier-answers.yml", ".dockerignore", ".github/", ".hadolint.yaml",
    ".pre-commit-config.yaml", "CODEOWNERS", "Dockerfile", "README.md", "compose.yaml",
    "deploy/", "docs/", "ops/",
)  # fmt: skip
# ...except these, which rendered tests do read.
READ_BY_THE_SUITE = frozenset({"ops/prometheus/metrics.txt"})


def suite_inputs(project: Path) -> dict[str, bytes]:
    return {
        name: content
        for name, content in tree(project).items()
        if name in READ_BY_THE_SUITE or not name.startswith(OUTSIDE_THE_SUITE)
    }


def suite_runs_elsewhere(project: Path, rendered: Callable[[str], Result]) -> bool:
    """Whether a suite of tests/test_project.py runs on exactly this project's suite inputs."""
    inputs = suite_inputs(project)
    return any(suite_inputs(rendered(variant).project_dir) == inputs for variant in PROJECT_SUITES)


# --- Files the team owns after the first render -------------------------------------------------
def test_update_keeps_files_the_team_owns(tmp_path: Path) -> None:
    template = tagged_template(tmp_path / "shipshape")
    project = render(template, tmp_path / "service", {}, HEAD_TAG)
    commit_all(project, "Render")
    (project / "CODEOWNERS").write_text("* @acme/payments\n", encoding="utf-8")
    commit_all(project, "Our owners")
    # A later template release that changes the owned file and an ordinary one.
    for name in ("CODEOWNERS.jinja", "README.md.jinja"):
        with (template / "template" / name).open("a", encoding="utf-8") as source:
            source.write("\n# changed by a later release\n")
    commit_all(template, "A later release")
    git(template, "tag", "v99.0.0")

    update(project, "v99.0.0")

    assert (project / "CODEOWNERS").read_text(encoding="utf-8") == "* @acme/payments\n"
    assert "# changed by a later release" in (project / "README.md").read_text(encoding="utf-8")
