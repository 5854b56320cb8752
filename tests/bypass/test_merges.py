"""Bypass: a secret typed into a merge (a conflict resolution, or an amended clean merge) is in
none of the merged commits, only in the merge."""

from __future__ import annotations

import pytest

from tests.bypass.harness import Attack, Scenario, cases


def _conflict_resolution(a: Attack, s: str) -> None:
    """The target branch and the pull request both change a line; the merge of the target into
    the pull request resolves the conflict with a secret typed into the result."""
    a.commit({"config.py": "RETRIES = 2\n"}, "main moves on")
    target = a.head()
    a.branch("feature", a.base)
    a.commit({"config.py": "RETRIES = 3\n"}, "feature work")
    assert a.merge("main"), "expected a conflict"
    a.write({"config.py": f"RETRIES = 3\nTOKEN = '{s}'\n"})
    a.pr_base = target


def _evil_merge(a: Attack, s: str) -> None:
    """A clean merge, amended before it is committed: the secret is in neither parent."""
    a.commit({"other.py": "B = 1\n"}, "main moves on")
    target = a.head()
    a.branch("feature", a.base)
    a.commit({"feature.py": "A = 1\n"}, "feature work")
    assert not a.merge("main"), "expected a clean merge"
    a.write({"feature.py": f"A = 1\nTOKEN = '{s}'\n"})
    a.pr_base = target


def _merge_into_target(a: Attack, s: str) -> None:
    """A merge on the target branch (the push event): the pushed range is the merge alone and the
    secret is typed into its resolution of a conflicting file."""
    a.branch("feature")
    a.commit({"config.py": "RETRIES = 3\n"}, "feature work")
    a.checkout("main")
    a.commit({"config.py": "RETRIES = 2\n"}, "main moves on")
    a.pr_base = a.head()
    assert a.merge("feature"), "expected a conflict"
    a.write({"config.py": f"RETRIES = 2\nTOKEN = '{s}'\n"})


MERGES = [
    Scenario("merge-conflict-resolution", {"config.py": "RETRIES = 1\n"}, _conflict_resolution, "config.py"),
    Scenario("merge-evil-clean", {"app.py": "x = 1\n"}, _evil_merge, "feature.py"),
    Scenario("merge-pushed-to-target", {"config.py": "RETRIES = 1\n"}, _merge_into_target, "config.py"),
]

SCENARIOS = MERGES


@pytest.mark.parametrize("scenario, mode", cases(SCENARIOS))
def test_bypass(bypass, scenario, mode):
    bypass(scenario, mode)
