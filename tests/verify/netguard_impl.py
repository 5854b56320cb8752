"""The network guard the start-up hooks install in a leakstop subprocess (see netguard/)."""

from __future__ import annotations

import ipaddress
import json
import socket

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def _loopback(host) -> bool:
    host = host.decode() if isinstance(host, bytes) else str(host)
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def install(log_path: str) -> None:
    real_getaddrinfo, real_connect, real_connect_ex = socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex

    def note(kind: str, host, port) -> None:
        with open(log_path, "a") as fh:
            fh.write(json.dumps({"kind": kind, "host": str(host), "port": port}) + "\n")

    def getaddrinfo(host, port, *args, **kwargs):
        note("lookup", host, port)
        if not _loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, "blocked by the test network guard")
        return real_getaddrinfo(host, port, *args, **kwargs)

    def guarded(real):
        def connect(self, address):
            if self.family in (socket.AF_INET, socket.AF_INET6):
                note("connect", address[0], address[1])
                if not _loopback(address[0]):
                    raise ConnectionRefusedError("blocked by the test network guard")
            return real(self, address)

        return connect

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = guarded(real_connect)
    socket.socket.connect_ex = guarded(real_connect_ex)
