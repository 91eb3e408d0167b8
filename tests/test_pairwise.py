"""The pairwise generator covers every reachable pair and never yields a refused combination."""

import itertools

from tests.pairwise import is_valid, pairwise

FEATURES = {
    "auth": (True, False),
    "hasher": ("argon2", "bcrypt"),
    "helm": (True, False),
    "backend": ("existing", "external"),
    "ci": ("github", "none"),
    "tracing": (False, True),
}
CONDITIONS = {"hasher": {"auth": True}, "backend": {"helm": True}}
REFUSED = [{"ci": "none", "tracing": True}]


def reachable_pairs() -> set[tuple[tuple[str, object], tuple[str, object]]]:
    pairs = set()
    for values in itertools.product(*FEATURES.values()):
        combination = dict(zip(FEATURES, values, strict=True))
        if is_valid(combination, FEATURES, CONDITIONS, REFUSED):
            pairs |= set(itertools.combinations(sorted(combination.items()), 2))
    return pairs


def test_pairwise_covers_every_reachable_pair() -> None:
    combinations = pairwise(FEATURES, CONDITIONS, REFUSED)
    covered = set()
    for combination in combinations:
        covered |= set(itertools.combinations(sorted(combination.items()), 2))
    assert covered == reachable_pairs()
    # Far fewer renders than the full product of 64.
    assert len(combinations) < 16


def test_pairwise_never_yields_a_refused_or_unreachable_combination() -> None:
    for combination in pairwise(FEATURES, CONDITIONS, REFUSED):
        assert is_valid(combination, FEATURES, CONDITIONS, REFUSED), combination
        assert not (combination["ci"] == "none" and combination["tracing"] is True)
        if combination["auth"] is False:
            assert combination["hasher"] == "argon2"


def test_pairwise_is_deterministic_and_renders_every_value() -> None:
    assert pairwise(FEATURES, CONDITIONS, REFUSED) == pairwise(FEATURES, CONDITIONS, REFUSED)
    assert pairwise({}) == []
    assert pairwise({"only": ("a", "b")}) == [{"only": "a"}, {"only": "b"}]


def test_pairwise_leaves_out_pairs_already_covered() -> None:
    defaults = {question: values[0] for question, values in FEATURES.items()}
    everything = pairwise(FEATURES, CONDITIONS, REFUSED)
    fewer = pairwise(FEATURES, CONDITIONS, REFUSED, covered=[defaults, *everything[:2]])
    covered = set()
    for combination in [defaults, *everything[:2], *fewer]:
        covered |= set(itertools.combinations(sorted(combination.items()), 2))
    assert covered == reachable_pairs()
    assert defaults not in fewer
    assert len(fewer) < len(everything)
