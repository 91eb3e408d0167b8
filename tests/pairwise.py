"""All-pairs answer sets: every valid pair of feature values appears in at least one render.

The full product of the feature questions grows exponentially; every pair of values grows
quadratically and still catches the defects that come from two features meeting (the classic
argument for pairwise testing). A combination is valid when it contains no refused partial
answer set and every non-default value of a conditional question has its condition met.
"""

import itertools
from collections.abc import Callable, Mapping, Sequence

Value = str | bool
Combination = dict[str, Value]
Pair = tuple[tuple[str, Value], tuple[str, Value]]


def is_valid(
    combination: Mapping[str, Value],
    features: Mapping[str, Sequence[Value]],
    conditions: Mapping[str, Mapping[str, Value]],
    refused: Sequence[Mapping[str, Value]],
) -> bool:
    for partial in refused:
        if all(combination.get(key) == value for key, value in partial.items()):
            return False
    for question, condition in conditions.items():
        asked = all(combination.get(key) == value for key, value in condition.items())
        # A question copier does not ask keeps its default: other values are unreachable.
        if not asked and combination.get(question) != features[question][0]:
            return False
    return True


def _pairs(combination: Mapping[str, Value]) -> set[Pair]:
    items = sorted(combination.items(), key=lambda item: item[0])
    return set(itertools.combinations(items, 2))


def _complete(
    fixed: Combination,
    features: Mapping[str, Sequence[Value]],
    valid: Callable[[Combination], bool],
    wanted: set[Pair],
) -> Combination | None:
    """Fill the questions `fixed` leaves open, greedily covering the most wanted pairs."""

    def valid_so_far(partial: Combination) -> bool:
        # The open questions at their defaults: a choice that can only end refused is skipped.
        return valid({**{q: values[0] for q, values in features.items()}, **partial})

    combination = dict(fixed)
    for question in features:
        if question in combination:
            continue
        best: tuple[int, Value] | None = None
        for value in features[question]:
            trial = {**combination, question: value}
            if not valid_so_far(trial):
                continue
            gain = len(_pairs(trial) & wanted)
            if best is None or gain > best[0]:
                best = (gain, value)
        if best is None:
            break  # no value fits what is chosen so far: the search below finds one
        combination[question] = best[1]
    if len(combination) == len(features) and valid(combination):
        return combination
    # The greedy choice hit a refused or unreachable combination: search the open questions.
    open_questions = [question for question in features if question not in fixed]
    for values in itertools.product(*(features[question] for question in open_questions)):
        trial = {**fixed, **dict(zip(open_questions, values, strict=True))}
        if valid(trial):
            return trial
    return None


def pairwise(
    features: Mapping[str, Sequence[Value]],
    conditions: Mapping[str, Mapping[str, Value]] | None = None,
    refused: Sequence[Mapping[str, Value]] = (),
    covered: Sequence[Combination] = (),
) -> list[Combination]:
    """Valid combinations that together contain every value and every pair that can occur.

    `covered` are combinations rendered anyway (the named variants): their pairs are not
    wanted again. Each round adds the candidate row that covers the most wanted pairs.
    """
    conditions = conditions or {}

    def valid(combination: Combination) -> bool:
        return is_valid(combination, features, conditions, refused)

    wanted: set[Pair] = set()
    for first, second in itertools.combinations(sorted(features), 2):
        for pair_values in itertools.product(features[first], features[second]):
            pair: Pair = ((first, pair_values[0]), (second, pair_values[1]))
            if _complete(dict(pair), features, valid, set()) is not None:
                wanted.add(pair)

    for combination in covered:
        wanted -= _pairs(combination)
    combinations: list[Combination] = []
    while wanted:
        # Deterministic: every wanted pair seeds a candidate, the first best one wins.
        candidates = [
            candidate
            for seed in sorted(wanted, key=repr)
            if (candidate := _complete(dict(seed), features, valid, wanted)) is not None
        ]
        best = max(candidates, key=lambda candidate: len(_pairs(candidate) & wanted))
        combinations.append(best)
        wanted -= _pairs(best)
    # With a single question there are no pairs: still render each reachable value once.
    for question, values in features.items():
        for value in values:
            if any(combination[question] == value for combination in [*covered, *combinations]):
                continue
            combination = _complete({question: value}, features, valid, set())
            if combination is not None:
                combinations.append(combination)
    return combinations
