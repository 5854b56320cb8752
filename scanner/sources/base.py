"""What every source does, and the registry of sources.

A source turns what the user named (paths, the staged change, a commit range, a repository's
history) into **units** of work, each small and cheap to send to another process (a file to
read, a changed file of a commit, a blob id); **loads** a unit into the chunks the engine scans;
and **attributes** the findings of all its units (the range reports a value once, at its first
commit; the history names first and last commits, authors and liveness). The executor
(:mod:`scanner.execute`) runs any source's units, in this process or in worker processes, and
every source counts what it read in the one statistics record, :class:`ScanStats`.
"""

from __future__ import annotations

import importlib
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional, Protocol, Sequence

from scanner.models import Chunk, Finding
from scanner.sources.textify import TEXT

TOO_LARGE_NAMES = 5  # paths named in the note about what was skipped for its size
STREAMED_NAMES = 5  # paths named in the note about what was scanned in windows
MAX_LISTED = 100  # reports list at most this many unreadable paths (all are counted and warned about)


@dataclass
class ScanStats:
    """What a run read and skipped, whatever its source. ``kind`` names the source (the report's
    ``stats`` say "files" for files and diffs, "blobs" and commits for a history)."""

    kind: str = "files"  # a SOURCES key
    scanned: int = 0  # files or blobs read and scanned
    bytes: int = 0
    commits: int = 0  # commits of a range scanned, or of a history walked
    commits_skipped: int = 0  # history: already walked by an earlier incremental run
    images: int = 0  # image: images and layers read
    layers: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    decoded: Counter = field(default_factory=Counter)  # textify kind (binary, utf-16-le…) -> count
    unreadable: list = field(default_factory=list)  # [path, reason] pairs, the first MAX_LISTED
    streamed: int = 0  # over the size limit, scanned in windows
    streamed_paths: list[str] = field(default_factory=list)  # the first few of them
    too_large: list[str] = field(default_factory=list)  # the first few skipped for their size
    notes: list[str] = field(default_factory=list)  # said on stderr (history: also in the report)

    @property
    def history(self) -> bool:
        return self.kind == "history"

    def fresh(self) -> "ScanStats":
        """An empty record of the same kind (a worker's share, merged back with :meth:`add`)."""
        return ScanStats(self.kind)

    def count(self, kind: str, size: int) -> None:
        """One file or blob read and scanned, decoded from ``kind`` (textify's)."""
        if kind != TEXT:
            self.decoded[kind] += 1
        self.scanned += 1
        self.bytes += size

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    def skip_large(self, shown: str) -> None:
        self.skipped["too large"] += 1
        if len(self.too_large) < TOO_LARGE_NAMES:
            self.too_large.append(shown)

    def stream(self, shown: str) -> None:
        self.streamed += 1
        if len(self.streamed_paths) < STREAMED_NAMES:
            self.streamed_paths.append(shown)

    def cannot_read(self, display: str, exc: OSError) -> None:
        """A path the scan was asked to cover but could not read: counted, listed and warned
        about, so a scan that missed something never passes for a clean one."""
        from scanner.display import display_path

        self.skipped["unreadable"] += 1
        reason = exc.strerror or type(exc).__name__
        if len(self.unreadable) < MAX_LISTED:
            self.unreadable.append([display_path(display), reason])
            print(f"leakstop: warning: cannot read {display_path(display)}: {reason}", file=sys.stderr)

    def add(self, other: "ScanStats") -> None:
        self.scanned += other.scanned
        self.bytes += other.bytes
        self.commits += other.commits
        self.commits_skipped += other.commits_skipped
        self.images += other.images
        self.layers += other.layers
        self.skipped.update(other.skipped)
        self.decoded.update(other.decoded)
        self.unreadable.extend(other.unreadable[: MAX_LISTED - len(self.unreadable)])
        self.streamed += other.streamed
        self.streamed_paths = (self.streamed_paths + other.streamed_paths)[:STREAMED_NAMES]
        self.too_large = (self.too_large + other.too_large)[:TOO_LARGE_NAMES]
        self.notes.extend(other.notes)

    def as_dict(self) -> dict:
        """The ``stats`` of a report."""
        if self.history:
            out: dict[str, Any] = {"commits_scanned": self.commits, "commits_skipped": self.commits_skipped,
                                   "blobs_scanned": self.scanned, "bytes_scanned": self.bytes,
                                   "skipped": dict(self.skipped), "notes": list(self.notes)}
        elif self.kind == "image":
            return {"images_scanned": self.images, "layers_scanned": self.layers, "files_scanned": self.scanned,
                    "bytes_scanned": self.bytes, "skipped": dict(self.skipped), "decoded": dict(self.decoded)}
        else:
            out = {"files_scanned": self.scanned, "bytes_scanned": self.bytes, "skipped": dict(self.skipped)}
        if self.decoded:
            out["decoded"] = dict(self.decoded)
        if self.unreadable:
            # By path: the walk and the reads (in this process or in workers) meet them in
            # an order that depends on when the work was split.
            out["unreadable"] = [{"path": p, "error": why} for p, why in sorted(self.unreadable)]
        if self.streamed:
            out["streamed"] = self.streamed
        if self.kind == "range":
            out["commits_scanned"] = self.commits
        return out

    def size_notes(self, limit: int) -> list[str]:
        """What the summary line cannot say: what was streamed, or not scanned, for its size."""
        from scanner.config import format_size

        out = []
        if self.streamed:
            shown = ", ".join(self.streamed_paths) + (", …" if self.streamed > len(self.streamed_paths) else "")
            out.append(f"{self.streamed} file(s) over the {format_size(limit)} size limit were scanned in windows "
                       f"({shown})")
        n = self.skipped.get("too large", 0)
        if n:
            names = ", ".join(self.too_large) + (", …" if n > len(self.too_large) else "")
            what, advice = (("blob(s)", "raise --max-file-size to include them") if self.history else
                            ("file(s)", "name them on the command line (scanned in windows) or raise --max-file-size"))
            out.append(f"{n} {what} over the {format_size(limit)} size limit were not scanned ({names}); {advice}")
        return out


# A unit's scan result: the unit, and its findings (None: it could not be read at all).
Result = tuple[Any, Optional[list[Finding]]]


class Source(Protocol):
    """The three things every source does (see the module's docstring)."""

    stats: ScanStats
    parallel: bool  # its units may be loaded in worker processes (forked copies of the source)

    def units(self) -> Iterator[Any]:
        """The units of work, in a stable order, each naming where it came from."""
        ...

    def load(self, unit: Any) -> Iterable[Chunk]:
        """The chunks of one unit (none when it is skipped; ``stats`` says why)."""
        ...

    def attribute(self, results: Sequence[Result]) -> list[Finding]:
        """The run's findings from every unit's: in units' order, merged and attributed. A
        source with an ``origin(unit)`` method has its results keep that instead of the unit
        (a unit that carries its bytes need not hold them until the end)."""
        ...


class Plain:
    """The parts most sources share: no attribution beyond the unit's own findings."""

    name = ""  # how errors of its run are prefixed ("history: ..."); empty: they name the path
    parallel = False

    def units(self) -> Iterator[Any]:
        raise NotImplementedError

    def load(self, unit: Any) -> Iterable[Chunk]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[Chunk]:
        """Every chunk of every unit, read here (what the executor scans)."""
        for unit in self.units():
            yield from self.load(unit)

    def attribute(self, results: Sequence[Result]) -> list[Finding]:
        return [f for _, found in results if found for f in found]


# name -> "module:class" of each source, imported when used (the pre-commit hook loads one).
SOURCES: dict[str, str] = {
    "files": "scanner.sources.files:FileSource",
    "staged": "scanner.sources.diff:StagedSource",
    "range": "scanner.sources.diff:RangeSource",
    "history": "scanner.sources.history:HistorySource",
    "image": "scanner.sources.image:ImageSource",
}


def make_source(name: str, *args: Any, **kwargs: Any) -> Source:
    """Build the source registered as ``name``."""
    module, attr = SOURCES[name].split(":")
    return getattr(importlib.import_module(module), attr)(*args, **kwargs)
