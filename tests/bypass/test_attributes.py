"""Bypass: a .gitattributes line (-diff, binary, a macro) makes git print "Binary files differ"
for a text file, so a diff mode that trusts git's hunks sees no added line in it."""

from __future__ import annotations

import pytest

from tests.bypass.harness import Attack, Scenario, cases


def _attr(pattern_line: str, where: str = ".gitattributes", path: str = "settings.conf"):
    def attack(a: Attack, s: str) -> None:
        a.write({where: pattern_line + "\n", path: f"[server]\nport = 8080\ntoken = {s}\n"})

    return attack


ATTRIBUTES = [
    Scenario("attr-diff-unset", {"settings.conf": "[server]\nport = 8080\n"}, _attr("*.conf -diff"), "settings.conf"),
    Scenario("attr-binary", {"settings.conf": "[server]\nport = 8080\n"}, _attr("settings.conf binary"), "settings.conf"),
    # A macro defined by the same file: "[attr]" lines are honoured in the top-level .gitattributes.
    Scenario("attr-macro", {"settings.conf": "[server]\nport = 8080\n"},
             _attr("[attr]quiet -diff -merge\n*.conf quiet"), "settings.conf"),
    Scenario("attr-new-file", {"README": "hi\n"}, _attr("*.conf -diff"), "settings.conf"),
    Scenario(
        "attr-in-subdirectory",
        {"conf/settings.conf": "[server]\nport = 8080\n"},
        _attr("settings.conf binary", where="conf/.gitattributes", path="conf/settings.conf"),
        "conf/settings.conf",
    ),
    Scenario(
        # The attribute is old (committed with the base); only the secret is new.
        "attr-already-committed",
        {".gitattributes": "*.conf -diff\n", "settings.conf": "[server]\nport = 8080\n"},
        lambda a, s: a.write({"settings.conf": f"[server]\nport = 8080\ntoken = {s}\n"}),
        "settings.conf",
    ),
]

SCENARIOS = ATTRIBUTES


@pytest.mark.parametrize("scenario, mode", cases(SCENARIOS))
def test_bypass(bypass, scenario, mode):
    bypass(scenario, mode)
