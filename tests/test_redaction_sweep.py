"""The redaction sweep: fresh random secrets of a dozen kinds (one of them part of key names, one
part of a file name) go through every command in every format it has, and every byte leakstop
writes -- stdout, stderr, reports, the rule cache, the user key directory, state under
.git/leakstop, the remediation journal and artifacts, rewritten files, secret names and tags in
the AWS endpoint, and anything written under TMPDIR or $HOME, even if deleted again -- is searched
for each value, its base64 (at every alignment), URL-encoded and JSON-escaped forms.

A finding names where and which kind leaked, never the value.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import string
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import boto3
import pytest

from scanner.config import load_config
from scanner.engine import Engine
from scanner.pipeline import scan_paths
from tests.conftest import git
from tests.fakes import aws_key_id, checksummed
from tests.remediate.conftest import aws, moto_url  # noqa: F401  (the AWS endpoint for --apply)

B62 = string.ascii_letters + string.digits


def rand(n: int, alphabet: str = B62) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


@dataclass
class Plant:
    """The secrets of one run, by kind; ``extra`` holds fragments that must not appear either
    (each line of a private key's body)."""

    values: dict[str, str]
    extra: dict[str, list[str]] = field(default_factory=dict)

    def needles(self) -> dict[str, list[bytes]]:
        out: dict[str, list[bytes]] = {}
        for kind, v in self.values.items():
            out[kind] = forms(v.encode())
        for kind, parts in self.extra.items():
            for i, p in enumerate(parts):
                out[f"{kind} (part {i + 1})"] = forms(p.encode())
        return out


def forms(v: bytes) -> list[bytes]:
    """The value, URL-encoded, JSON-escaped, and base64/base64url at each of the three byte
    alignments it can have inside a longer encoded blob (only the characters it alone decides)."""
    out = {v, quote(v, safe="").encode(), json.dumps(v.decode())[1:-1].encode()}
    for k in range(3):
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            e = enc(b"\0" * k + v + b"\0\0")
            a, b = -(-8 * k // 6), 8 * (k + len(v)) // 6
            out.add(e[a:b])
    return [f for f in out if len(f) >= 8]


def b64text(s: str) -> str:
    try:
        return base64.b64decode(s, validate=True).decode()
    except ValueError:
        return ""


def plant() -> Plant:
    ghp = {k: checksummed("ghp_") for k in ("code", "yaml-key", "json-key", "props-key", "path", "staged", "staged-key")}
    pem_body = [rand(64, B62 + "+/") for _ in range(6)]
    payload = base64.urlsafe_b64encode(json.dumps({"sub": rand(12), "iat": 1700000000}).encode()).decode().rstrip("=")
    values = {
        "github token in code": ghp["code"],
        "aws access key id": aws_key_id(),
        "aws secret access key": rand(40, B62 + "+/"),
        "slack bot token": f"xoxb-{rand(11, string.digits)}-{rand(12, string.digits)}-{rand(24)}",
        "stripe live key (js comment, a manual site)": "sk_live_" + rand(24),
        "private key": "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(pem_body) + "\n-----END RSA PRIVATE KEY-----",
        "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + payload + "." + rand(43, B62 + "-_"),
        "db uri password": rand(18),
        # a symbol and a digit in it: a leading @ reads as a reference, letters alone as a word
        "generic password": rand(6) + rand(1, "!*@") + rand(6, B62 + "!*@") + rand(1, string.digits),
        ".env secret": rand(32),
        # all letters would read as a word (DB_PASSWORD=postgres is not reported): one digit at least
        "short human password": rand(7, string.ascii_lowercase + string.digits) + rand(1, string.digits),
        "kubernetes secret value": rand(20),
        "github token in a yaml key name": ghp["yaml-key"],
        "yaml value": rand(23) + rand(1, string.digits),  # long, with a digit: never read as a word
        "github token in a json key name": ghp["json-key"],
        "json value": rand(16),
        "github token in a properties key name": ghp["props-key"],
        "properties value": rand(16),
        "github token in a file name": ghp["path"],
        "staged github token": ghp["staged"],
        "staged token in a key name": ghp["staged-key"],
        "staged value": rand(18),
        "rule example": "acme_" + rand(24),
    }
    return Plant(values, {"private key": pem_body})


def write_tree(repo: Path, p: Plant) -> None:
    v = p.values
    files = {
        "app/settings.py": (f'GITHUB_TOKEN = "{v["github token in code"]}"\n'
                            f'AWS_ACCESS_KEY_ID = "{v["aws access key id"]}"\n'
                            f'AWS_SECRET_ACCESS_KEY = "{v["aws secret access key"]}"\n'
                            f'password = "{v["generic password"]}"\n'
                            f'SESSION = "{v["jwt"]}"\n'),
        "web/client.js": (f'const slackToken = "{v["slack bot token"]}";\n'
                          f'// old key: {v["stripe live key (js comment, a manual site)"]}\n'
                          "module.exports = { slackToken };\n"),
        ".env": (f"API_SECRET={v['.env secret']}\nDB_PASSWORD={v['short human password']}\n"
                 f"DATABASE_URL=postgres://app:{v['db uri password']}@db.internal:5432/app\n"),
        "deploy/secret.yaml": ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n"
                               f"  password: {base64.b64encode(v['kubernetes secret value'].encode()).decode()}\n"),
        "config/tokens.yaml": f"token-{v['github token in a yaml key name']}: {v['yaml value']}\n",
        "config/keys.json": json.dumps({f"password.{v['github token in a json key name']}": v["json value"]}) + "\n",
        "config/app.properties": f"secret.{v['github token in a properties key name']}={v['properties value']}\n",
        "certs/server.pem": v["private key"] + "\n",
        f"keys/{v['github token in a file name']}.txt": v["github token in a file name"] + "\n",
        "rules/extra.yaml": (
            "rules:\n  - id: acme-token\n    name: Acme token\n    provider: acme\n"
            "    regex: '(?P<secret>acme_[A-Za-z0-9]{24})'\n    keywords: [acme_]\n    severity: high\n"
            "    rotation: Revoke it in the Acme console.\n"
            f"    examples: ['token = {v['rule example']}']\n    negative_examples: ['token = acme_short']\n"),
        ".leakstop.yaml": "rule_files: [rules/extra.yaml]\nallowlist:\n  paths: ['rules/**']\n",
        "README.md": "sweep\n",
    }
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)


@dataclass
class Sweep:
    needles: dict[str, list[bytes]]
    leaks: list[str] = field(default_factory=list)
    bytes_searched: int = 0
    runs: int = 0

    def check(self, where: str, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        self.bytes_searched += len(data)
        for kind, fs in self.needles.items():
            if any(f in data for f in fs):
                self.leaks.append(f"{where}: {kind}")

    def check_tree(self, root: Path, label: str, before: dict[str, bytes] | None = None) -> None:
        """Every file under root; with ``before`` (the planted tree), planted files only where
        leakstop made a value appear more often than it did."""
        for p in sorted(root.rglob("*")):
            if not p.is_file() or p.is_symlink():
                continue
            rel = p.relative_to(root).as_posix()
            if rel.startswith(".git/") and not rel.startswith(".git/leakstop/"):
                continue  # git's own files (the index names every staged path)
            data = p.read_bytes()
            if before is not None and rel in before:
                old = before[rel]
                self.bytes_searched += len(data)
                for kind, fs in self.needles.items():
                    if any(data.count(f) > old.count(f) for f in fs):
                        self.leaks.append(f"{label}/{rel} (rewritten): {kind}")
                continue
            self.check(f"{label}/{rel}", data)


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(root).parts}


@pytest.fixture
def sweep_env(tmp_path, monkeypatch):
    """HOME, TMPDIR, the user key directory and the rule cache in fresh directories; files
    removed while the sweep runs are searched first."""
    dirs = {name: tmp_path / name for name in ("home", "tmp", "xdg", "cache", "out")}
    for d in dirs.values():
        d.mkdir()
    monkeypatch.setenv("HOME", str(dirs["home"]))
    monkeypatch.setenv("TMPDIR", str(dirs["tmp"]))
    monkeypatch.setattr(tempfile, "tempdir", str(dirs["tmp"]))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(dirs["xdg"]))
    monkeypatch.setenv("LEAKSTOP_CACHE_DIR", str(dirs["cache"]))
    for k, v in {"GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
                 "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}.items():
        monkeypatch.setenv(k, v)
    doomed: list[tuple[str, bytes]] = []
    real_unlink, real_rmtree = os.unlink, shutil.rmtree

    def read(path) -> None:
        try:
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as fh:
                    doomed.append((str(path), fh.read()))
        except OSError:
            pass

    def unlink(path, *a, **kw):
        if not kw.get("dir_fd"):
            read(path)
        return real_unlink(path, *a, **kw)

    def rmtree(path, *a, **kw):
        for d, _, names in os.walk(path):
            for n in names:
                read(os.path.join(d, n))
        return real_rmtree(path, *a, **kw)

    monkeypatch.setattr(os, "unlink", unlink)
    monkeypatch.setattr(os, "remove", unlink)
    monkeypatch.setattr(shutil, "rmtree", rmtree)
    return dirs, doomed


def planted_repo(repo: Path) -> tuple[Plant, str, str, dict[str, bytes], list[str]]:
    """A repository holding a fresh plant: (plant, base commit, head commit, the planted tree,
    the planted values a scan does not report)."""
    p = plant()
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_tree(repo, p)
    # The base commit holds the settings (the range gate reads them, and the rule file, from it).
    git(repo, "add", "README.md", ".leakstop.yaml", "rules")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "add app")
    head = git(repo, "rev-parse", "HEAD").strip()
    staged = {"app/new.py": f'TOKEN = "{p.values["staged github token"]}"\n',
              "config/new.yaml": f"secret-{p.values['staged token in a key name']}: {p.values['staged value']}\n"}
    for rel, text in staged.items():
        (repo / rel).write_text(text)
    git(repo, "add", "-A")
    planted = snapshot(repo)
    # Every plant is a value leakstop detects (else the sweep would test nothing for it); the
    # rule example is in an allowlisted rule file, the Kubernetes value is found as its base64.
    config = load_config(None, repo).with_options(backend="keywords")
    found = {f.secret.decode() for f in scan_paths([str(repo)], config, Engine(config)).findings}
    found |= {b64text(s) for s in found}
    return p, base, head, planted, [k for k, v in p.values.items() if v not in found and k != "rule example"]


def test_no_command_writes_a_value_anywhere(tmp_path, sweep_env, run_cli, aws):  # noqa: F811
    dirs, doomed = sweep_env
    # About one plant in 150 holds a draw the detectors rightly doubt (a random 16-character
    # value of low entropy for its length, or one whose letters read as words): such a plant
    # tests nothing for that value, so it is drawn again. A rule or filter that misses a kind of
    # value misses it in every draw, and the assertion below still fails.
    for attempt in range(3):
        repo = tmp_path / f"repo{attempt}"
        p, base, head, planted, missed = planted_repo(repo)
        if not missed:
            break
    assert not missed, f"planted but not detected (fix the plant or the rule): {missed}"
    sw = Sweep(p.needles())
    out = dirs["out"]

    def run(*args: str, codes=(0, 1)) -> None:
        r = run_cli(*args, cwd=repo)
        label = " ".join(a for a in args if not a.startswith(str(out)))
        assert r.code in codes, f"{label}: exit {r.code}"
        sw.check(f"{label} (stdout)", r.out)
        sw.check(f"{label} (stderr)", r.err)
        sw.runs += 1

    eng = ("--engine", "keywords")
    for fmt in ("text", "json", "jsonl", "sarif"):
        run("scan", ".", "-f", fmt, *eng)
        run("scan", ".", "-f", fmt, "-o", str(out / f"scan.{fmt}"), *eng)
    for fmt in ("text", "json", "jsonl", "sarif", "github"):
        run("diff", "--staged", "-f", fmt, *eng)
        run("diff", f"{base}..{head}", "-f", fmt, *eng)
    for fmt in ("text", "json", "jsonl", "sarif", "html"):
        run("history", ".", "-f", fmt, "-o", str(out / f"history.{fmt}"), "-j", "2", *eng)
    run("history", ".", "--incremental", "-f", "json", "-j", "2", *eng)
    run("history", ".", "--incremental", "-f", "text", "-j", "2", *eng)
    run("baseline", "create", ".", *eng)
    run("baseline", "check", ".", *eng)
    run("scan", ".", "--baseline", ".leakstop-baseline.json", "-f", "json", *eng)
    run("rules", "check", "rules/extra.yaml")
    run("remediate", ".", "--project", "sweep", "--env", "test", *eng)
    run("remediate", ".", "--project", "sweep", "--env", "test", "-f", "json", "--save-plan",
        str(out / "plan.json"), *eng)
    for iac in ("terraform", "cloudformation"):
        run("remediate", ".", "--project", "sweep", "--env", "test", "--emit", iac, str(out / iac), *eng)
    run("remediate", ".", "--project", "sweep", "--env", "test", "--apply", *eng, codes=(0, 1, 2))  # 1: applied, some value left by hand
    run("rotation", "status")
    run("rotation", "status", "-f", "json")

    sw.check_tree(repo, "repo", planted)  # .git/leakstop state, journal, artifacts, rewritten files
    for name in ("home", "tmp", "xdg", "cache", "out"):
        sw.check_tree(dirs[name], name)
    for path, data in doomed:
        sw.check(f"{path} (removed during the run)", data)
    sm = boto3.client("secretsmanager")
    for s in sm.list_secrets()["SecretList"]:  # names and tags; the values are meant to be there
        sw.check("AWS secret names and tags", json.dumps({"name": s["Name"], "tags": s.get("Tags", [])}))

    print(f"redaction sweep: {sw.runs} command runs, {len(sw.needles)} planted values, "
          f"{sw.bytes_searched} bytes searched")
    assert not sw.leaks, "values leaked:\n" + "\n".join(sorted(set(sw.leaks)))
