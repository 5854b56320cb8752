"""How moved values are laid out in the store: one secret per credential.

* **Role**: what a value is (``secret_access_key``, ``api_key``, ``password``, ``token``...), from
  the rule that found it, else from the name it was assigned to. It is the JSON key (or, for a
  one-value-per-name store, the last part of the name); never a neighbouring user name.
* **Service**: whose credential it is: the rule's provider (``aws``, ``stripe``), or for
  context rules (a ``.env`` line, a compose variable, a generic password) the first telling word
  of the assigned name (``SENDGRID_API_KEY`` -> ``sendgrid``, ``DB_PASSWORD`` -> ``database``);
  ``remediation.services`` maps a provider or such a word to another service name.
* **Credential**: values of one service, each in a different role, found in the same file are
  parts of one credential (an AWS key id and its secret key) and share one secret. Two values in
  the same role (two Stripe keys) are two credentials: ``stripe``, then ``stripe-2``.
* **Connection**: a password inside a connection URI brings the URI's other parts, stored beside
  it under RDS-style keys (``engine``, ``host``, ``port``, ``username``, ``dbname``); the item
  keeps the URI's shape (scheme, query) so a rewriter can rebuild the URI from the secret.
"""

from __future__ import annotations

import re
from urllib.parse import unquote
from dataclasses import dataclass, field
from typing import Optional

from scanner.remediate.records import Item

# Providers that name where a value was found (a file format, a generic pattern), not whose it is.
CONTEXT_PROVIDERS = frozenset({
    "generic-secret", "generic-password", "docker", "docker-compose", "dotenv", "config", "kubernetes",
    "terraform", "connection-uri", "url-credentials", "http-auth", "netrc", "jdbc", "odbc", "private-key",
    "jwt", "password-hash",
})

# Of those, the ones whose rule ids do not say what the value is either: the assigned name does.
LOCATION_PROVIDERS = frozenset({
    "generic-secret", "docker", "docker-compose", "dotenv", "config", "kubernetes", "terraform",
})

# (pattern over a rule id or an assigned name, role); the first match wins.
_ROLES: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(p, re.I), r) for p, r in (
    (r"secret[-_]?access[-_]?key", "secret_access_key"),
    (r"access[-_]?key[-_]?id", "access_key_id"),
    (r"session[-_]?token", "session_token"),
    (r"private[-_]?key|ssh[-_]?key|pem\b", "private_key"),
    (r"client[-_]?secret", "client_secret"),
    (r"client[-_]?id", "client_id"),
    (r"webhook", "webhook_secret"),
    (r"passw(or)?d|passwd|(^|[-_])pwd($|[-_])|(^|[-_])pass($|[-_])", "password"),
    (r"secret[-_]?key", "secret_key"),
    (r"signing[-_]?(key|secret)", "signing_key"),
    (r"token|(^|[-_])pat($|[-_])", "token"),
    (r"api[-_]?key|(^|[-_])key($|[-_])", "api_key"),
    (r"secret", "secret"),
))

# Words of an assigned name that say what a value is, not whose: skipped when naming the service.
_NOT_SERVICE = frozenset({
    "api", "key", "keys", "secret", "secrets", "token", "tokens", "password", "passwd", "pwd", "pass", "access",
    "id", "auth", "private", "client", "app", "my", "the", "value", "credential", "credentials", "live", "test",
    "prod", "production", "dev", "staging", "build", "env", "default", "main", "session", "signing", "webhook",
    "user", "username", "login", "url", "uri", "dsn", "conn", "connection", "string", "admin", "root",
})

_DB_WORD = re.compile(r"^(db|database|postgres(ql)?|pg|psql|mysql|mariadb|mongo(db)?|redis|sql|jdbc|rds)$")

# URI scheme -> RDS-style engine name, and the engine's default port.
_ENGINES = {"postgres": "postgres", "postgresql": "postgres", "pgsql": "postgres", "mysql": "mysql",
            "mariadb": "mariadb", "mongodb": "mongodb", "redis": "redis", "rediss": "redis",
            "mssql": "sqlserver", "sqlserver": "sqlserver", "oracle": "oracle", "cockroachdb": "postgres",
            "amqp": "rabbitmq", "amqps": "rabbitmq"}
_PORTS = {"postgres": "5432", "mysql": "3306", "mariadb": "3306", "mongodb": "27017", "redis": "6379",
          "sqlserver": "1433", "oracle": "1521", "rabbitmq": "5672"}


def _words(name: str) -> list[str]:
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", s.lower()) if w]


def role_for(rule_id: str, key: Optional[str], category: str, provider: str) -> str:
    """What the value is: from the rule id, else the assigned name (the name first for context
    rules, whose ids say where a value was found, not what it is)."""
    texts = (key or "", rule_id) if provider in LOCATION_PROVIDERS else (rule_id, key or "")
    for text in texts:
        words = "_".join(_words(text))
        for pat, role in _ROLES:
            if words and pat.search(words):
                return role
    return "password" if category == "database" else "secret"


def service_for(provider: str, key: Optional[str], category: str, connection: Optional[dict],
                aliases: dict[str, str]) -> str:
    """Whose credential it is (see the module docstring); ``aliases`` is ``remediation.services``."""
    if connection and connection.get("engine"):
        svc = connection["engine"]
    elif provider and provider not in CONTEXT_PROVIDERS:
        svc = provider
    else:
        words = _words(key or "")
        if any(_DB_WORD.match(w) for w in words) or category == "database":
            svc = "database"
        else:
            svc = next((w for w in words if w not in _NOT_SERVICE and not w.isdigit()), "app")
    return aliases.get(svc, aliases.get(provider, svc))


URI_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^:/@\s\"'`]*):$")
URI_TAIL = re.compile(r"^@([^/:?#\s\"'`]+)(?::(\d+))?(?:/([^?#\s\"'`]*))?(\?[^#\s\"'`]*)?")
_URI_TAIL = URI_TAIL


def connection_at(line: str, column: int, end_column: int) -> Optional[dict]:
    """The connection URI a password sits in (``scheme://user:PASSWORD@host:port/db?query``), as
    RDS-style fields plus the URI's shape; None when the value is not such a password."""
    head = URI_USERINFO.search(line[: max(column - 1, 0)])
    tail = _URI_TAIL.match(line[end_column - 1 :])
    if not head or not tail:
        return None
    scheme = head.group(1)
    base = scheme.lower().split("+")[0]
    engine = _ENGINES.get(base, base)
    port = tail.group(2) or _PORTS.get(engine)
    out = {"engine": engine, "host": tail.group(1), "username": unquote(head.group(2)), "dbname": tail.group(3) or "",
           "scheme": scheme, "query": (tail.group(4) or "")[1:]}
    if port:
        out["port"] = port
    return out


_SETTING = re.compile(r"""^\s*(?:export\s+)?["']?([A-Za-z_][A-Za-z0-9_.]*)["']?\s*[=:]\s*["']?([^"'\s#,;]+)""")
_PASSWORD_KEY = re.compile(r"(?i)^(.*?)(password|passwd|pass|pwd)$")
_NEIGHBOURS = {"host": ("HOST", "HOSTNAME", "SERVER", "ADDRESS"), "username": ("USER", "USERNAME", "LOGIN"),
               "port": ("PORT",), "dbname": ("NAME", "DATABASE", "DB", "DBNAME", "DB_NAME")}
_ENGINE_WORDS = {"postgres": "postgres", "postgresql": "postgres", "pg": "postgres", "psql": "postgres",
                 "mysql": "mysql", "mariadb": "mariadb", "mongo": "mongodb", "mongodb": "mongodb", "redis": "redis",
                 "mssql": "sqlserver", "sqlserver": "sqlserver", "oracle": "oracle"}


def connection_beside(lines: list[str], key: Optional[str]) -> Optional[dict]:
    """A password assigned as ``PREFIX_PASSWORD`` (a .env, compose or config setting) with its
    ``PREFIX_HOST``, ``PREFIX_USER``, ``PREFIX_PORT``, ``PREFIX_NAME`` settings in the same file:
    the same RDS-style fields a URI gives (engine from the prefix, else the port)."""
    m = _PASSWORD_KEY.match(key or "")
    if not m or not m.group(1).strip("_.-"):  # a bare PASSWORD: no prefix ties HOST or USER to it
        return None
    prefix = m.group(1).upper()
    settings = {}
    for line in lines:
        s = _SETTING.match(line)
        if s and s.group(1).upper().startswith(prefix):
            settings[s.group(1).upper()[len(prefix):]] = s.group(2)
    out = {}
    for part, names in _NEIGHBOURS.items():
        found = next((settings[n] for n in names if settings.get(n)), None)
        if found and not found.startswith("$"):  # a ${VAR} reference is not a value
            out[part] = found
    if not out:
        return None
    engine = next((_ENGINE_WORDS[w] for w in _words(prefix) if w in _ENGINE_WORDS), None)
    engine = engine or next((e for e, p in _PORTS.items() if p == out.get("port")), None)
    if engine:
        out["engine"] = engine
    return out


# The secret keys a connection contributes beside its password (RDS's secret layout).
CONNECTION_KEYS = ("engine", "host", "port", "username", "dbname")


def connection_fields(connection: Optional[dict]) -> dict[str, str]:
    if not connection:
        return {}
    return {k: connection[k] for k in CONNECTION_KEYS if connection.get(k)}


@dataclass
class Credential:
    """Values that belong together (one secret): one per role."""

    service: str
    items: list[Item] = field(default_factory=list)

    def roles(self) -> set[str]:
        return {it.role for it in self.items}

    def files(self) -> set[str]:
        return {s.path for it in self.items for s in it.sites}

    def fields(self) -> dict[str, str]:
        """Non-secret companions stored beside the values (a connection's host, port...)."""
        out: dict[str, str] = {}
        for it in self.items:
            for k, v in connection_fields(it.connection).items():
                out.setdefault(k, v)
        return out

    def takes(self, it: Item) -> bool:
        """Part of this credential: same service, a role not yet filled, found in a shared file,
        and (for connections) the same server."""
        if it.service != self.service or it.role in self.roles():
            return False
        if not self.files() & {s.path for s in it.sites}:
            return False
        mine, theirs = self.fields(), connection_fields(it.connection)
        return all(mine.get(k, v) == v for k, v in theirs.items())


def credentials(items: list[Item]) -> list[Credential]:
    """Group items (in site order) into credentials."""
    out: list[Credential] = []
    for it in items:
        cred = next((c for c in out if c.takes(it)), None)
        if cred is None:
            cred = Credential(it.service)
            out.append(cred)
        cred.items.append(it)
    return out
