"""Archives inside a scan: zip (jar, war, ear, whl, egg, apk, docx/xlsx…), tar (plain, gzip,
bzip2, xz) and single gzip/bzip2/xz files, nested up to :attr:`Limits.depth`.

A member is reported as ``outer!inner`` (``dist.tar.gz!lib/app.jar!conf/app.properties``); a
compressed single file as itself (``dump.sql.gz``). Nothing is ever extracted to disk; still, a
member whose name climbs out of the archive (absolute, or ``..``: path traversal were it
extracted) marks a hostile archive and is skipped and counted, and links are not followed. Decompression is bounded: a member larger
than the size limit, a zip member claiming more than :attr:`Limits.ratio` times its compressed
size, and everything after one archive has produced :attr:`Limits.total` bytes are skipped and
counted (zip bombs), as are archives nested deeper than the limit.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

from scanner.sources.notebooks import cells

ZIP, TAR, GZIP, BZIP2, XZ = "zip", "tar", "gzip", "bzip2", "xz"
_MAGIC = ((b"PK\x03\x04", ZIP), (b"PK\x05\x06", ZIP), (b"\x1f\x8b", GZIP), (b"BZh", BZIP2),
          (b"\xfd7zXZ\x00", XZ))
SEP = "!"  # between an archive's name and a member's, as jar: URLs and other scanners show it


@dataclass(frozen=True)
class Limits:
    max_member: int  # bytes: a larger member is skipped (the scan's max file size)
    depth: int = 3  # archives inside archives, counting the outermost as 1
    ratio: int = 200  # a zip member claiming more than this times its compressed size is a bomb
    total: int = 512 * 1024 * 1024  # bytes one outermost archive may expand to


def kind_of(data: bytes) -> Optional[str]:
    """The archive format of ``data`` by its magic bytes, or None."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if len(data) > 262 and data[257:262] == b"ustar":
        return TAR
    return None


class _Budget:
    def __init__(self, total: int) -> None:
        self.left = total

    def take(self, n: int) -> bool:
        self.left -= n
        return self.left >= 0


def _unsafe(name: str) -> bool:
    """An absolute name or one with ``..`` (path traversal, were the archive extracted)."""
    name = name.replace("\\", "/")
    return name.startswith("/") or ".." in name.split("/")


def join(outer: str, inner: str) -> str:
    """``outer!inner``, or either alone when the other is empty."""
    return f"{outer}{SEP}{inner}" if outer and inner else outer or inner


def members(data: bytes, limits: Limits, skip: Callable[[str], None], depth: int = 1,
            budget: Optional[_Budget] = None) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every member of the archive in ``data`` ("" for the content of a
    compressed single file), nested archives expanded (``inner!member``); ``skip(reason)``
    counts what was left out. Nothing when ``data`` is not an archive."""
    kind = kind_of(data)
    if kind is None:
        return
    if depth > limits.depth:
        skip("archive nested too deep")
        return
    budget = budget or _Budget(limits.total)
    # The format modules are imported here, by the first archive met: every scan reads this
    # module, few meet an archive (tarfile, zipfile and the compressors cost ~4 ms of start-up).
    import lzma
    import tarfile
    import zipfile

    try:
        for name, body in _READERS[kind](data, limits, skip, budget):
            if _unsafe(name):
                skip("archive member with an unsafe name")
            elif kind_of(body) is not None:
                yield from ((join(name, n), b) for n, b in members(body, limits, skip, depth + 1, budget))
            else:
                yield name, body
    except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError, lzma.LZMAError, ValueError, RuntimeError):
        skip("unreadable archive")


def expand(name: str, data: bytes, limits: Limits, skip: Callable[[str], None]) -> Iterator[tuple[str, bytes, bool]]:
    """What to scan for a file: each archive member as ``(name!member, bytes, True)``, each
    notebook cell and output as ``(name#cellN, text, False)`` (also inside archives), else the
    file itself (an archive that cannot be read too: its bytes are scanned as the binary they
    are)."""
    found = False
    if kind_of(data) is not None:
        for member, body in members(data, limits, skip):
            found = True
            for path, text in cells(join(name, member), body) or [(join(name, member), body)]:
                yield path, text, True
    if not found:
        for path, text in cells(name, data) or [(name, data)]:
            yield path, text, False


def _read_bounded(fh, limits: Limits, skip, budget: _Budget) -> Optional[bytes]:
    body = fh.read(limits.max_member + 1)  # never trust a declared size
    if len(body) > limits.max_member:
        skip("archive member too large")
        return None
    if not budget.take(len(body)):
        skip("archive expansion limit reached")
        return None
    return body


def _zip(data: bytes, limits: Limits, skip, budget: _Budget) -> Iterator[tuple[str, bytes]]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                skip("archive link")
            elif info.flag_bits & 0x1:
                skip("encrypted archive member")
            elif info.file_size > limits.max_member:
                skip("archive member too large")
            elif info.file_size > limits.ratio * max(info.compress_size, 1) and info.file_size > 1 << 20:
                skip("archive member over the compression ratio limit")
            else:
                with zf.open(info) as fh:
                    body = _read_bounded(fh, limits, skip, budget)
                if body is not None:
                    yield info.filename, body


def _tar(data: bytes, limits: Limits, skip, budget: _Budget) -> Iterator[tuple[str, bytes]]:
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for m in tar:
            if m.issym() or m.islnk():
                skip("archive link")
            elif not m.isfile():
                continue
            elif m.size > limits.max_member:
                skip("archive member too large")
            else:
                body = _read_bounded(tar.extractfile(m), limits, skip, budget)
                if body is not None:
                    yield m.name, body


def _compressed(opener: Callable) -> Callable:
    """A compressed tar (its members, decompressed as they are read: its size is not bounded by
    one member's), or a compressed single file (its content, bounded like a member)."""

    def read(data: bytes, limits: Limits, skip, budget: _Budget) -> Iterator[tuple[str, bytes]]:
        with opener(io.BytesIO(data)) as fh:
            if kind_of(fh.read(512)) == TAR:
                yield from _tar(data, limits, skip, budget)  # tarfile decompresses as it goes
                return
            fh.seek(0)
            body = _read_bounded(fh, limits, skip, budget)
        if body is not None:
            yield "", body

    return read


# Openers of the compressed single-file formats, each importing its module when first used.
def _gzip(fileobj):
    import gzip

    return gzip.GzipFile(fileobj=fileobj)


def _bz2(fileobj):
    import bz2

    return bz2.BZ2File(fileobj)


def _lzma(fileobj):
    import lzma

    return lzma.LZMAFile(fileobj)


_READERS = {
    ZIP: _zip,
    TAR: _tar,
    GZIP: _compressed(_gzip),
    BZIP2: _compressed(_bz2),
    XZ: _compressed(_lzma),
}
