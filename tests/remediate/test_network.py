"""Network faults during remediation: one line, exit 2, in seconds (real sockets on 127.0.0.1)."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import pytest

import scanner.remediate.aws as backends
from tests.remediate.conftest import digest_tree
from tests.remediate.test_faults import small_repo


@contextmanager
def fault_server(mode: str) -> Iterator[str]:
    """An endpoint that reads each request and then closes the connection ("close") or never
    answers ("silent"), or a port nobody listens on ("refuse")."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    if mode == "refuse":
        sock.close()
        yield url
        return
    sock.listen(16)
    sock.settimeout(0.05)
    stop, held = threading.Event(), []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            conn.settimeout(2)
            try:
                conn.recv(65536)
            except OSError:
                pass
            if mode == "close":
                conn.close()
            else:
                held.append(conn)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield url
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        sock.close()


@pytest.mark.parametrize("mode, message", [
    ("close", "the AWS endpoint closed the connection before answering"),  # before: ConnectionClosedError traceback
    ("silent", "no answer from the AWS endpoint within 0.5 s"),  # before: ReadTimeoutError after 60 s per attempt
    ("refuse", "cannot reach the AWS endpoint"),
])
def test_network_fault_is_one_line_error(make_repo, remediate, monkeypatch, mode, message):
    repo = small_repo(make_repo, "r")
    monkeypatch.setattr(backends, "READ_TIMEOUT", 0.5, raising=False)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    before = digest_tree(repo)
    with fault_server(mode) as url:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        start = time.monotonic()
        r = remediate(repo, "--apply")
        took = time.monotonic() - start
    assert r.code == 2 and len(r.err.splitlines()) == 1, r.err[-300:]
    assert r.err.startswith("leakstop: error: GetCallerIdentity: ") and message in r.err and url in r.err
    assert took < 15
    assert digest_tree(repo) == before


def test_client_timeouts_are_bounded(monkeypatch):
    """Not botocore's 60 s: a dead network fails within seconds per attempt."""
    client = backends.make_client("secretsmanager", "us-east-1")
    assert client.meta.config.connect_timeout == backends.CONNECT_TIMEOUT <= 10
    assert client.meta.config.read_timeout == backends.READ_TIMEOUT <= 30


@pytest.mark.parametrize("exc, message", [
    ("ConnectTimeoutError", "no connection to the AWS endpoint within"),
    ("ProxyConnectionError", "cannot connect through the proxy"),
    ("SSLError", "TLS error"),
    ("EndpointConnectionError", "cannot reach the AWS endpoint"),
])
def test_connection_error_variants(exc, message):
    from botocore import exceptions

    from scanner.errors import LeakstopError

    kwargs = {"endpoint_url": "https://sts.example", "proxy_url": "http://proxy", "error": "x"}
    with pytest.raises(LeakstopError) as info:
        with backends.aws_call("GetCallerIdentity"):
            raise getattr(exceptions, exc)(**kwargs)
    assert message in info.value.message and "https://sts.example" in info.value.message


def test_other_botocore_errors_name_only_their_type():
    """A botocore message can quote a request parameter (the value being stored)."""
    from botocore.exceptions import ParamValidationError

    from scanner.errors import LeakstopError
    from tests.fakes import github_token

    token = github_token()
    with pytest.raises(LeakstopError) as info:
        with backends.aws_call("CreateSecret x"):
            raise ParamValidationError(report=f"Invalid type for parameter SecretString, value: {token}")
    assert info.value.message == "CreateSecret x: AWS client error (ParamValidationError)"
