"""Scratch repositories with controlled dates, and a small engine, for the history tests."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from scanner.config import Config
from scanner.engine import Engine
from scanner.rules import load_rules
from tests.conftest import IDENTITY

AWS_PACK = Path(__file__).resolve().parents[2] / "rules" / "aws.yaml"

# Test-only AWS key ids (random, not real credentials).
KEY1 = "AKIAQYLPMN5HHHFPZAM2"
KEY2 = "AKIAZ5QW2XHC7RJK3MNB"
KEY3 = "AKIAT4RN6WJD2QXC7VHY"


def fake_aws_key() -> str:
    """A random AWS key id, made up at run time (never a real credential)."""
    from tests.fakes import aws_key_id

    return aws_key_id()


def h(value: str) -> str:
    """Compare secrets by hash so a failing assert never prints one."""
    return hashlib.sha256(value.encode()).hexdigest()


def small_engine(config: Config | None = None) -> Engine:
    """Only the AWS pack: compiles in milliseconds, same code path as the full rule set."""
    config = config or Config()
    return Engine(config, rules=load_rules([AWS_PACK]), identity=IDENTITY)


class Repo:
    """A scratch repository whose commits get increasing, fixed dates."""

    def __init__(self, path: Path, branch: str = "main", bare: bool = False) -> None:
        self.path = path
        self.tick = 0
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", branch, *(["--bare"] if bare else []))
        self.git("config", "user.name", "Dev One")
        self.git("config", "user.email", "dev@example.com")
        self.git("config", "commit.gpgsign", "false")

    def env(self) -> dict:
        self.tick += 1
        date = f"2024-01-{self.tick:02d}T12:00:00+00:00" if self.tick < 29 else f"2024-02-{self.tick - 28:02d}T12:00:00+00:00"
        return {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
                "GIT_AUTHOR_NAME": "Dev One", "GIT_AUTHOR_EMAIL": "dev@example.com",
                "GIT_COMMITTER_NAME": "Dev One", "GIT_COMMITTER_EMAIL": "dev@example.com"}

    def git(self, *args: str, env: dict | None = None, input: bytes | None = None) -> str:
        out = subprocess.run(["git", "-C", str(self.path), *args], check=True, capture_output=True,
                             env=env or {**os.environ}, input=input)
        return out.stdout.decode("utf-8", "replace").strip()

    def write(self, name: str | bytes, text: str | bytes) -> None:
        p = os.path.join(os.fsencode(self.path), name if isinstance(name, bytes) else name.encode())
        d = os.path.dirname(p)
        os.makedirs(d, exist_ok=True)
        with open(p, "wb") as fh:
            fh.write(text if isinstance(text, bytes) else text.encode())

    def commit(self, msg: str, author: str | None = None, **files: str) -> str:
        for name, text in files.items():
            self.write(name, text)
        self.git("add", "-A")
        env = self.env()
        if author:
            env["GIT_AUTHOR_NAME"] = author
        self.git("commit", "-q", "--allow-empty", "-m", msg, env=env)
        return self.git("rev-parse", "HEAD")

    def rm(self, *names: str) -> None:
        self.git("rm", "-q", *names)
