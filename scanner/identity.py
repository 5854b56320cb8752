"""Which key a command's :class:`~scanner.models.Identity` uses (fingerprints, value hashes).

First match wins:

1. ``LEAKSTOP_FINGERPRINT_KEY`` in the environment (a CI secret: the same fingerprints across
   repositories of an organisation, and unknown to whoever reads a report);
2. ``fingerprint_salt`` in the configuration (kept with the repository);
3. the repository itself: its oldest root commit id, the same in every full clone, found once and
   cached under ``.git/leakstop/identity.json`` (finding it walks the whole history: ~1 s on
   100,000 commits; the pre-commit hook then reads one small file);
4. outside a repository, in a shallow clone or before the first commit: a random per-user key,
   created once (mode 0600) as ``$XDG_CONFIG_HOME/leakstop/fingerprint.key`` (default
   ``~/.config``);
5. if even that cannot be written, a key for this run only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping, Optional

from scanner.config import Config
from scanner.errors import LeakstopError
from scanner.fsutil import atomic_write, write_new
from scanner.models import Identity
from scanner.sources.git import common_git_dir, git

ENV_KEY = "LEAKSTOP_FINGERPRINT_KEY"
CACHE_NAME = "identity.json"
USER_KEY_NAME = "fingerprint.key"


def resolve_identity(config: Config, start: Optional[Path] = None, git_dir: Optional[Path] = None,
                     env: Optional[Mapping[str, str]] = None) -> Identity:
    """The identity for a command working on ``start`` (or on the repository at ``git_dir``)."""
    env = os.environ if env is None else env
    explicit = env.get(ENV_KEY)
    if explicit:
        return Identity(explicit.encode("utf-8"), "env")
    if config.fingerprint_salt:
        return Identity(config.fingerprint_salt.encode("utf-8"), "config")
    gd = git_dir or common_git_dir(Path(start) if start is not None else Path.cwd())
    root = root_commit(gd) if gd is not None else None
    if root:
        return Identity(b"leakstop repository key\0" + root.encode(), "repository")
    return user_identity(env)


def root_commit(git_dir: Path) -> Optional[str]:
    """The oldest root commit reachable from HEAD (cached), or None: no commits yet, a shallow
    clone (its roots are cut-off points, not the history's) or no git."""
    cache = git_dir / "leakstop" / CACHE_NAME
    try:
        doc = json.loads(cache.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and _is_sha(doc.get("root_commit")):
            return doc["root_commit"]
    except (OSError, ValueError):
        pass
    if (git_dir / "shallow").exists():
        return None
    try:
        out = git(".", ["log", "--max-parents=0", "--format=%ct %H", "HEAD"], pre=[f"--git-dir={git_dir}"])
    except LeakstopError:  # no git
        return None
    lines = out.stdout.decode("utf-8", "replace").splitlines()
    roots = sorted((int(t), sha) for t, sha in (line.split() for line in lines if line.strip()))
    if out.returncode != 0 or not roots:
        return None
    root = roots[0][1]
    try:
        atomic_write(cache, (json.dumps({"version": 1, "root_commit": root}) + "\n").encode(), parents=True)
    except LeakstopError:
        pass  # a read-only repository: found again next time
    return root


def _is_sha(value) -> bool:
    return isinstance(value, str) and len(value) in (40, 64) and all(c in "0123456789abcdef" for c in value)


def user_key_file(env: Mapping[str, str]) -> Optional[Path]:
    base = env.get("XDG_CONFIG_HOME")
    if not base:
        try:
            base = str(Path.home() / ".config")
        except RuntimeError:  # no home directory
            return None
    return Path(base) / "leakstop" / USER_KEY_NAME


def user_identity(env: Mapping[str, str]) -> Identity:
    """This user's random key, created on first use; a run-only key when it cannot be stored."""
    import secrets  # here: the hook's usual key (the repository's) needs no new one

    path = user_key_file(env)
    if path is None:
        return Identity.ephemeral()
    try:
        write_new(path, (secrets.token_hex(32) + "\n").encode(), 0o600)
        text = path.read_text(encoding="ascii").strip()
    except (LeakstopError, OSError, UnicodeDecodeError):
        return Identity.ephemeral()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise LeakstopError(f"{path}: not a leakstop key file (64 hex digits); delete it to create a new one")
    return Identity(key, "user")
