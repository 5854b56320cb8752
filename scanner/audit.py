"""Organisation-wide audits: the full history of many repositories, one merged report.

A repository is the unit of work: :func:`audit_one` clones or fetches it when it is a URL (into
a work directory that keeps it, and its incremental state, for the next run), runs the history
audit with incremental state on, and returns its findings tagged with the repository, or the
one-line reason it could not be scanned. Units run in a local process pool by default, or on a
Dask distributed cluster (``--cluster ADDRESS``): the scheduler, its queue and its wire protocol
are Dask's, and a worker that dies has its units run again elsewhere. Results are merged in the
order the repositories were given, whatever order they finish in, so a cluster run reports
exactly what a local run reports.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Sequence

from scanner.errors import LeakstopError
from scanner.models import Finding

_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.I)


@dataclass(frozen=True)
class RepoSpec:
    """A repository to audit: a local path or a git URL, with the options every unit shares."""

    source: str
    workdir: str  # where URLs are cloned (kept between runs: incremental state lives there)
    config_path: Optional[str] = None
    max_file_size: Optional[int] = None
    incremental: bool = True  # False: read everything again (the saved state is left as it is)

    @property
    def is_url(self) -> bool:
        return bool(_URL.match(self.source))

    @property
    def name(self) -> str:
        """How reports name the repository: its path or URL without credentials."""
        return _no_userinfo(self.source) if self.is_url else self.source


@dataclass
class RepoResult:
    repository: str
    findings: list[Finding] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    error: Optional[str] = None  # one line: why this repository could not be scanned


def read_repos_file(path: Path) -> list[str]:
    """One repository per line; blank lines and ``#`` comments are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LeakstopError(f"{path}: cannot read the repositories file: {getattr(exc, 'strerror', None) or exc}") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _clone_dir(spec: RepoSpec) -> Path:
    digest = hashlib.sha256(spec.name.encode()).hexdigest()[:16]
    tail = re.sub(r"[^\w.-]+", "_", spec.name.rstrip("/").rsplit("/", 1)[-1])[:40]
    return Path(spec.workdir) / f"{tail}-{digest}.git"


def _git(args: list[str]) -> None:
    import os

    from scanner.sources.git import git

    # Never a credential prompt: a unit runs unattended, on this machine or a worker.
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    proc = git(".", args, env=env, timeout=3600)
    if proc.returncode != 0:
        last = (proc.stderr.decode("utf-8", "replace").strip().splitlines() or ["git failed"])[-1]
        raise LeakstopError(f"git {args[0] if args[0] != '--git-dir' else args[2]}: {_no_userinfo(last)[:200]}")


def _no_userinfo(text: str) -> str:
    """A URL's user:token@ part removed (git echoes the URL it failed on)."""
    return re.sub(r"//[^/@\s]*@", "//", text)


def local_copy(spec: RepoSpec) -> Path:
    """The repository on this machine: the path itself, or a bare mirror of the URL, cloned on the
    first run and fetched on the next (so incremental state carries over)."""
    if not spec.is_url:
        return Path(spec.source)
    target = _clone_dir(spec)
    if (target / "HEAD").is_file():
        _git(["--git-dir", str(target), "fetch", "--quiet", "--prune", "origin"])
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        _git(["clone", "--quiet", "--mirror", spec.source, str(target)])
    return target


def audit_one(spec: RepoSpec) -> RepoResult:
    """The full history of one repository (incremental), in this process. Never raises for a
    repository's own problem: the reason comes back in ``error``."""
    from dataclasses import replace

    from scanner.config import load_config
    from scanner.engine import Engine
    from scanner.identity import resolve_identity
    from scanner.sources.git import open_repo
    from scanner.sources.history import HistoryOptions
    from scanner.sources.history_state import run_history

    try:
        path = local_copy(spec)
        info = open_repo(path)
        config = load_config(Path(spec.config_path) if spec.config_path else None, path)
        config = config.with_options(max_file_size=spec.max_file_size)
        engine = Engine(config, identity=resolve_identity(config, path, info.git_dir))
        result = run_history(str(path), engine, HistoryOptions(jobs=1), info, incremental=spec.incremental)
    except LeakstopError as exc:
        return RepoResult(spec.name, error=exc.message)
    findings = [replace(f, extra={"repository": spec.name, **f.extra}) for f in result.findings]
    stats = result.stats.as_dict()
    missing = (stats.get("skipped") or {}).get("missing")
    error = f"{missing} blob(s) missing from the object database: the audit of it is incomplete" if missing else None
    return RepoResult(spec.name, findings, stats, error)


# -- where the units run: scanner.execute's local pool or Dask cluster -----------------------------


def run_local(specs: Sequence[RepoSpec], jobs: int, done: Callable[[RepoResult], None]) -> list[RepoResult]:
    """Each repository in a process of a local pool (one process when ``jobs`` is 1)."""
    from scanner.execute import map_local

    return map_local(audit_one, specs, jobs, done)


def run_cluster(specs: Sequence[RepoSpec], address: str, done: Callable[[RepoResult], None],
                retries: int = 3) -> list[RepoResult]:
    """Each repository as a task on an existing Dask distributed cluster. A worker lost mid-run
    has its tasks run again on another (``retries``); results are put back in the given order."""
    from scanner.execute import map_cluster

    return map_cluster(audit_one, specs, address, done, _failed_on_cluster, retries)


def _failed_on_cluster(spec: RepoSpec, exc: BaseException) -> RepoResult:
    return RepoResult(spec.name, error=f"failed on the cluster: {type(exc).__name__}")


def merged(results: Iterable[RepoResult]) -> tuple[list[Finding], dict]:
    """One report's findings and stats: repositories in the given order, each one's findings in
    the order its audit gave them."""
    findings: list[Finding] = []
    per_repo = []
    totals = {"repositories": 0, "repositories_failed": 0, "commits_scanned": 0, "blobs_scanned": 0, "bytes_scanned": 0}
    for r in results:
        findings.extend(r.findings)
        totals["repositories"] += 1
        totals["repositories_failed"] += bool(r.error) and not r.stats
        for k in ("commits_scanned", "blobs_scanned", "bytes_scanned"):
            totals[k] += int(r.stats.get(k, 0) or 0)
        per_repo.append({"repository": r.repository, "findings": len(r.findings),
                         **({"error": r.error} if r.error else {})})
    return findings, {**totals, "skipped": {}, "per_repository": per_repo}


def iter_errors(results: Iterable[RepoResult]) -> Iterator[str]:
    for r in results:
        if r.error:
            yield r.error if r.error.startswith(r.repository) else f"{r.repository}: {r.error}"
