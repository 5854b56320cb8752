"""The configuration and baseline a diff applies, read from a commit instead of the work tree.

A pull request controls its own head: a ``.leakstop.yaml`` that allowlists every path, disables
rules or sets a one-byte size limit, or a baseline that accepts its own secret, would pass the
gate that is meant to judge it. So ``leakstop diff BASE..HEAD`` reads them as they are in the
base commit (``--config-from base``, the default in range mode): the configuration (the default
``.leakstop.yaml`` or the one ``--config`` names), the rule files it lists and the ``--baseline``
file, each when it is a file of the repository (``git cat-file``, ``BASE:path``; never the
checkout). A file outside the repository (one the CI job provides) is read from disk as usual.
Whatever the source, the files the change modifies are reported (:func:`changed_settings`).

``--config-from head`` applies the head commit's versions (trust the change's own
configuration), ``worktree`` the files on disk (the old behaviour, and the default of
``--staged``: the pre-commit hook runs on the committer's machine, which they control anyway).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from scanner.config import CONFIG_NAME, Config, read_config
from scanner.errors import LeakstopError
from scanner.models import Notice

if TYPE_CHECKING:  # the hook's default path imports this module; baselines load only when used
    from scanner.baseline import Baseline

CONFIG_FROM = ("base", "head", "worktree")
SETTINGS_LIMIT = 64 * 1024 * 1024  # a configuration, rule file or baseline larger is an error


@dataclass
class Settings:
    """What a diff applies: the configuration, the baseline (None: none), and where they came from."""

    config: Config
    baseline: Optional[Baseline] = None
    origin: str = "the work tree"
    mode: str = "worktree"  # --config-from
    revision: Optional[str] = None  # the commit read ("" = the index), None for the work tree
    tracked: list[tuple[str, str]] = field(default_factory=list)  # (kind, repository path) read
    notes: list[str] = field(default_factory=list)


class RevisionFiles:
    """Repository files as of one revision (a commit sha, or "" for the index), read through a
    ``git cat-file --batch`` process."""

    def __init__(self, reader, rev: str) -> None:
        self.reader = reader
        self.rev = rev

    def local(self, rel: str, data: bytes, workdir: Path) -> Path:
        """A path on disk holding ``data`` (the rule loader reads files)."""
        return _materialize(data, Path(rel).name, workdir)

    def read(self, rel: str) -> Optional[bytes]:
        """The file's bytes, or None when the revision has no such file."""
        if "\n" in rel:
            raise LeakstopError(f"{rel!r}: a configuration path cannot hold a newline")
        status, data = self.reader.read(f"{self.rev}:{rel}", SETTINGS_LIMIT)
        if status == "too large":
            raise LeakstopError(f"{rel}: larger than {SETTINGS_LIMIT // (1024 * 1024)} MB")
        return data


class WorkTreeFiles:
    """The same interface over the files on disk (``--config-from worktree``)."""

    def __init__(self, top: Path) -> None:
        self.top = top

    def read(self, rel: str) -> Optional[bytes]:
        try:
            return (self.top / rel).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LeakstopError(f"{self.top / rel}: cannot read: {exc.strerror}") from None

    def local(self, rel: str, data: bytes, workdir: Path) -> Path:
        return self.top / rel


def repo_path(top: Path, path: Path) -> Optional[str]:
    """``path`` relative to the repository's top (forward slashes), or None when outside it."""
    try:
        rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(top))
    except ValueError:
        try:
            rel = Path(path).resolve().relative_to(top.resolve())
        except (ValueError, OSError):
            return None
    return rel.as_posix()


def _materialize(data: bytes, name: str, workdir: Path) -> Path:
    """A rule file read from a commit, written where the rule loader (and its cache, keyed by
    path and bytes) can read it: a folder named by the content's hash, so reruns hit the cache.
    The copy leaves the examples out (they may be real-looking values; scanning never reads them)."""
    from scanner.engine.backends import cache_dir
    from scanner.fsutil import atomic_write
    from scanner.rules import without_examples

    digest = hashlib.sha256(data).hexdigest()[:32]
    path = (cache_dir() or workdir) / "commit-rule-files" / digest / name
    if not path.is_file():
        atomic_write(path, without_examples(data), parents=True)
    return path


def settings_at(
    files: RevisionFiles | WorkTreeFiles, top: Path, explicit: Optional[Path], baseline: Optional[Path], label: str, workdir: Path
) -> Settings:
    """The configuration, its rule files and the baseline as of ``files.rev`` (``label`` names it
    in messages). Files outside the repository are read from disk."""
    from scanner.baseline import load_baseline
    from scanner.config import load_config

    out = Settings(Config(), origin=label)
    rel = repo_path(top, explicit) if explicit is not None else CONFIG_NAME
    if rel is None:
        out.config = load_config(explicit, top)
    else:
        out.tracked.append(("configuration", rel))
        data = files.read(rel)
        if data is not None:
            out.config = _with_rule_files(read_config(data, top / rel), files, top, label, workdir, out)
        elif explicit is not None and not os.path.isfile(explicit):
            raise LeakstopError(f"{explicit}: configuration file not found")
        elif explicit is not None:
            out.notes.append(f"{rel}: not in {label}: the built-in configuration applies")
    if baseline is not None:
        rel = repo_path(top, baseline)
        if rel is None:
            out.baseline = load_baseline(baseline)
        else:
            out.tracked.append(("baseline", rel))
            data = files.read(rel)
            if data is None:
                out.notes.append(f"{rel}: not in {label}: no finding is accepted")
            else:
                out.baseline = _parse_baseline(data, top / rel)
    return out


def _with_rule_files(config: Config, files: RevisionFiles | WorkTreeFiles, top: Path, label: str, workdir: Path, out: Settings) -> Config:
    paths = []
    for rule_file in config.rule_files:
        rel = repo_path(top, rule_file)
        if rel is None:
            paths.append(rule_file)
            continue
        out.tracked.append(("rule file", rel))
        data = files.read(rel)
        if data is None:
            raise LeakstopError(f"{rule_file}: rule file not found in {label}")
        local = files.local(rel, data, workdir)
        if local != top / rel:
            _check_pack(local, f"{rel} (in {label})")
        paths.append(local)
    return replace(config, rule_files=tuple(paths))


def _check_pack(path: Path, shown: str) -> None:
    """Errors in a rule file read from a commit name it as the repository knows it, not by the
    place it was copied to."""
    from scanner.rules import load_pack

    try:
        load_pack(path)
    except LeakstopError as exc:
        raise LeakstopError(exc.message.replace(str(path), shown)) from None


def _parse_baseline(data: bytes, path: Path) -> "Baseline":
    from scanner.baseline import parse_baseline
    from scanner.fsutil import parse_json

    try:
        doc = parse_json(data)
    except ValueError as exc:
        raise LeakstopError(f"{path}: not a leakstop baseline (invalid JSON: {exc})") from None
    return parse_baseline(doc, path)


def changed_settings(tracked: list[tuple[str, str]], before: RevisionFiles, after: RevisionFiles) -> list[Notice]:
    """A notice for each tracked file whose bytes differ between the two revisions (added,
    modified or deleted by the change)."""
    notices = []
    for kind, rel in dict.fromkeys(tracked):
        old, new = before.read(rel), after.read(rel)
        if old == new:
            continue
        what = "adds" if old is None else "deletes" if new is None else "modifies"
        identity = hashlib.sha256(b"\0".join([kind.encode(), rel.encode(), old or b"", new or b""])).hexdigest()[:32]
        notices.append(Notice("settings-change", rel, f"this change {what} the leakstop {kind} {rel}", identity))
    return notices


def diff_settings(
    mode: str, top: Path, base: Optional[str], head: str, explicit: Optional[Path], baseline: Optional[Path],
    reader, workdir: Path,
) -> tuple[Settings, list[Notice]]:
    """The settings a diff applies under ``--config-from mode``, and a notice for each settings
    file the change modifies (``base`` and ``head`` are revisions: commit shas, "" = the index;
    ``base`` None: the change has no base commit)."""
    notes = []
    if mode == "base" and base is None:
        mode = "head"
        notes.append("no base commit to read the configuration from: the head's applies")
    if mode == "worktree":
        files: RevisionFiles | WorkTreeFiles = WorkTreeFiles(top)
        label = "the work tree"
    else:
        rev = (base if mode == "base" else head) or ""  # base is None only in the head mode (above)
        files = RevisionFiles(reader, rev)
        label = f"the base commit {rev[:12]}" if mode == "base" else "the staged index" if rev == "" else f"the head commit {rev[:12]}"
    settings = settings_at(files, top, explicit, baseline, label, workdir)
    settings.notes[:0] = notes
    settings.mode, settings.revision = mode, getattr(files, "rev", None)
    notices = []
    if base is not None:
        notices = changed_settings(settings.tracked, RevisionFiles(reader, base), RevisionFiles(reader, head))
    return settings, notices
