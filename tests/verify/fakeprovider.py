"""A local stand-in for a provider's API on 127.0.0.1: a threaded HTTP server that answers a
request carrying one of the ``valid`` credentials with ``ok``, any other with ``bad``, after
first playing any ``script``ed answers (429, 503, a slow answer...). It records each request
(method, path, headers, body) for the tests to check what was sent where."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional


@dataclass
class Answer:
    status: int
    body: object = b""  # bytes, str, or JSON-able
    headers: dict = field(default_factory=dict)
    delay: float = 0.0

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


@dataclass
class Seen:
    host: str  # the host the verifier meant to reach
    method: str
    path: str
    headers: dict
    body: bytes

    def carries(self, value: str) -> bool:
        """Does the request hold the value: in the path, a header, Basic credentials or the body?"""
        texts = [self.path, self.body.decode("utf-8", "replace"), *self.headers.values()]
        for h in self.headers.values():
            if h.startswith("Basic "):
                try:
                    texts.append(base64.b64decode(h[6:]).decode("utf-8", "replace"))
                except ValueError:
                    pass
        return any(value in t for t in texts)


def redirect(port: int):
    """A replacement for scanner.verify.http._connection that sends every verifier's request to
    the fake on 127.0.0.1:``port``, naming the host it meant to reach in a header of its own."""

    def connection(host: str, timeout: float) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        original = conn.putrequest

        def putrequest(method, url, *args, **kwargs):
            original(method, url, *args, **kwargs)
            conn.putheader("X-Leakstop-Test-Host", host)

        conn.putrequest = putrequest
        return conn

    return connection


class FakeProvider:
    def __init__(self) -> None:
        self.valid: set[str] = set()
        self.ok = Answer(200, {})
        self.bad = Answer(401, {})
        self.script: list[Answer] = []
        self.judge: Optional[Callable[[Seen], bool]] = None  # decides "valid" instead of ``valid``
        self.routes: dict[str, tuple[Answer, Answer]] = {}  # "host/path" prefix -> (ok, bad), over ok/bad
        self.seen: list[Seen] = []
        self._host = threading.local()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def reset(self) -> None:
        self.valid, self.script, self.seen, self.routes, self.judge = set(), [], [], {}, None
        self.ok, self.bad = Answer(200, {}), Answer(401, {})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def connection(self, host: str, timeout: float) -> http.client.HTTPConnection:
        """Stands in for scanner.verify.http._connection (see :func:`redirect`)."""
        return redirect(self.port)(host, timeout)

    def _answer(self, seen: Seen) -> Answer:
        with self._lock:
            self.seen.append(seen)
            if self.script:
                return self.script.pop(0)
        ok, bad = next((pair for prefix, pair in self.routes.items() if (seen.host + seen.path).startswith(prefix)),
                       (self.ok, self.bad))
        good = self.judge(seen) if self.judge else any(seen.carries(v) for v in self.valid)
        return ok if good else bad

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _serve(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size) if size else b""
                headers = {k: v for k, v in self.headers.items()}
                seen = Seen(headers.pop("X-Leakstop-Test-Host", ""), self.command, self.path, headers, body)
                ans = fake._answer(seen)
                if ans.delay:
                    time.sleep(ans.delay)
                data = ans.payload()
                try:
                    self.send_response(ans.status)
                    for k, v in ans.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = _serve

        return Handler
