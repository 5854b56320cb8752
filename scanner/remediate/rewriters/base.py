"""What every rewriter shares: the record it works on, the text helpers, and the ``Rewriter``
shape the registry (:data:`scanner.remediate.rewriters.REWRITERS`) holds.

A rewriter gets the workspace, a path and the (site, item) pairs in that file, writes the new
content through the workspace and lists the sites it could not handle as manual steps (the value
is still stored and flagged). It asks ``ctx.store`` for anything that depends on the store (how
a platform refers to a stored value, labels, ARN patterns, IAM statements) and records in
``ctx.grants`` which consumer reads which secret, so the IAM statement can be attached where the
consumer is declared.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Callable, NamedTuple, Optional

from scanner.remediate.layout import URI_TAIL, URI_USERINFO
from scanner.remediate.records import Item, Manual, Site, Workspace
from scanner.remediate.settings import Settings

if TYPE_CHECKING:  # annotations only: rewriters never import a store module
    from scanner.remediate.stores.base import SecretStore

Pairs = list[tuple[Site, Item]]


@dataclass
class Grant:
    """A consumer declared in a file reads these secrets: its IAM statement belongs there."""

    path: str  # the file declaring the consumer (template.yaml, serverless.yml, a task definition)
    principal: str  # how that file names it: a logical id, a function name, "provider", a role
    secret_names: list[str]
    attached: bool = False  # the rewriter added the statement to the file itself


@dataclass
class Context:
    settings: Settings
    store: SecretStore
    region: str
    manual: list[Manual] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ecs: list[dict] = field(default_factory=list)  # Dockerfile ENV -> ECS task-definition secrets
    grants: list[Grant] = field(default_factory=list)
    # Work that needs every file rewritten first (a JS entry point that loads what all modules
    # read), by key so it runs once; rewrite_all calls each after the last file.
    finish: dict[str, Callable[[], None]] = field(default_factory=dict)

    def grant(self, path: str, principal: str, items: list[Item], attached: bool = False) -> None:
        names = sorted({it.secret_name for it in items})
        self.grants.append(Grant(path, principal, names, attached))


def uri_template(body: str, va: int, vb: int) -> Optional[str]:
    """When ``body`` is exactly one connection URI whose password is ``body[va:vb]``: the URI as a
    template, ``{username}``, ``{password}``, ``{host}``, ``{port}``, ``{dbname}`` where the URI had
    them (other text kept, braces doubled), for the helpers to rebuild it from an RDS-style secret."""
    head = URI_USERINFO.search(body[:va])
    tail = URI_TAIL.match(body[vb:])
    if not head or head.start() != 0 or not tail or tail.end() != len(body) - vb or "\\" in body:
        return None
    esc = lambda s: s.replace("{", "{{").replace("}", "}}")  # noqa: E731
    return (esc(head.group(1)) + "://" + ("{username}" if head.group(2) else "") + ":{password}@{host}"
            + (":{port}" if tail.group(2) else "") + ("/{dbname}" if tail.group(3) is not None else "")
            + esc(tail.group(4) or ""))


class EnvNames:
    """The environment variable each value's code reads first, one per value within a file: a
    name a different value already took (two ``token`` keys) falls back to the value's JSON key,
    then to a numbered name."""

    def __init__(self) -> None:
        self.taken: dict[str, str] = {}  # variable -> value hash

    def pick(self, env: str, item: Item, explicit: bool = False) -> str:
        """``explicit``: the code names the variable itself (``os.environ.get("X", …)``): kept."""
        if explicit:
            self.taken.setdefault(env, item.value_hash)
            return env
        fallback = re.sub(r"[^A-Za-z0-9_]", "_", item.json_key or env).upper()
        for cand in [env, fallback] + [f"{fallback}_{i}" for i in range(2, 100)]:
            if self.taken.setdefault(cand, item.value_hash) == item.value_hash:
                return cand
        return env


@dataclass(frozen=True)
class Rewriter:
    """One file kind: does it take this file (name and content), and the rewrite itself."""

    claims: Callable[[str, Optional[bytes]], bool]
    rewrite: Callable[[Workspace, str, Pairs, Context], None]
    # stored(path, data, site, text): the value to store for a site whose text encodes it (a
    # Kubernetes Secret's base64 data), or None to store the text itself.
    stored: Optional[Callable[[str, Optional[bytes], Site, bytes], Optional[bytes]]] = None
    # A connection URI whose password is stored decoded (it was percent-encoded in the file) must be
    # rebuilt around it, encoding it again; a rewriter that only puts a reference where the password
    # was would give the platform the decoded text inside the URI, so such sites are manual steps.
    rebuilds_uris: bool = False


def decode(ws: Workspace, path: str) -> Optional[tuple[str, str]]:
    data = ws.read(path)
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    nl = "\r\n" if "\r\n" in text else "\n"
    return text, nl


def text_or_manual(ws: Workspace, path: str, pairs: "Pairs", ctx: "Context") -> Optional[tuple[str, str]]:
    """The file's text and newline, or None after listing its sites as manual steps."""
    dec = decode(ws, path)
    if dec is None:
        ctx.manual += [Manual(s, "not UTF-8 text") for s, _ in pairs]
    return dec


class TextFile(NamedTuple):
    text: str
    nl: str  # the file's newline ("\r\n" or "\n")
    starts: list[int]  # offset of each line
    lines: list[str]  # text.split("\n"): a CRLF file's lines keep their "\r"


def lines_or_manual(ws: Workspace, path: str, pairs: "Pairs", ctx: "Context") -> Optional[TextFile]:
    """A line-oriented file's text, newline, line offsets and lines; or None after listing its
    sites as manual steps (not UTF-8 text)."""
    dec = text_or_manual(ws, path, pairs, ctx)
    return TextFile(dec[0], dec[1], line_starts(dec[0]), dec[0].split("\n")) if dec else None


def line_starts(text: str) -> list[int]:
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    return starts


def locate(text: str, starts: list[int], site: Site, item: Item) -> Optional[tuple[int, int]]:
    """Absolute character span of the value at a site, checked against the site's text."""
    if site.line > len(starts):
        return None
    a = starts[site.line - 1] + site.column - 1
    value = (site.literal if site.literal is not None else item.value).decode("utf-8", "replace")
    b = a + len(value)
    return (a, b) if text[a:b] == value else None


def splice(text: str, repl: list[tuple[int, int, str]]) -> str:
    """``text`` with each (a, b, new) edit made; insertions at one position keep their list order."""
    for _, (a, b, s) in sorted(enumerate(repl), key=lambda e: (e[1][0], e[1][1], e[0]), reverse=True):
        text = text[:a] + s + text[b:]
    return text


def q(s: str) -> str:
    return json.dumps(s)


def replace_values(ws: Workspace, path: str, pairs: Pairs, ctx: "Context", placeholder: Callable[[Item], str],
                    kind: str, note: str) -> None:
    dec = text_or_manual(ws, path, pairs, ctx)
    if dec is None:
        return
    repl = value_edits(dec[0], path, pairs, ctx, placeholder)
    if repl:
        ws.write(path, splice(dec[0], repl).encode("utf-8"), kind, note)


def value_edits(text: str, path: str, pairs: Pairs, ctx: "Context",
                placeholder: Callable[[Item], str]) -> list[tuple[int, int, str]]:
    """The edits putting ``placeholder(item)`` where each value is (quoted where YAML needs it)."""
    starts = line_starts(text)
    yaml_like = os.path.splitext(path)[1].lower() in (".yaml", ".yml", ".template", "")
    repl = []
    for site, item in pairs:
        loc = locate(text, starts, site, item)
        if loc is None:
            ctx.manual.append(Manual(site, "value not found at its position (file changed?)"))
            continue
        a, b = loc
        ph = placeholder(item)
        before = text[starts[site.line - 1] : a]
        quoted = a > 0 and text[a - 1] in "'\"" and b < len(text) and text[b] == text[a - 1]
        # In a YAML block scalar (`key: |` then indented lines, as key blocks are written) any
        # text is literal: the placeholder goes in as is, a quote would become part of the value.
        in_block = yaml_like and not before.strip() and _opens_block_scalar(text, starts, site.line)
        if in_block and "\n" in text[a:b]:
            # The value as found keeps the block's indentation on its later lines, which YAML
            # strips: the lookup would not return what the file meant.
            ctx.manual.append(Manual(site, "a multi-line value in a YAML block scalar: replace the block by hand"))
            continue
        if yaml_like and not quoted and not in_block and re.search(r"(^|:\s|-\s)\s*$", before):
            ph = q(ph)  # a plain YAML scalar may not start with '{'
        repl.append((a, b, ph))
    return repl


_BLOCK_INDICATOR = re.compile(r"[|>][1-9+-]{0,2}\s*(#.*)?$")


def _opens_block_scalar(text: str, starts: list[int], line: int) -> bool:
    """Does the nearest non-blank line above ``line`` end with a YAML block indicator (| or >)?"""
    for n in range(line - 1, 0, -1):
        prev = text[starts[n - 1] : starts[n]].rstrip("\r\n")
        if prev.strip():
            return bool(_BLOCK_INDICATOR.search(prev))
    return False


def ignored(ws: Workspace, path: str) -> bool:
    """Is ``path`` ignored by git (work tree rules), counting pending .gitignore edits?"""
    from scanner.globs import PathPatterns

    parts = PurePosixPath(path).parts
    for depth in range(len(parts)):
        directory = "/".join(parts[:depth]) or "."
        gi = ws.read(os.path.join(directory, ".gitignore") if directory != "." else ".gitignore")
        if gi:
            if PathPatterns(gi.decode("utf-8", "replace").splitlines()).match("/".join(parts[depth:])):
                return True
    return False


def ensure_ignored(ws: Workspace, path: str) -> bool:
    """Add ``/NAME`` to the .gitignore beside ``path`` unless git already ignores it; True when added."""
    if ignored(ws, path):
        return False
    directory = str(PurePosixPath(path).parent)
    gi_path = os.path.join(directory, ".gitignore") if directory != "." else ".gitignore"
    gi = (ws.read(gi_path) or b"").decode("utf-8", "replace")
    if gi and not gi.endswith("\n"):
        gi += "\n"
    gi += "/" + PurePosixPath(path).name + "\n"
    ws.write(gi_path, gi.encode("utf-8"), "gitignore", f"ignore {PurePosixPath(path).name}")
    return True
