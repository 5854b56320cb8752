"""Values in git history: which, and how to purge them after rotating.

Moving a value out of the working tree leaves every commit that held it. The dry run, the apply
and rotation-plan.md say which values the repository holding PATH has in its history, and give the
purge procedure. leakstop never writes a value into any file: the user builds git filter-repo's
replacements file from the secret store with the commands printed here (0600, outside the
repository, deleted after).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from scanner.remediate import rotation
from scanner.remediate.records import Item

if TYPE_CHECKING:  # annotations only
    from scanner.remediate.stores.base import SecretStore

REPLACEMENT = "***REMOVED***"


def relative_to_repo(path: Path, repo_root: Optional[Path]) -> Optional[str]:
    if repo_root is None:
        return None
    try:
        return path.resolve().relative_to(repo_root.resolve()).as_posix()
    except ValueError:
        return None


def annotate(items: Sequence[Item], base: Path, repo_root: Optional[Path]) -> None:
    """Set each item's ``in_git_history`` / ``first_commit`` (the oldest commit on any ref whose
    version of a site's file holds the value)."""
    for it in items:
        rels = [relative_to_repo(base / s.path, repo_root) for s in it.sites]
        it.in_git_history, it.first_commit = rotation.git_history(repo_root, [r for r in rels if r], it.value)


def purge_steps(store: SecretStore, values: Sequence[tuple[str, Optional[str]]]) -> list[str]:
    """The procedure for the (secret name, key) pairs found in history, as shell lines to read and
    run by hand. Each value is fetched from the store into a 0600 file outside the repository;
    a multi-line value (a key block) is replaced line by line."""
    lines = [
        "# 1. Rotate every value below first (rotation-plan.md): purging history does not revoke a value.",
        "# 2. Build git filter-repo's replacements file from the secret store, outside the repository,",
        "#    readable only by you (leakstop never writes a value into any file):",
        "umask 077",
        'R="$(mktemp "${TMPDIR:-/tmp}/leakstop-replacements.XXXXXX")"',
    ]
    for name, key in values:
        lines.append(f"{store.cli_read(name, key)} | {_to_replacement()} >> \"$R\"")
    lines += [
        "# 3. Rewrite every branch and tag of a fresh mirror clone, then push it over the remote:",
        "git clone --mirror <remote-url> repo-mirror.git && cd repo-mirror.git",
        'git filter-repo --replace-text "$R"',
        'shred -u "$R" 2>/dev/null || rm -f "$R"',
        "git push --force --mirror <remote-url>",
        "# 4. Copies the push does not reach: forks; every other clone (each must re-clone, not pull);",
        "#    CI caches, build artifacts and images built from old commits; the host's pull-request refs",
        "#    (refs/pull/* on GitHub, merge-request refs on GitLab: only the host's support can purge them)",
        "#    and its cached views of old commits. Treat the old values as public: rotation is what protects.",
    ]
    return lines


def _to_replacement() -> str:
    # Each non-empty line of the value becomes "literal:LINE==>***REMOVED***" (filter-repo's format;
    # literal: so that a value starting with regex: or glob: is not read as a pattern).
    return "jq -Rrs " + shlex.quote(f'split("\\n")[] | select(length > 0) | "literal:" + . + "==>{REPLACEMENT}"')
