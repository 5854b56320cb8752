"""What some verifiers need beside the value, read from the finding's own file: the database
URI holding a password, the shop a Shopify token belongs to. Only a file on disk (``scan``; no
commit) is read, at most MAX_READ bytes of it; git modes have no such context (``unknown``)."""

from __future__ import annotations

import os
import re
from typing import Callable, Optional
from urllib.parse import urlsplit

from scanner.models import Finding

MAX_READ = 1 << 20
URI = re.compile(rb"[a-z][a-z0-9+.-]{1,20}://[^\s'\"<>`]+", re.IGNORECASE)


def source_text(f: Finding) -> Optional[bytes]:
    """The start of the finding's file, when it is a file on disk (scan mode)."""
    if f.commit is not None or not os.path.isfile(f.path):
        return None
    try:
        with open(f.path, "rb") as fh:
            return fh.read(MAX_READ)
    except OSError:
        return None


def source_line(f: Finding) -> Optional[bytes]:
    text = source_text(f)
    lines = text.split(b"\n") if text is not None else []
    return lines[f.line - 1] if 0 < f.line <= len(lines) else None


def uri_of(f: Finding) -> bytes:
    """The URI on the finding's line whose password is the finding's value, or b""."""
    for m in URI.finditer(source_line(f) or b""):
        try:
            password = urlsplit(m.group().decode("utf-8", "replace")).password
        except ValueError:
            continue
        if password is not None and password.encode() == f.secret:
            return m.group()
    return b""


def subdomain_of(suffix: str) -> Callable[[Finding], bytes]:
    """A locator: the one ``NAME.suffix`` host the finding's file names (b"" when none or several)."""
    pattern = re.compile(rb"\b([a-z0-9][a-z0-9-]{0,62})" + re.escape(suffix.encode()) + rb"\b", re.IGNORECASE)

    def locate(f: Finding) -> bytes:
        names = {m.group(1).lower() for m in pattern.finditer(source_text(f) or b"")}
        return names.pop() if len(names) == 1 else b""

    return locate


def site_named(pattern: re.Pattern, label: Callable[[re.Match], str]) -> Callable[[Finding], bytes]:
    """A locator: the one provider site (region) the finding's file names, as ``label`` calls the
    match of ``pattern`` that names it (b"" when none or several)."""

    def locate(f: Finding) -> bytes:
        sites = {label(m) for m in pattern.finditer(source_text(f) or b"")}
        return sites.pop().encode() if len(sites) == 1 else b""

    return locate
