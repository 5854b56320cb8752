"""Helpers for the context-detector tests: an engine with only the context rules."""

from __future__ import annotations

import pytest

from tests.detectors.fixture_eval import context_engine, digest


@pytest.fixture(scope="session")
def ctx_engine():
    return context_engine()


@pytest.fixture
def find(ctx_engine):
    """find(path, text) -> sorted [(rule_id, key, digest(value))] reported by the context detectors
    (a digest, so that a failing assertion never prints a value)."""
    from scanner.models import Chunk

    def run(path: str, text: str) -> list[tuple[str, str, str]]:
        data = text.encode()
        out = []
        for f in ctx_engine.scan(Chunk(path=path, data=data)):
            out.append((f.rule_id, f.key or "", digest(f.secret.decode("utf-8", "replace"))))
        return sorted(out)

    return run
