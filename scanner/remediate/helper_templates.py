"""The small runtime helpers written once into the user's repository. They depend only on the AWS
SDK the application already uses (boto3, or AWS SDK v3 for JavaScript), never on leakstop.

Placeholders in config files: ``{{leakstop:secretsmanager:NAME#KEY}}`` or ``{{leakstop:ssm:NAME}}``;
the helpers' ``resolve()`` replaces them in a string (``resolve_config()`` walks a parsed
document).
"""

from __future__ import annotations

import json
import re
from typing import Optional

PY_HELPER_NAME = "leakstop_secrets.py"
JS_HELPER_NAME = "leakstop-secrets.mjs"
CJS_HELPER_NAME = "leakstop-secrets.cjs"
TS_HELPER_NAME = "leakstop-secrets.ts"


def placeholder(store_kind: str, name: str, key: Optional[str]) -> str:
    """``{{leakstop:KIND:NAME#KEY}}`` (``{{leakstop:KIND:NAME}}`` for a whole value)."""
    return "{{leakstop:%s:%s%s}}" % (store_kind, name, f"#{key}" if key else "")


PY_HELPER_HEADER = '"""Run-time secret lookup, written by `leakstop remediate`.'

_PY_BOTO3 = '''\
"""Run-time secret lookup, written by `leakstop remediate`. Needs boto3 only (not leakstop).

env_or_lookup(env, name, key): the environment variable `env` when it is set, else key `key` of
the JSON secret `name` in AWS Secrets Manager (no AWS call when the variable is set);
env_or_parameter(env, name): the same for an SSM SecureString parameter. lookup(), parameter() and
resolve(text) (replaces {{leakstop:...}} placeholders) read the store directly. Nothing is read at
import: lazy_attributes / lazy_attribute / dataclass_field / pydantic_field defer module constants
and class attributes to first use. Values are cached in memory for CACHE_TTL seconds
(LEAKSTOP_SECRETS_TTL overrides), so a rotated value is picked up without a restart.
boto3 finds credentials, endpoint and region as usual (environment, AWS_PROFILE, ~/.aws/config);
the region falls back to the one the secrets were created in.
"""

import json
import os
import re
import threading
import time

DEFAULT_REGION = __REGION__
CACHE_TTL = float(os.environ.get("LEAKSTOP_SECRETS_TTL", __TTL__))

_lock = threading.Lock()
_cache = {}
_clients = {}
_PLACEHOLDER = re.compile(r"\\{\\{leakstop:(secretsmanager|ssm):([^#}]+)(?:#([^}]+))?\\}\\}")


def _client(service):
    with _lock:
        if service not in _clients:
            import boto3

            session = boto3.session.Session()
            region = os.environ.get("AWS_REGION") or session.region_name or DEFAULT_REGION
            _clients[service] = session.client(service, region_name=region)
        return _clients[service]


def _cached(cache_key, fetch):
    now = time.monotonic()
    with _lock:
        hit = _cache.get(cache_key)
        if hit is not None and now - hit[0] < CACHE_TTL:
            return hit[1]
    value = fetch()
    with _lock:
        _cache[cache_key] = (now, value)
    return value
__FETCH__

def lookup(name, key=None):
    """The value of `key` in the JSON secret `name` (the whole SecretString when key is None)."""
    text = _cached(("sm", name), lambda: _from_extension("secretsmanager/get?secretId=", name, "SecretString")
                   or _fetch_secret(name))
    if key is None:
        return text
    return json.loads(text)[key]


secret = lookup


def parameter(name):
    """The decrypted value of the SSM SecureString parameter `name`."""
    return _cached(("ssm", name), lambda: _from_extension("systemsmanager/parameters/get?withDecryption=true&name=",
                                                          name, "Parameter")
                   or _client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])


def _from_extension(path, name, field):
    """In AWS Lambda with the AWS Parameters and Secrets Lambda Extension (its layer attached and
    PARAMETERS_SECRETS_EXTENSION_HTTP_PORT set): the value from the extension's local cache, else None."""
    port = os.environ.get("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT")
    token = os.environ.get("AWS_SESSION_TOKEN")
    if not port or not token:
        return None
    import urllib.parse
    import urllib.request

    url = f"http://localhost:{port}/{path}{urllib.parse.quote(name, safe='')}"
    req = urllib.request.Request(url, headers={"X-Aws-Parameters-Secrets-Token": token})
    with urllib.request.urlopen(req, timeout=10) as resp:
        doc = json.loads(resp.read())
    return doc[field]["Value"] if field == "Parameter" else doc[field]


def env_or_lookup(env, name, key=None):
    """os.environ[env] when set and not empty, else lookup(name, key)."""
    return os.environ.get(env) or lookup(name, key)


def env_or_parameter(env, name):
    """os.environ[env] when set and not empty, else parameter(name)."""
    return os.environ.get(env) or parameter(name)


_USERINFO_SAFE = "!$&'()*+,;=-._~"  # kept as they are in a URI's user:password (a % is encoded: values are stored decoded)


def env_or_url(env, name, key, template):
    """os.environ[env] when set and not empty, else the connection URI `template` rebuilt from the
    RDS-style JSON secret `name` (username, `key` = the password, host, port, dbname), the user
    name and password URL-encoded, so a rotated password with @ : / still makes a valid URI."""
    value = os.environ.get(env)
    if value:
        return value
    from urllib.parse import quote

    s = json.loads(lookup(name))
    fields = {k: str(s.get(k, "")) for k in ("host", "port", "dbname")}
    fields["username"] = quote(str(s.get("username", "")), safe=_USERINFO_SAFE)
    fields["password"] = quote(str(s[key]), safe=_USERINFO_SAFE)
    return template.format(**fields)


def lazy_attributes(module):
    """A module's __getattr__ and __dir__ (PEP 562): `module.NAME` returns _leakstop_NAME(), the
    module's getter, read on each access; dir(module) lists NAME too (settings loaders that walk
    dir() still see it)."""
    import sys

    def __getattr__(attr):
        getter = vars(sys.modules[module]).get("_leakstop_" + attr)
        if getter is None or attr.startswith("_"):
            raise AttributeError(f"module {module!r} has no attribute {attr!r}")
        return getter()

    def __dir__():
        names = vars(sys.modules[module])
        return sorted(set(names) | {n[len("_leakstop_"):] for n in names if n.startswith("_leakstop_")})

    return __getattr__, __dir__


def once(get):
    """`get` called on first use only, its result kept (a dict or list the code may change in place)."""
    import functools

    done = []
    lock = threading.Lock()

    @functools.wraps(get)
    def first():
        with lock:
            if not done:
                done.append(get())
        return done[0]

    return first


class lazy_attribute:
    """A class attribute computed on each read, from the class or an instance; assigning it on an
    instance still works as for a plain class attribute."""

    def __init__(self, get):
        self._get = get

    def __get__(self, obj, owner=None):
        return self._get()


def dataclass_field(get):
    """A dataclass field whose default is computed when an instance is made."""
    import dataclasses

    return dataclasses.field(default_factory=get)


def pydantic_field(get):
    """A pydantic field whose default is computed when an instance is made (pydantic-settings reads
    the environment first)."""
    from pydantic import Field

    return Field(default_factory=get)


def resolve(text):
    """`text` with every {{leakstop:...}} placeholder replaced by its value."""
    def one(m):
        return lookup(m.group(2), m.group(3)) if m.group(1) == "secretsmanager" else parameter(m.group(2))

    return _PLACEHOLDER.sub(one, text) if isinstance(text, str) and "{{leakstop:" in text else text


def resolve_config(obj):
    """A parsed config document (dicts, lists, strings) with its placeholders resolved."""
    if isinstance(obj, dict):
        return {k: resolve_config(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [resolve_config(v) for v in obj]
    return resolve(obj)
'''

_PY_FETCH_BOTO3 = '''

def _fetch_secret(name):
    return _client("secretsmanager").get_secret_value(SecretId=name)["SecretString"]
'''

# When the project already depends on aws-secretsmanager-caching, use its cache for Secrets Manager.
_PY_FETCH_CACHING = '''

_sm_cache = None


def _fetch_secret(name):
    global _sm_cache
    with _lock:
        if _sm_cache is None:
            from aws_secretsmanager_caching import SecretCache

            _sm_cache = SecretCache(client=_client("secretsmanager"))
    return _sm_cache.get_secret_string(name)
'''


def python_helper(region: str, ttl: int, use_caching_lib: bool) -> str:
    fetch = _PY_FETCH_CACHING if use_caching_lib else _PY_FETCH_BOTO3
    return (_PY_BOTO3.replace("__REGION__", repr(region)).replace("__TTL__", repr(str(ttl)))
            .replace("__FETCH__", fetch))


JS_HELPER_HEADER = "// Run-time secret lookup, written by `leakstop remediate`."

_JS = '''\
// Run-time secret lookup, written by `leakstop remediate`. Needs @aws-sdk/client-secrets-manager
// (and @aws-sdk/client-ssm for SSM parameters), not leakstop.
//
// Call `await loadSecrets()` once at start-up; after it, leakstopValue(name, key, { env }) is
// synchronous and returns a string. An environment variable that is set wins, and a secret whose
// values all come from the environment is not fetched at all. Loaded values are refreshed every
// LEAKSTOP_SECRETS_TTL seconds (default __TTL__) in the background, so a rotation is picked up
// without a restart. Credentials and endpoint (AWS_ENDPOINT_URL) come from the SDK's standard chain;
// the region from AWS_REGION / AWS_DEFAULT_REGION, else the one the secrets were created in.
__IMPORTS__

const DEFAULT_REGION = __REGION__;
const TTL_MS = Number(process.env.LEAKSTOP_SECRETS_TTL ?? __TTL__) * 1000;
// Every value the code reads: the stored name, its JSON key (none for an SSM parameter) and the
// environment variable that wins over it.
const SECRETS = [
__SECRETS__
];
// Shared by every copy of this file in the program (one per package or directory).
const state = (globalThis[Symbol.for("leakstop.secrets")] ??= { values: new Map(), hooks: [], loaded: false });
const clients = {};

function region() {
  return process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || DEFAULT_REGION;
}

async function fetchText(name, ssm) {
  // In AWS Lambda with the AWS Parameters and Secrets Lambda Extension (its layer attached and
  // PARAMETERS_SECRETS_EXTENSION_HTTP_PORT set): from the extension's local cache.
  const port = process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT;
  if (port && process.env.AWS_SESSION_TOKEN) {
    const path = ssm ? "systemsmanager/parameters/get?withDecryption=true&name=" : "secretsmanager/get?secretId=";
    const r = await fetch(`http://localhost:${port}/${path}${encodeURIComponent(name)}`, {
      headers: { "X-Aws-Parameters-Secrets-Token": process.env.AWS_SESSION_TOKEN },
    });
    if (!r.ok) throw new Error(`leakstop: ${name}: the Lambda extension answered ${r.status}`);
    const doc = await r.json();
    return ssm ? doc.Parameter.Value : doc.SecretString;
  }
__SSM_BRANCH__
  clients.sm ??= new SecretsManagerClient({ region: region() });
  const r = await clients.sm.send(new GetSecretValueCommand({ SecretId: name }));
  return r.SecretString;
}

async function fetchAll(names) {
  await Promise.all(names.map(async ([name, ssm]) => state.values.set(name, await fetchText(name, ssm))));
}

/** Fetch every secret the code reads (those the environment does not fully provide). */
__EXPORT__async function loadSecrets() {
  const needed = new Map();
  for (const s of SECRETS) {
    if (!process.env[s.env] && !state.values.has(s.name)) needed.set(s.name, s.key === undefined);
  }
  await fetchAll([...needed]);
  state.loaded = true;
  for (const hook of state.hooks.splice(0)) hook();
  if (!state.timer && TTL_MS > 0 && state.values.size > 0) {
    state.timer = setInterval(() => {
      const names = [...state.values.keys()].map((name) => [name, SECRETS.some((s) => s.name === name && s.key === undefined)]);
      fetchAll(names).catch(() => {}); // keep the last good values
    }, TTL_MS);
    state.timer.unref?.();
  }
}

/** The value (a string): the environment variable `env` when set, else key `key` of the loaded secret `name`. */
__EXPORT__function leakstopValue(name, key, options = {}) {
  const fromEnv = options.env ? process.env[options.env] : undefined;
  if (fromEnv) return fromEnv;
  const text = state.values.get(name);
  if (text === undefined) {
    throw new Error(`leakstop: ${name} is not loaded: call await loadSecrets() at start-up, before this value is read`);
  }
  return key === undefined ? text : JSON.parse(text)[key];
}

/**
 * The connection URI `template` rebuilt from the loaded RDS-style secret `name` (username, `key` =
 * the password, host, port, dbname; user name and password URL-encoded), or the environment
 * variable `env` when set.
 */
__EXPORT__function leakstopUrl(name, key, template, options = {}) {
  const fromEnv = options.env ? process.env[options.env] : undefined;
  if (fromEnv) return fromEnv;
  const s = JSON.parse(leakstopValue(name));
  const enc = (v) => String(v ?? "").replace(/[^A-Za-z0-9!$&'()*+,;=\\-._~]/gu, (c) => encodeURIComponent(c));
  const fields = { host: s.host ?? "", port: s.port ?? "", dbname: s.dbname ?? "", username: enc(s.username), password: enc(s[key]) };
  return template.replace(/\\{\\{|\\}\\}|\\{(\\w+)\\}/g, (m, f) => (f ? String(fields[f]) : m[0]));
}

/** Run `fn` once the secrets are loaded (now, when they already are). */
__EXPORT__function leakstopOnLoad(fn) {
  if (state.loaded) fn();
  else state.hooks.push(fn);
}

/** `text` with every {{leakstop:...}} placeholder replaced by its value (fetched when needed). */
__EXPORT__async function resolve(text) {
  const re = /\\{\\{leakstop:(secretsmanager|ssm):([^#}]+)(?:#([^}]+))?\\}\\}/g;
  const parts = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (!state.values.has(m[2])) state.values.set(m[2], await fetchText(m[2], m[1] === "ssm"));
    parts.push(text.slice(last, m.index), leakstopValue(m[2], m[3]));
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return parts.join("");
}
__FOOTER__'''

_SSM_BRANCH = '''  if (ssm) {
    __SSM_IMPORT__
    clients.ssm ??= new SSMClient({ region: region() });
    const r = await clients.ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    return r.Parameter.Value;
  }'''

_TS_SIGNATURES = {
    "async function fetchText(name, ssm) {": "async function fetchText(name: string, ssm: boolean): Promise<string> {",
    "async function fetchAll(names) {": "async function fetchAll(names: [string, boolean][]): Promise<void> {",
    "async function loadSecrets() {": "async function loadSecrets(): Promise<void> {",
    "function leakstopValue(name, key, options = {}) {":
        "function leakstopValue(name: string, key?: string, options: { env?: string } = {}): string {",
    "function leakstopOnLoad(fn) {": "function leakstopOnLoad(fn: () => void): void {",
    "function leakstopUrl(name, key, template, options = {}) {":
        "function leakstopUrl(name: string, key: string, template: string, options: { env?: string } = {}): string {",
    "const enc = (v) =>": "const enc = (v: unknown): string =>",
    "(m, f) => (f ?": "(m: string, f?: string) => (f ?",
    "const fields = { host:": "const fields: Record<string, string> = { host:",
    "async function resolve(text) {": "async function resolve(text: string): Promise<string> {",
    "const SECRETS = [": "const SECRETS: { name: string; key?: string; env: string }[] = [",
    "const state = (globalThis": "const state: any = ((globalThis as any)",
    "const clients = {};": "const clients: any = {};",
    "fetchAll(names).catch": "fetchAll(names as [string, boolean][]).catch",
}

_STR = r'"[^"\\\n]*"'  # names, keys and variables hold no quote or backslash
_SECRET_LINE = re.compile(rf"^  \{{ name: ({_STR})(?:, key: ({_STR}))?, env: ({_STR}) \}},$", re.M)

Entry = tuple[str, Optional[str], str]  # (secret name, JSON key or None, environment variable)


def js_secret_entries(helper_text: str) -> list[Entry]:
    """The entries listed in a JS/TS helper written earlier."""
    return [(json.loads(m.group(1)), json.loads(m.group(2)) if m.group(2) else None, json.loads(m.group(3)))
            for m in _SECRET_LINE.finditer(helper_text)]


def js_helper(region: str, ttl: int, flavour: str, entries: list[Entry]) -> str:
    """flavour: "cjs", "esm" (.mjs) or "ts" (module syntax; the project's compiler picks the
    format). ``entries``: every value the code reads."""
    lines = []
    for name, key, env in sorted(set(entries), key=lambda e: (e[0], e[1] or "", e[2])):
        k = f", key: {json.dumps(key)}" if key is not None else ""
        lines.append(f"  {{ name: {json.dumps(name)}{k}, env: {json.dumps(env)} }},")
    if flavour == "cjs":
        imports = 'const { SecretsManagerClient, GetSecretValueCommand } = require("@aws-sdk/client-secrets-manager");'
        ssm_import = 'const { SSMClient, GetParameterCommand } = require("@aws-sdk/client-ssm");'
        export, footer = "", "\nmodule.exports = { loadSecrets, leakstopValue, leakstopUrl, leakstopOnLoad, resolve };\n"
    else:
        imports = 'import { SecretsManagerClient, GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";'
        ssm_import = 'const { SSMClient, GetParameterCommand } = await import("@aws-sdk/client-ssm");'
        export, footer = "export ", ""
    # The SSM client only where an SSM parameter is read (a project without @aws-sdk/client-ssm
    # must still compile).
    branch = _SSM_BRANCH.replace("__SSM_IMPORT__", ssm_import) if any(k is None for _, k, _ in entries) else (
        '  if (ssm) throw new Error(`leakstop: ${name}: SSM parameters need @aws-sdk/client-ssm`);')
    text = (_JS.replace("__IMPORTS__", imports).replace("__SSM_BRANCH__", branch)
            .replace("__EXPORT__", export).replace("__FOOTER__", footer).replace("__SECRETS__", "\n".join(lines))
            .replace("__REGION__", json.dumps(region)).replace("__TTL__", str(ttl)))
    if flavour == "ts":
        for plain, typed in _TS_SIGNATURES.items():
            text = text.replace(plain, typed)
    return text
