"""Bypass: a key body typed into an existing, empty BEGIN/END block; the finding starts on the
unchanged BEGIN line, yet the change added it."""

from __future__ import annotations

import pytest

from tests.bypass.harness import Attack, Prepared, Scenario, cases


EMPTY_BLOCK = "-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n"


def _fill_block(a: Attack, s: str) -> None:
    a.write({"deploy/key.pem": s + "\n"})  # same BEGIN and END lines, a body in between


def _fill_yaml_block(a: Attack, s: str) -> None:
    body = "".join(f"  {line}\n" for line in s.splitlines())
    a.write({"deploy/values.yaml": "name: web\ntls_key: |\n" + body})


def _on_added_line(path: str):
    def check(mode: str, hits: list[dict], prep: Prepared) -> None:
        """In the diff modes the finding is pinned to a line the change added (a body line), where
        a review tool can show it, not to the unchanged BEGIN line."""
        if mode in ("staged", "range", "commit"):
            lines = (prep.repo / path).read_text().splitlines()
            assert all("-----BEGIN" not in lines[f["line"] - 1] for f in hits), f"{mode}: reported at an unchanged line"

    return check


MULTILINE = [
    Scenario("key-body-in-empty-block", {"deploy/key.pem": EMPTY_BLOCK}, _fill_block, "deploy/key.pem",
             kind="private-key", check=_on_added_line("deploy/key.pem")),
    Scenario(
        "key-body-in-yaml-block",
        {"deploy/values.yaml": "name: web\ntls_key: |\n  " + EMPTY_BLOCK.replace("\n-----END", "\n  -----END")},
        _fill_yaml_block,
        "deploy/values.yaml",
        kind="private-key",
        check=_on_added_line("deploy/values.yaml"),
    ),
]

SCENARIOS = MULTILINE


@pytest.mark.parametrize("scenario, mode", cases(SCENARIOS))
def test_bypass(bypass, scenario, mode):
    bypass(scenario, mode)
