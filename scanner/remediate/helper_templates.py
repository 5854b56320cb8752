"""The small runtime helpers written once into the user's repository. They depend only on the AWS
SDK the application already uses (boto3, or AWS SDK v3 for JavaScript), never on leakstop.

Placeholders in config files: ``{{leakstop:secretsmanager:NAME#KEY}}`` or ``{{leakstop:ssm:NAME}}``;
the helpers' ``resolve()`` replaces them in a string (``resolve_config()`` walks a parsed
document).
"""

from __future__ import annotations

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
    text = _cached(("sm", name), lambda: _fetch_secret(name))
    if key is None:
        return text
    return json.loads(text)[key]


secret = lookup


def parameter(name):
    """The decrypted value of the SSM SecureString parameter `name`."""
    return _cached(("ssm", name), lambda: _client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])


def env_or_lookup(env, name, key=None):
    """os.environ[env] when set and not empty, else lookup(name, key)."""
    return os.environ.get(env) or lookup(name, key)


def env_or_parameter(env, name):
    """os.environ[env] when set and not empty, else parameter(name)."""
    return os.environ.get(env) or parameter(name)


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


_JS = '''\
// Run-time secret lookup, written by `leakstop remediate`. Needs @aws-sdk/client-secrets-manager
// (and @aws-sdk/client-ssm for SSM parameters), not leakstop. Values are cached in memory for
// LEAKSTOP_SECRETS_TTL seconds (default __TTL__).
__IMPORTS__

const DEFAULT_REGION = __REGION__;
const TTL_MS = Number(process.env.LEAKSTOP_SECRETS_TTL ?? __TTL__) * 1000;
const cache = new Map();
const region = () => process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || DEFAULT_REGION;
let sm;
let ssm;

function cached(key, fetch) {
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.value;
  const value = fetch();
  cache.set(key, { at: Date.now(), value });
  value.catch(() => cache.delete(key));
  return value;
}

/** The value of `key` in the JSON secret `name` (the whole SecretString when key is omitted). */
__EXPORT__async function leakstopLookup(name, key) {
  sm ??= new SecretsManagerClient({ region: region() });
  const text = await cached(`sm:${name}`, () =>
    sm.send(new GetSecretValueCommand({ SecretId: name })).then((r) => r.SecretString));
  return key === undefined ? text : JSON.parse(text)[key];
}

/** The decrypted value of the SSM SecureString parameter `name`. */
__EXPORT__async function leakstopParameter(name) {
  __SSM_IMPORT__
  ssm ??= new SSMClient({ region: region() });
  return cached(`ssm:${name}`, () =>
    ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true })).then((r) => r.Parameter.Value));
}

/** `text` with every {{leakstop:...}} placeholder replaced by its value. */
__EXPORT__async function resolve(text) {
  const re = /\\{\\{leakstop:(secretsmanager|ssm):([^#}]+)(?:#([^}]+))?\\}\\}/g;
  const parts = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    parts.push(text.slice(last, m.index));
    parts.push(await (m[1] === "secretsmanager" ? leakstopLookup(m[2], m[3]) : leakstopParameter(m[2])));
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return parts.join("");
}
__FOOTER__'''


def js_helper(region: str, ttl: int, flavour: str) -> str:
    """flavour: "esm" (.mjs / .ts) or "cjs"."""
    if flavour == "cjs":
        imports = 'const { SecretsManagerClient, GetSecretValueCommand } = require("@aws-sdk/client-secrets-manager");'
        ssm_import = 'const { SSMClient, GetParameterCommand } = require("@aws-sdk/client-ssm");'
        export, footer = "", "\nmodule.exports = { leakstopLookup, leakstopParameter, resolve };\n"
    else:
        imports = 'import { SecretsManagerClient, GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";'
        ssm_import = 'const { SSMClient, GetParameterCommand } = await import("@aws-sdk/client-ssm");'
        export, footer = "export ", ""
    return (_JS.replace("__IMPORTS__", imports).replace("__SSM_IMPORT__", ssm_import)
            .replace("__EXPORT__", export).replace("__FOOTER__", footer)
            .replace("__REGION__", '"%s"' % region).replace("__TTL__", str(ttl)))


def ts_helper(region: str, ttl: int) -> str:
    # Same code with loose types: `// @ts-nocheck` keeps strict projects compiling without edits.
    return "// @ts-nocheck\n" + js_helper(region, ttl, "esm")
