"""Shared judgement for context detectors: is this key credential-like, is this value a literal
worth reporting, and where do URIs and connection strings embed a password.

Pure functions over strings; every detector module uses them so that a Dockerfile ``ENV``, a
``.env`` line and a YAML key are judged the same way.
"""

from __future__ import annotations

import base64
import functools
import re
from typing import Iterator, Optional
from urllib.parse import unquote

from scanner.engine.entropy import shannon

# Detectors read bytes decoded as Latin-1 (one character per byte). There, Python's own idea of
# whitespace (str.strip(), str.split(), \s without re.ASCII) includes 0x85 and 0xA0, which are
# bytes inside UTF-8 characters (à is C3 A0): spans and tests use ASCII whitespace only.
SPACE = " \t\n\r\x0b\x0c"

# Tokens that make a key a credential on their own (DB_PASSWORD, clientSecret, auth_token).
STRONG = frozenset(
    {
        "password", "passwd", "pwd", "passphrase", "pass", "secret", "secrets", "token", "apikey",
        "credential", "credentials", "creds", "privatekey", "accesskey", "secretkey", "authtoken",
        "accesstoken", "refreshtoken", "clientsecret", "apitoken", "apisecret", "passcode",
        "requirepass", "masterauth", "masterpassword", "identitytoken", "registrytoken",
        # keytool's and jarsigner's options (-storepass, -srckeypass ...)
        "storepass", "keypass", "srcstorepass", "deststorepass", "srckeypass", "destkeypass",
    }
)
# Two-token names that mean a credential (API_KEY, private-key, AccountKey).
PAIRS = frozenset(
    {
        ("api", "key"), ("access", "key"), ("private", "key"), ("auth", "key"), ("master", "key"),
        ("signing", "key"), ("encryption", "key"), ("account", "key"), ("shared", "key"),
        ("app", "key"), ("license", "key"), ("service", "key"), ("subscription", "key"),
        ("client", "key"), ("crypt", "key"), ("cipher", "key"), ("hmac", "key"), ("jwt", "key"),
        ("session", "key"), ("webhook", "key"), ("sas", "key"), ("storage", "key"),
    }
)
# Last tokens that name metadata about a credential, not the credential (PASSWORD_FILE, token_url).
NOT_LAST = frozenset(
    {
        "file", "files", "path", "dir", "directory", "url", "uri", "endpoint", "host", "hostname",
        "port", "user", "username", "login", "name", "names", "id", "ids", "type", "length", "len",
        "size", "enabled", "enable", "disabled", "required", "ttl", "expiry", "expires", "expire",
        "expiration", "timeout", "header", "algorithm", "alg", "policy", "env", "var", "field",
        "param", "prefix", "suffix", "format", "mode", "count", "min", "max", "limit", "regex",
        "pattern", "hint", "label", "placeholder", "description", "desc", "version", "method",
        "provider", "store", "arn", "ref", "reference", "source", "kind", "location", "generator",
        "rotation", "storage", "manager", "backend", "class", "handler", "service", "lifetime",
        "validity", "strength", "reset", "lookup", "mount", "command", "cmd", "script", "hash",
        "salt", "template", "schema", "chars", "charset", "complexity", "attempts", "retries",
        "duration", "interval", "age", "days", "hours", "minutes", "seconds", "time", "date",
        "created", "updated", "changed", "link", "help", "message", "msg", "error", "text", "title",
        "visible", "show", "hidden", "input", "form", "column", "table", "region", "bucket",
        "namespace", "scope", "scopes", "audience", "issuer", "encoding", "provided", "policies",
        "rules", "exists", "set", "used", "usage", "auth", "storekey", "keyid", "mapping", "secretname",
        "refname", "selector", "keyref", "sha", "digest", "fingerprint", "checksum", "pem", "cert",
    }
)
# X_KEY where X says the key is an index or a name, not a credential (S3Key, sort_key, result_key).
NOT_KEY_QUALIFIER = frozenset(
    {
        "s", "3", "s3", "object", "bucket", "file", "cache", "sort", "partition", "primary", "foreign", "routing",
        "idempotency", "lookup", "map", "hash", "dedup", "dedupe", "index", "unique", "composite", "group",
        "translation", "message", "label", "metric", "event", "redis", "kv", "result", "limit", "input", "output",
        "row", "column", "field", "attribute", "item", "entry", "node", "record", "dict", "registry", "ssh", "gpg",
        "pgp", "host", "search", "query", "config", "setting", "settings", "storage", "state", "lock", "queue",
        "stream", "shard", "range", "order", "tag", "meta", "data", "cursor", "page", "pagination", "foreignkey",
    }
)
# X_TOKEN where X says the token pages, orders or confirms something rather than granting access:
# pagination cursors (NextToken, ContinuationToken), idempotency keys (ClientRequestToken), and
# domain-verification values published in DNS (VerificationToken).
NOT_TOKEN_QUALIFIER = frozenset(
    {
        "next", "continuation", "page", "pagination", "cursor", "sync", "resume", "marker", "request",
        "idempotency", "verification", "dedup", "deduplication", "cancel", "cancellation",
    }
)


def not_access_token(toks: list[str]) -> bool:
    """Does a name ending in token say it is a cursor or an idempotency key (see
    NOT_TOKEN_QUALIFIER)?"""
    return len(toks) >= 2 and toks[-1] in ("token", "tokens") and toks[-2] in NOT_TOKEN_QUALIFIER


# Any of these anywhere in the key means public by design (NEXT_PUBLIC_*, publishable keys), or
# a per-session anti-forgery token that a page embeds on purpose (authenticity_token, csrf_token).
PUBLIC = frozenset({"public", "publishable", "pub", "csrf", "xsrf", "authenticity"})

# Credential words fused into one upper-case token: PGPASSWORD, MYSQLPASSWD, APPSECRET.
_FUSED = re.compile(r"password|passwd|secret|apikey|passphrase")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def tokens(key: str) -> list[str]:
    """DB_PASSWORD -> [db, password]; clientSecret -> [client, secret]; api.key -> [api, key]."""
    out: list[str] = []
    for part in re.split(r"[^A-Za-z0-9]+", key):
        out.extend(t.lower() for t in _CAMEL.findall(part))
    return out


@functools.lru_cache(maxsize=8192)  # a file's keys recur in its every version and in other files
def credential_kind(key: str) -> Optional[str]:
    """``"strong"`` for names that always mean a credential, ``"weak"`` for ones that usually do
    (STRIPE_KEY, NPM_AUTH: reported only for values that look machine-generated), else None."""
    if "::" in key:
        return None  # type names (AWS::IAM::AccessKey, Foo::SecretKey), not assignments
    return _kind(tokens(key))


# A name of the form "HEAD to/for/from/of REST" names its head: keyVaultToStoreSecrets is a
# vault, urlForToken a URL, passwordForAdmin a password. ("in"/"on" are left out: sign_in_token,
# log_on_password are one thing.)
_PREPOSITIONS = frozenset({"to", "for", "from", "of"})


def _kind(toks: list[str]) -> Optional[str]:
    for i, t in enumerate(toks):
        if i and t in _PREPOSITIONS:
            return _kind(toks[:i])
    if not toks or PUBLIC.intersection(toks):
        return None
    last = toks[-1]
    if last in NOT_LAST and not (last == "auth" and len(toks) <= 2) or not_access_token(toks):
        return None
    joined = "".join(toks)
    if any(t in STRONG or _FUSED.search(t) for t in toks) or joined in STRONG:
        return "strong"
    if any(p in PAIRS for p in zip(toks, toks[1:])):
        return "strong"
    if last == "key" and len(toks) >= 2 and toks[-2] in NOT_KEY_QUALIFIER:
        return None
    if last in ("key", "auth", "pat", "dsn") and len(toks) >= 2 or last in ("auth", "pat"):
        return "weak"
    return None


# References to a value kept elsewhere: never a finding. A template expression (${...}, {{...}},
# <%...%>) is at most 200 characters long: unbounded, each of many unclosed openers would scan to
# the end of the value (quadratic time on "{{{{...").
_REFERENCE = re.compile(
    r"\$\{[^}]{0,200}\}|\$\{\{|^\$[A-Za-z_][A-Za-z0-9_]*$|^\$[A-Za-z_][A-Za-z0-9_:.]*\b|\$\([^)]*\)?|\{\{.{0,200}?\}\}|"
    r"%\([^)]{0,200}\)[sdr]|^%[A-Za-z_][\w.]*%$|<%.{0,200}?%>|#\{[^}]{0,200}\}|os\.environ|os\.getenv|process\.env|"
    r"\bENV\[|getenv\(|System\.getenv|Environment\.Get|^!(Ref|Sub|GetAtt|ImportValue|FindInMap|Join|Select|If|"
    r"vault|Secret|Env)\b|\{\{resolve:|arn:aws:(secretsmanager|ssm|kms):|^(vault|ref\+\w+|awssm|ssm|env|"
    r"secretref|op|sops|k8s|gcp|azure|keyvault)://|^(var|local|data|module|each|self)\.[A-Za-z_]|"
    r"^@Microsoft\.KeyVault|^\(\(.*\)\)$|^\[\[.*\]\]$|^__[A-Za-z_]+__$|^ENC[\[(]|^\$ANSIBLE_VAULT|"
    r"^(env|file|vault|ssm|awssm|secretsmanager|op|keyvault|sm|gcpsm):(//)?[A-Za-z_/]|^<[^>]+>$|^\*[A-Za-z_]|^secret(s)?\.[A-Za-z_]|^@[A-Za-z_][\w.]*@?$|^\{[A-Za-z_][\w.]*\}$",
    re.ASCII,
)
_BOOL = frozenset({"true", "false", "yes", "no", "on", "off", "null", "none", "nil", "~", "undefined", "y", "n"})
_NUMBER = re.compile(r"^[+-]?[\d.,_:]+[a-z]{0,2}$", re.ASCII)
_PATHLIKE = re.compile(r"^(~|\.{1,2}|[A-Za-z]:)?[/\\][\w.@ -]+([/\\][\w.@ -]*)*$", re.ASCII)
_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$", re.ASCII)
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_KNOWN_PREFIX = re.compile(
    r"^(sk_live_|rk_live_|sk-|ghp_|gho_|ghs_|ghu_|github_pat_|glpat-|xox[abposr]-|AKIA|ASIA|AIza|"
    r"SG\.|npm_|pypi-|dop_v1_|hf_|shpat_|shpss_|sq0csp-|EAAC|ya29\.|AGE-SECRET-KEY-)"
)


# Lower-case words joined by separators: resource names and prose slugs (db-credentials,
# replace-me-with-a-long-string), not generated credentials.
_SLUG = re.compile(r"^[a-z]+(?:[-_.](?:[a-z]+|\d{1,4}))*$", re.ASCII)
# camelCase / PascalCase words and dotted or indexed paths: identifiers (nextToken, Items[].Key).
_IDENT = re.compile(r"^(?:[a-z]+(?:[A-Z][a-z]+)+|(?:[A-Z][a-z]+){2,}|[A-Za-z_]\w*(?:\[-?\d*\]|\.[A-Za-z_]\w*)+)$", re.ASCII)


# Example values printed in vendor documentation (NuGet's nuget.config reference) and copied
# verbatim into countless files; engine.filters.KNOWN_EXAMPLES is the shared list for tokens.
DOC_EXAMPLES = frozenset({"33f!!lloppa", "hal+9ooo_da!sY"})


def is_reference(value: str) -> bool:
    return bool(_REFERENCE.search(value))


def _classes(value: str) -> int:
    return sum(bool(re.search(rx, value)) for rx in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]"))


def is_literal(value: str, key: str = "") -> bool:
    """A literal that could be a credential: not empty, not a reference, not a boolean, a short
    number, a path, an e-mail address, a plain URL, prose, or the key's own name."""
    v = value.strip(SPACE)
    if len(v) < 6 or len(v) > 4096:
        return False
    low = v.lower()
    if v in DOC_EXAMPLES:
        return False
    if low in _BOOL or _NUMBER.match(v) and len(re.sub(r"\D", "", v)) < 12:
        return False
    if is_reference(v):
        return False
    if v.startswith("-----BEGIN") and "PRIVATE KEY" in v[:60]:
        return True  # a PEM private key (multi-line values in env files)
    if _SLUG.match(v) or _IDENT.match(v) or (v[:1].isalpha() and v[1:].isalpha() and v[1:].islower()):
        return False  # resource names, slugs and single words ("Password")
    if any(c in SPACE for c in v):
        # Prose and command lines, not credentials (passphrases with spaces are rare in config).
        return False
    if _PATHLIKE.match(v) and not _KNOWN_PREFIX.match(v):
        return False
    if _EMAIL.match(v) or (_URL.match(v) and not uri_passwords(v)):
        return False
    if key and re.sub(r"[^a-z0-9]", "", low) == re.sub(r"[^a-z0-9]", "", key.lower()):
        return False
    return True


def looks_generated(value: str) -> bool:
    """Machine-made: a known token prefix, or long, mixed and high in entropy."""
    v = value.strip(SPACE)
    if _KNOWN_PREFIX.match(v):
        return True
    if v.startswith("-----BEGIN") and "PRIVATE KEY" in v[:60]:
        return True
    alnum = sum(bool(re.search(rx, v)) for rx in (r"[a-z]", r"[A-Z]", r"\d"))
    return len(v) >= 16 and alnum >= 2 and not _SLUG.match(v) and shannon(v.encode()) >= 3.3


def judge(value: str, key: str, strict: bool = False) -> bool:
    """Should ``key = value`` be reported? ``strict`` is for example/template files, where only
    values that look real count."""
    kind = credential_kind(key)
    if kind is None or not is_literal(value, key):
        return False
    if strict or kind == "weak":
        return looks_generated(value)
    # A strong key: a password-like literal (weak passwords included) with some variety in it.
    return _classes(value) >= 2 or len(value) >= 12 or shannon(value.encode()) >= 3.0


# scheme://user:password@host -- the password group is what gets reported.
URI = re.compile(
    r"\b(?P<scheme>[a-z][a-z0-9+.-]{1,30})://(?P<user>[^\s:/?#@'\"<>`]*):(?P<password>[^\s/?#@'\"<>`]+)@"
    r"(?P<host>[^\s/?#'\"<>`:@]*)",
    re.I | re.ASCII,
)
# ADO.NET / ODBC style: Server=...;User Id=...;Password=...;
CONN_STRING = re.compile(r"(?i)(?:^|;)\s*(?P<k>password|pwd)\s*=\s*(?P<password>[^;'\"<>\s]+)", re.ASCII)
# Passwords that stand for one in documentation and defaults: bare words, references, and
# letters-only words that name their role (mypass, dbpassword, supersecret, cachepass). A weak
# real password (password123, letmein, hunter2) is not one. "27017,host2:..." is the port list of a
# multi-host URI read as a password.
_PLACEHOLDER_PASSWORDS = re.compile(
    r"(?i)^(password|passwd|pass|pwd|secret|changeme|user|username|\*+|x+|\.+|%s|%\w+|<[^>]*>|\[[^\]]*\]|"
    r"\{[^}]*\}|your.*|my.*password|.*placeholder.*|test|example|[a-z]*(?:pass|pwd|secret)[a-z]*|\d{1,5},.*)$"
)


def uri_passwords(text: str) -> list[tuple[int, int]]:
    """Character spans of literal passwords embedded in URIs and connection strings."""
    out = []
    for m in URI.finditer(text):
        if placeholder_userinfo(m.group("user"), m.group("password"), m.group("host")):
            continue
        out.append(m.span("password"))
    if ";" in text:
        for m in CONN_STRING.finditer(text):
            if not _bad_password(m.group("password")):
                out.append(m.span("password"))
    return out


# Hosts of documentation examples: RFC 2606 names, and words standing for a host.
_DOC_HOST = re.compile(r"(?i)(^|[.-])(example|invalid)([.-]|$)|^(host|hostname|your[-_.]?host|server|domain|myhost|<.*)$")


def placeholder_userinfo(user: str, password: str, host: str) -> bool:
    """Is ``scheme://user:password@host`` documentation or a default rather than a credential? A
    placeholder or reference password, the user name repeated (``guest:guest``), or a documentation
    host (``example.com``). A weak password on a real host (``app:password123@db``) is a leak."""
    return (_bad_password(password) or _encoded_placeholder(password) or password.lower() == user.lower()
            or bool(_DOC_HOST.search(host)))


def _encoded_placeholder(pw: str) -> bool:
    """A percent-encoded password made only of placeholder words (``pass%20pass``, ``pass%23pass``:
    a URL parser's test of escaping, not a credential)."""
    if "%" not in pw:
        return False
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", unquote(pw)) if p]
    return bool(parts) and all(_PLACEHOLDER_PASSWORDS.match(p) for p in parts)


def _bad_password(pw: str) -> bool:
    return len(pw) < 4 or bool(_PLACEHOLDER_PASSWORDS.match(pw)) or is_reference(pw) or pw.startswith("$")


_BASE64 = re.compile(r"^[A-Za-z0-9+/]{4,}={0,2}$", re.ASCII)


def decoded_text(value: str) -> Optional[str]:
    """The printable text a base64 value encodes (FileZilla's <Pass encoding="base64">, a Basic
    credential), or None when it is not base64 of text."""
    v = value.strip(SPACE)
    if not _BASE64.match(v) or len(v) % 4 == 1:
        return None
    try:
        plain = base64.b64decode(v + "=" * (-len(v) % 4), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    return plain if plain and plain.isprintable() else None


def iter_uri_passwords(text: str, base: int) -> Iterator[tuple[int, int]]:
    for s, e in uri_passwords(text):
        yield base + s, base + e
