"""Which key fingerprints are computed under: environment > configuration > the repository (the
same in every full clone, cached) > a per-user key > a run-only key."""

from __future__ import annotations

import json
import os
import stat

import pytest

from scanner.config import Config, parse_config
from scanner.errors import LeakstopError
from scanner.identity import ENV_KEY, resolve_identity, user_key_file
from tests.conftest import git


def committed(make_repo, name: str = "repo"):
    repo = make_repo(name)
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    return repo


def test_precedence_env_then_config_then_repository_then_user(make_repo, tmp_path):
    repo = committed(make_repo)
    salted = Config(fingerprint_salt="s" * 32)
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    assert resolve_identity(salted, repo, env={**env, ENV_KEY: "org secret"}).source == "env"
    assert resolve_identity(salted, repo, env={**env, ENV_KEY: "org secret"}).key == b"org secret"
    assert resolve_identity(salted, repo, env=env).source == "config"
    assert resolve_identity(Config(), repo, env=env).source == "repository"
    outside = tmp_path / "outside"
    outside.mkdir()
    assert resolve_identity(Config(), outside, env=env).source == "user"


def test_repository_key_is_the_same_in_every_clone_and_cached(make_repo, tmp_path):
    repo = committed(make_repo)
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    key = resolve_identity(Config(), repo / "a.txt", env=env)
    cache = repo / ".git" / "leakstop" / "identity.json"
    root = git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    assert json.loads(cache.read_text())["root_commit"] == root
    git(tmp_path, "clone", "-q", str(repo), str(tmp_path / "clone"))
    assert resolve_identity(Config(), tmp_path / "clone", env=env).key == key.key
    # A linked work tree shares its repository's cache.
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"))
    assert resolve_identity(Config(), tmp_path / "wt", env=env).key == key.key
    # More commits, another root merged in later: the cached root keeps the key.
    (repo / "b.txt").write_text("b\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "two")
    assert resolve_identity(Config(), repo, env=env).key == key.key


def test_no_commits_or_shallow_clone_use_the_user_key(make_repo, tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    empty = make_repo("empty")
    user = resolve_identity(Config(), empty, env=env)
    assert user.source == "user"
    src = committed(make_repo, "src")
    (src / "b.txt").write_text("b\n")
    git(src, "add", "-A")
    git(src, "commit", "-q", "-m", "two")
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{src}", str(tmp_path / "shallow"))
    shallow = resolve_identity(Config(), tmp_path / "shallow", env=env)
    assert shallow.source == "user" and shallow.key == user.key


def test_user_key_is_created_private_once(tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    first = resolve_identity(Config(), tmp_path, env=env)
    path = user_key_file(env)
    assert first.source == "user" and path.is_file()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert resolve_identity(Config(), tmp_path, env=env).key == first.key
    path.write_text("not hex\n")
    with pytest.raises(LeakstopError, match="not a leakstop key file"):
        resolve_identity(Config(), tmp_path, env=env)


def test_unwritable_config_dir_gives_a_run_only_key(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    ident = resolve_identity(Config(), tmp_path, env={"XDG_CONFIG_HOME": str(blocker)})
    assert ident.source == "ephemeral"


def test_fingerprint_salt_is_validated(tmp_path):
    cfg = tmp_path / ".leakstop.yaml"
    assert parse_config({"fingerprint_salt": "0123456789abcdef0123"}, cfg).fingerprint_salt == "0123456789abcdef0123"
    with pytest.raises(LeakstopError, match="'fingerprint_salt' must be a string of 16"):
        parse_config({"fingerprint_salt": "short"}, cfg)
    with pytest.raises(LeakstopError, match="'fingerprint_salt'"):
        parse_config({"fingerprint_salt": 12345678901234567890}, cfg)
