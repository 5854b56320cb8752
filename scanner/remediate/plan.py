"""Findings -> a remediation plan: which value goes to which secret name and JSON key, and the
code change for every site. Pure computation, no AWS call: the dry run prints exactly this.

One secret per credential group (``{project}/{env}/{group}``), group from the rule's category;
the JSON key from the variable or config key at the site; one entry per distinct value (by hash)
however many places it appears in.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from urllib.parse import unquote_to_bytes
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Optional, Sequence

from scanner.errors import LeakstopError
from scanner.fsutil import read_json
from scanner.models import Finding, Identity, Redactor, mask
from scanner.remediate.layout import (URI_USERINFO, Credential, connection_at, connection_beside, credentials, role_for,
                                      service_for)
from scanner.remediate.rewriters import Grant, rewrite_all, stored_value
from scanner.remediate.records import Edit, Item, Manual, Site, Workspace, sha256
from scanner.remediate.settings import Settings

if TYPE_CHECKING:  # annotations only: planning is handed its store
    from scanner.remediate.stores.base import SecretStore

__all__ = ["Edit", "Item", "Manual", "Plan", "Site", "Workspace", "build_items", "make_plan", "sha256"]

# rule category -> secret group; anything not listed goes to "api-keys".
GROUPS: dict[str, str] = {
    "database": "database",
    "cloud": "cloud",
    "crypto-keys": "keys",
    "auth": "auth",
    "generic": "app",
}


_DB_NAME = re.compile(r"(?i)(^|[_.-])(db|database|postgres(ql)?|pg|mysql|mariadb|mongo(db)?|redis|sql|jdbc)([_.-]|$)")


def group_for(category: str, key: Optional[str] = None) -> str:
    """Group from the rule category; a generic credential named like a database one -> database."""
    if category == "generic" and key and _DB_NAME.search(key):
        return "database"
    return GROUPS.get(category, "api-keys")


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def json_key(name: str) -> str:
    """``DB_PASSWORD`` -> ``db_password``, ``stripeKey`` -> ``stripe_key``."""
    s = _CAMEL.sub("_", name.strip())
    s = re.sub(r"[^A-Za-z0-9]+", "_", s).strip("_").lower()
    return s or "value"


# The last `name =`, `name:`, `"name":`, `name =>` before the value on its line.
_ASSIGN = re.compile(r"""([A-Za-z_$][A-Za-z0-9_$.-]*)["']?\]?\s*(?:=|:|=>|:=)[^=:]*$""")


def key_from_line(prefix: str) -> Optional[str]:
    """The assigned name at a site, for code the context detectors do not cover (Python, JS)."""
    m = _ASSIGN.search(prefix)
    if not m:
        return None
    name = m.group(1).split(".")[-1].lstrip("$")
    if name.lower() in ("const", "let", "var", "export", "return", "def", "self", "this", "env", "environ"):
        return None
    return name or None


@dataclass
class Plan:
    settings: Settings
    items: list[Item]
    edits: list[Edit]
    manual: list[Manual]
    notes: list[str]
    root: str  # directory that holds the output artifacts
    store: SecretStore  # the store the plan was made for
    ecs: list[dict] = field(default_factory=list)  # Dockerfile ENV wiring for the ECS snippet
    skipped: list[str] = field(default_factory=list)  # report findings outside PATH: "path:line (rule)"
    grants: list[Grant] = field(default_factory=list)  # which consumer file reads which secret

    def secrets(self) -> dict[str, list[Item]]:
        out: dict[str, list[Item]] = {}
        for it in self.items:
            out.setdefault(it.secret_name, []).append(it)
        return out

    def plan_id(self) -> str:
        h = hashlib.sha256()
        for it in self.items:
            h.update(f"{it.secret_name}#{it.json_key}={it.value_hash}\n".encode())
        for e in self.edits:
            h.update(f"{e.path}:{e.before_sha}>{e.after_sha}\n".encode())
        return h.hexdigest()[:16]

    def texts(self) -> list[bytes]:
        """Every planned value, and every site's text that encodes one (base64 in a Secret)."""
        return [it.value for it in self.items if it.value] + [
            s.literal for it in self.items for s in it.sites if s.literal]

    def redactor(self) -> Redactor:
        """Masks every planned value (and random runs) in what the plan shows of the files."""
        return Redactor(self.texts())

    def to_dict(self) -> dict:
        red = self.redactor()
        return {
            "plan_id": self.plan_id(),
            "backend": self.settings.backend,
            "secrets": [it.meta() for it in self.items],
            "files": [{"path": red(e.path), "before_sha256": e.before_sha, "after_sha256": e.after_sha,
                       "kind": e.kind, "notes": [red(n) for n in e.notes]} for e in self.edits],
            "manual": [{"site": f"{red(m.site.path)}:{m.site.line}:{m.site.column}", "reason": m.reason}
                       for m in self.manual],
            "skipped": [red(s) for s in self.skipped],
            "grants": self.grant_statements(),
        }

    def grant_statements(self) -> list[dict]:
        """Where each consumer is declared (a SAM function, a task definition, a serverless
        provider) and the IAM statements that let it read exactly its secrets: what a platform
        rewriter attaches there (``attached``) or the user adds."""
        region = self.settings.region or "us-east-1"
        kms = self.settings.kms_key_id if (self.settings.kms_key_id or "").startswith("arn:") else None
        red = self.redactor()
        return [{"file": red(g.path), "principal": g.principal, "secrets": g.secret_names, "attached": g.attached,
                 "statements": self.store.read_statements([self.store.resource_pattern(n, region) for n in g.secret_names],
                                                          region, kms)}
                for g in self.grants]


def _secret_name(settings: Settings, store: SecretStore, it: Item, service: str) -> str:
    name = settings.template_for(store).format(project=settings.project, env=settings.env, group=it.group,
                                                service=service, key=it.role)
    store.check_name(name)
    return name


def _site_key(f: Finding, line_text: str) -> Optional[str]:
    if f.key:
        return f.key
    prefix = line_text[: max(f.column - 1, 0)]
    uri = URI_USERINFO.search(prefix)  # a URI's password: the name is what the URI is assigned to
    return key_from_line(prefix[: uri.start()] if uri else prefix)


def uri_password(line: str, f: Finding) -> Optional[bytes]:
    """The decoded password when a connection URI holds it percent-encoded (``p%40ss`` is the
    password ``p@ss``): that is what gets stored, and the URI is rebuilt encoding it."""
    if b"%" not in f.secret or connection_at(line, f.column, f.end_column) is None:
        return None
    raw = unquote_to_bytes(f.secret)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return raw if raw != f.secret else None


def build_items(findings: Sequence[Finding], settings: Settings, store: SecretStore,
                read_line: Callable[[str, int], str], identity: Identity, known: Optional[dict] = None,
                stored: Optional[Callable[[Site, bytes], Optional[bytes]]] = None,
                read_lines: Optional[Callable[[str], list[str]]] = None) -> list[Item]:
    """Group findings by value; name each value's secret and key. ``read_line(path, n)`` -> text.
    ``known`` (value hash -> (name, key), from the journal) keeps names stable across a resume.
    ``stored(site, text)`` gives the value to store when the text at a site encodes it (base64 in
    a Kubernetes Secret): the item then holds the decoded value, the site its text.

    Names come from the key at each site with every value and random run masked (a token that is
    part of a key name never becomes part of a secret name, a JSON key or an env variable)."""
    by_hash: dict[str, Item] = {}
    first: dict[str, tuple[str, str]] = {}  # value hash -> (category, provider) of its first finding
    ordered = sorted(findings, key=lambda f: (f.path, f.line, f.column))
    red = Redactor(f.secret for f in ordered if f.secret)
    for f in ordered:
        if not f.secret:
            raise LeakstopError(f"{f.path}:{f.line}: finding has no value in memory (internal error)")
        line = read_line(f.path, f.line)
        site_key = red(_site_key(f, line))
        site = Site(f.path, f.line, f.column, f.end_column, f.rule_id, site_key)
        value = (stored(site, f.secret) if stored else None) or uri_password(line, f) or f.secret
        if value != f.secret:
            site.literal = f.secret
        h = identity.value_hash(value)
        it = by_hash.get(h)
        if it is None:
            it = Item(value_hash=h, secret_name="", json_key=None, group=group_for(f.category), rule_ids=[],
                      providers=[], masked=mask(value.decode("utf-8", "replace")), sites=[], env_name="",
                      value=value)
            by_hash[h] = it
            first[h] = (f.category, f.provider)
        if it.connection is None:
            it.connection = connection_at(line, f.column, f.end_column)
        if it.connection is None and read_lines is not None and (f.category == "database" or _DB_NAME.search(site_key or "")):
            it.connection = connection_beside(read_lines(f.path), site_key)
        it.sites.append(site)
        if f.rule_id not in it.rule_ids:
            it.rule_ids.append(f.rule_id)
        if f.provider not in it.providers:
            it.providers.append(f.provider)
    items = sorted(by_hash.values(), key=lambda i: (i.sites[0].path, i.sites[0].line, i.sites[0].column))
    aliases = settings.services or {}
    for it in items:
        raw = (next((s.key for s in it.sites if s.key), None) or it.rule_ids[0]).replace("…", "")
        site_key = raw if raw != it.rule_ids[0] else None
        it.env_name = re.sub(r"[^A-Za-z0-9_]", "_", raw).rstrip("_").upper() if site_key else json_key(raw).upper()
        if it.group == "app":
            it.group = group_for("generic", raw)
        category, provider = first[it.value_hash]
        it.role = role_for(it.rule_ids[0], site_key, category, provider)
        it.service = service_for(provider, site_key, category, it.connection, aliases)
    _name(credentials(items), settings, store, known or {})
    return items


def _name(creds: list[Credential], settings: Settings, store: SecretStore, known: dict) -> None:
    """Give each credential a secret (``service``, else ``service-2``...) whose keys are its
    roles; names from the journal (``known``: value hash -> (name, key)) are kept."""
    taken: dict[str, dict[str, str]] = {}  # secret/parameter name -> key -> value hash
    for h, (name, key) in known.items():
        taken.setdefault(name, {})[key or ""] = h
    for cred in creds:
        mine = {it.value_hash for it in cred.items}
        fixed = [it for it in cred.items if it.value_hash in known]
        for it in fixed:
            it.secret_name, it.json_key = known[it.value_hash]
        rest = [it for it in cred.items if it.value_hash not in known]
        if not rest:
            continue
        if fixed and store.grouped:  # the rest of a credential joins the secret it already has
            names = {it.value_hash: fixed[0].secret_name for it in rest}
        else:
            n = 1
            while True:
                service = cred.service if n == 1 else f"{cred.service}-{n}"
                names = {it.value_hash: _secret_name(settings, store, it, service) for it in rest}
                if all(set(taken.get(name, {}).values()) <= mine for name in names.values()):
                    break
                n += 1
        for it in rest:
            it.secret_name = names[it.value_hash]
            slot = taken.setdefault(it.secret_name, {})
            it.json_key = _free_key(slot, it) if store.grouped else None
            slot[it.json_key or ""] = it.value_hash


def _free_key(slot: dict[str, str], it: Item) -> str:
    n = 1
    while True:
        key = it.role if n == 1 else f"{it.role}_{n}"
        if slot.get(key, it.value_hash) == it.value_hash:
            return key
        n += 1


def findings_from_report(report: Path, base: Path, ruleset: Sequence, identity: Identity,
                         within: Optional[Path] = None) -> tuple[list[Finding], list[str]]:
    """Findings of a leakstop JSON report, with each value re-read from its file and verified by
    the report's fingerprint (reports never hold values) under ``identity``'s key. Findings in
    files outside ``within`` (the PATH being remediated; symbolic links resolved) are not read:
    they come back as ``path:line (rule)`` in the second list, to be reported as skipped."""
    try:
        doc = read_json(report)
    except (OSError, ValueError) as exc:
        raise LeakstopError(f"{report}: cannot read a leakstop JSON report: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise LeakstopError(f"{report}: not a leakstop JSON report (no 'findings' list)")
    made = (doc.get("fingerprint_key") or {}).get("key_id") if isinstance(doc.get("fingerprint_key"), dict) else None
    if made and made != identity.key_id:
        raise LeakstopError(f"{report}: made under another fingerprint key (key id {made}, now {identity.key_id}); "
                            f"set the same LEAKSTOP_FINGERPRINT_KEY or fingerprint_salt, or re-scan")
    rules = {r.id: r for r in ruleset}
    root = within.resolve() if within is not None else None
    out, skipped = [], []
    texts: dict[Path, tuple[str, list[int]]] = {}  # file -> text, line starts
    for i, d in enumerate(doc["findings"]):
        try:
            rid, path, line, col, end = d["rule_id"], d["path"], int(d["line"]), int(d["column"]), int(d["end_column"])
            fp = d["fingerprint"]
            if not all(isinstance(v, str) for v in (rid, path, fp)):
                raise TypeError
        except (KeyError, TypeError, ValueError, OverflowError):  # OverflowError: int(Infinity)
            raise LeakstopError(f"{report}: finding {i + 1} lacks rule_id/path/line/column/end_column/fingerprint") from None
        if d.get("commit"):
            continue  # a history finding: the value is not in the working tree
        file = Path(path) if os.path.isabs(path) else base / path
        if root is not None and not _inside(file, root):
            skipped.append(f"{path}:{line} ({rid})")
            continue
        value = _value_at(file, path, line, col, end, texts)
        if not value or identity.fingerprint(rid, value) != fp:
            raise LeakstopError(f"{path}:{line}: file changed since the report was made (fingerprint mismatch); re-scan")
        rule = rules.get(rid)
        out.append(Finding(
            rule_id=rid, provider=d.get("provider") or (rule.provider if rule else "unknown"),
            description=d.get("description", ""), severity=d.get("severity", "high"),
            category=d.get("category") or (rule.category if rule else "api-keys"),
            path=path, line=line, column=col, end_column=end, masked=d.get("masked", ""), fingerprint=fp,
            secret_hash=identity.value_hash(value), key=d.get("key"), secret=value,
        ))
    return out, skipped


def _inside(file: Path, root: Path) -> bool:
    try:
        real = file.resolve()
    except (OSError, RuntimeError, ValueError):  # a link loop, a NUL byte: not provably inside
        return False
    return real == root or root in real.parents


def _value_at(file: Path, path: str, line: int, col: int, end: int, texts: dict) -> bytes:
    """The text from ``line``:``col`` spanning ``end - col`` characters, as the engine counts them
    (UTF-8 decoded with replacement), across line ends: a private key block is one value."""
    if file not in texts:
        try:
            text = file.read_bytes().decode("utf-8", "replace")
        except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
            raise LeakstopError(f"{path}: cannot read file named in the report: {getattr(exc, 'strerror', None) or exc}") from None
        texts[file] = (text, [0] + [m.end() for m in re.finditer("\n", text)])
    text, starts = texts[file]
    if not (0 < line <= len(starts)) or col < 1 or end <= col:
        return b""
    start = starts[line - 1]
    return text[start + col - 1 : start + end - 1].encode("utf-8")


def make_plan(findings: Sequence[Finding], settings: Settings, store: SecretStore, base: Path, identity: Identity,
              known: Optional[dict] = None) -> Plan:
    cache: dict[str, list[str]] = {}

    def read_line(path: str, n: int) -> str:
        if path not in cache:
            try:
                cache[path] = (base / path).read_bytes().decode("utf-8", "replace").split("\n")
            except OSError:
                cache[path] = []
        lines = cache[path]
        return lines[n - 1] if 0 < n <= len(lines) else ""

    def read_lines(path: str) -> list[str]:
        read_line(path, 0)
        return cache[path]

    ws = Workspace(base)
    items = build_items(findings, settings, store, read_line, identity, known,
                        lambda site, text: stored_value(site.path, ws.read(site.path), site, text), read_lines)
    ctx = rewrite_all(ws, items, settings, store)
    return Plan(settings=settings, items=items, edits=ws.edits(), manual=ctx.manual, notes=ctx.notes,
                root=settings.output_dir, store=store, ecs=ctx.ecs, grants=ctx.grants)


def masked_diff(edit: Edit, before: Optional[bytes], values: Iterable[bytes]) -> str:
    """A unified diff in which every planned value (wherever it occurs, a key block also line by
    line) and every random-looking run is masked: the plan output never shows one."""
    parts: list[bytes] = []
    for v in values:
        parts.append(v)
        if b"\n" in v:  # no rewrite may leave part of a key block unmasked
            parts += [ln for ln in v.split(b"\n") if len(ln.strip()) >= 8]
    red = Redactor(parts, anywhere=True)
    a = red((before or b"").decode("utf-8", "replace"))
    b = red(edit.after.decode("utf-8", "replace"))
    path = red(edit.path)
    lines = difflib.unified_diff(a.splitlines(keepends=True), b.splitlines(keepends=True),
                                 fromfile=f"a/{path}" if before is not None else "/dev/null",
                                 tofile=f"b/{path}", n=2)
    out = "".join(l if l.endswith("\n") else l + "\n\\ No newline at end of file\n" for l in lines)
    return out
