"""Verifiers meet local fakes of their providers: every HTTPS connection a verifier opens is
redirected, in this process only, to a FakeProvider on 127.0.0.1 (scanner.verify.http._connection
is the one place connections are made)."""

from __future__ import annotations

import pytest

from tests.verify.fakeprovider import FakeProvider


@pytest.fixture(scope="session")
def _fake_server():
    fake = FakeProvider()
    yield fake
    fake.close()


@pytest.fixture
def fake(_fake_server, monkeypatch):
    from scanner.verify import executor, http

    _fake_server.reset()
    monkeypatch.setattr(http, "_connection", _fake_server.connection)
    monkeypatch.setattr(executor, "FIRST_BACKOFF", 0.01)  # retries without the production pauses
    return _fake_server
