"""JavaScript/TypeScript keep their meaning after remediate --apply, run for real against the moto
server with @aws-sdk/client-secrets-manager from npm (tests/remediate/node_fixture.py): a CommonJS
app, an ES module app and TypeScript apps (NodeNext ESM and CommonJS) run with node, tsx and
tsc + node print the same values before and after; `config.apiKey.length` is a length, URLs hold
the value, never `[object Promise]`."""

from __future__ import annotations

import json
import os
import secrets
import string
import subprocess
from pathlib import Path

import pytest

from tests.remediate import node_fixture

_ALNUM = string.ascii_letters + string.digits


def _tok(prefix: str, n: int) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(n))


# Prints sha256 digests only: a value never reaches test output.
_REPORT_JS = '''
function h(s) { return require("node:crypto").createHash("sha256").update(String(s)).digest("hex"); }
'''


def _values() -> dict[str, str]:
    return {"api": _tok("sk_" + "live_", 24), "github": _tok("ghp_", 36), "hook": _tok("ghp_", 36), "db": _tok("", 20)}


def cjs_app(v: dict) -> dict[str, str]:
    return {
        "package.json": json.dumps({"name": "cjs-app", "version": "1.0.0", "main": "server.js"}),
        "config.js": f'''"use strict";
const API_KEY = "{v['api']}";

module.exports = {{
  apiKey: API_KEY,
  github: {{ token: "{v['github']}" }},
  hookUrl: "https://hooks.example.com/notify?token={v['hook']}",
  databaseUrl: "postgres://orders:{v['db']}@db.internal/orders",
}};
''',
        "server.js": '''"use strict";
const crypto = require("node:crypto");
const config = require("./config");

const h = (s) => crypto.createHash("sha256").update(String(s)).digest("hex");
console.log(JSON.stringify({
  api: h(config.apiKey), len: config.apiKey.length, url: h(`https://api.example.com/?key=${config.apiKey}`),
  github: h(config.github.token), hook: h(config.hookUrl), type: typeof config.apiKey, db: h(config.databaseUrl),
}));
''',
    }


def esm_app(v: dict) -> dict[str, str]:
    return {
        "package.json": json.dumps({"name": "esm-app", "version": "1.0.0", "type": "module", "main": "src/index.js"}),
        "src/config.js": f'''export const apiKey = "{v['api']}";
export const settings = {{
  githubToken: "{v['github']}",
}};
export function hookUrl() {{
  return `https://hooks.example.com/notify?token={v['hook']}`;
}}
''',
        "src/index.js": '''import { createHash } from "node:crypto";
import { apiKey, settings, hookUrl } from "./config.js";

const h = (s) => createHash("sha256").update(String(s)).digest("hex");
console.log(JSON.stringify({
  api: h(apiKey), len: apiKey.length, url: h("https://api.example.com/?key=" + apiKey),
  github: h(settings.githubToken), hook: h(hookUrl()), type: typeof apiKey,
}));
''',
    }


def ts_app(v: dict, esm: bool) -> dict[str, str]:
    pkg = {"name": "ts-app", "version": "1.0.0", "main": "dist/index.js", "scripts": {"start": "node dist/index.js"}}
    options = {"target": "es2022", "strict": True, "outDir": "dist", "rootDir": "src", "skipLibCheck": True,
               "types": ["node"]}
    if esm:
        pkg["type"] = "module"
        options.update(module="nodenext", moduleResolution="nodenext")
    else:
        options.update(module="commonjs", moduleResolution="node10", esModuleInterop=True)
    ext = ".js" if esm else ""
    return {
        "package.json": json.dumps(pkg),
        "tsconfig.json": json.dumps({"compilerOptions": options, "include": ["src"]}),
        "src/config.ts": f'''export const apiKey: string = "{v['api']}";

export interface Config {{
  githubToken: string;
  hookUrl: string;
}}

export const config: Config = {{
  githubToken: "{v['github']}",
  hookUrl: "https://hooks.example.com/notify?token={v['hook']}",
}};

export const databaseUrl = "postgresql://orders:{v['db']}@db.internal:6543/orders?sslmode=require";
''',
        "src/index.ts": f'''import {{ createHash }} from "node:crypto";
import {{ apiKey, config, databaseUrl }} from "./config{ext}";

const h = (s: string): string => createHash("sha256").update(s).digest("hex");
process.stdout.write(JSON.stringify({{
  api: h(apiKey), len: apiKey.length, url: h(`https://api.example.com/?key=${{apiKey}}`),
  github: h(config.githubToken), hook: h(config.hookUrl), type: typeof apiKey, db: h(databaseUrl),
}}) + "\\n");
''',
    }


@pytest.fixture(scope="session")
def node_modules() -> Path:
    path, why = node_fixture.ensure()
    if path is None:
        pytest.skip(why)
    return path


def _run(repo: Path, argv: list[str], env: dict) -> dict:
    r = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, (r.stdout[-500:], r.stderr[-1500:])
    return json.loads(r.stdout.strip().splitlines()[-1])


def _apply(remediate, repo: Path) -> None:
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err


def _node_env(aws: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NODE_")}
    env["AWS_ENDPOINT_URL"] = aws
    return env


def _setup(make_repo, git_commit, name: str, files: dict[str, str]) -> Path:
    repo = make_repo(name)
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git_commit(repo, "app")
    return repo


def _link(repo: Path, node_modules: Path) -> None:
    (repo / "node_modules").symlink_to(node_modules, target_is_directory=True)


def _check_idempotent(remediate, repo: Path) -> None:
    (repo / "node_modules").unlink()
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    again = remediate(repo, "--apply")
    assert again.code == 0 and "Nothing to remediate" in again.out, again.out[-800:]
    assert {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts} == before


def _no_promise_and_no_value(repo: Path, values: dict, expect: dict, got: dict) -> None:
    assert got == expect
    assert got["type"] == "string" and got["len"] == len(values["api"])
    for p in repo.rglob("*"):
        if p.is_file() and ".git" not in p.parts and "node_modules" not in p.parts:
            data = p.read_bytes()
            assert not any(v.encode() in data for v in values.values()), f"{p.name} still holds a value"


def _applied(remediate, make_repo, git_commit, aws, name, app, entry):
    """A sample app: its output before, then remediate --apply."""
    values = _values()
    repo = _setup(make_repo, git_commit, name, app(values))
    env = _node_env(aws)
    before = _run(repo, ["node", entry], env)
    _apply(remediate, repo)
    return repo, values, env, before


def test_commonjs_app(remediate, make_repo, git_commit, node_modules, aws):
    repo, values, env, before = _applied(remediate, make_repo, git_commit, aws, "cjs", cjs_app, "server.js")
    server = (repo / "server.js").read_text()
    assert 'require("./leakstop-secrets.cjs").loadSecrets().then(() => {' in server
    assert "leakstopValue(" in (repo / "config.js").read_text() and "await" not in (repo / "config.js").read_text()
    _link(repo, node_modules)
    _no_promise_and_no_value(repo, values, before, _run(repo, ["node", "server.js"], env))
    _check_idempotent(remediate, repo)


def test_esm_app_and_environment_first(remediate, make_repo, git_commit, node_modules, aws):
    repo, values, env, before = _applied(remediate, make_repo, git_commit, aws, "esm", esm_app, "src/index.js")
    index = (repo / "src/index.js").read_text()
    assert 'import { loadSecrets } from "./leakstop-secrets.mjs";' in index and "\nawait loadSecrets();\n" in index
    _link(repo, node_modules)
    _no_promise_and_no_value(repo, values, before, _run(repo, ["node", "src/index.js"], env))
    # Every variable set, AWS unreachable: the values come from the environment, no AWS call.
    helper = (repo / "src/leakstop-secrets.mjs").read_text()
    from scanner.remediate.helper_templates import js_secret_entries

    names = {env_name: _tok("env-", 12) for _, _, env_name in js_secret_entries(helper)}
    dead = {**env, **names, "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "invalid"}
    got = _run(repo, ["node", "src/index.js"], dead)
    assert got["len"] == 16 and got != before
    _check_idempotent(remediate, repo)


@pytest.mark.parametrize("esm", [True, False], ids=["nodenext-esm", "commonjs"])
def test_typescript_app_with_tsx_and_tsc(remediate, make_repo, git_commit, node_modules, aws, esm):
    values = _values()
    repo = _setup(make_repo, git_commit, "ts", ts_app(values, esm))
    env = _node_env(aws)
    _link(repo, node_modules)
    tsx, tsc = str(node_modules / ".bin" / "tsx"), str(node_modules / ".bin" / "tsc")
    before = _run(repo, [tsx, "src/index.ts"], env)
    (repo / "node_modules").unlink()
    _apply(remediate, repo)
    index, config = (repo / "src/index.ts").read_text(), (repo / "src/config.ts").read_text()
    spec = "./leakstop-secrets.js" if esm else "./leakstop-secrets"
    assert f'from "{spec}";' in index and f'from "{spec}";' in config
    assert ("\nawait loadSecrets();\n" in index) == esm  # top-level await only where the module system has it
    _link(repo, node_modules)
    _no_promise_and_no_value(repo, values, before, _run(repo, [tsx, "src/index.ts"], env))
    build = subprocess.run([tsc, "-p", "."], cwd=repo, env=env, capture_output=True, text=True, timeout=180)
    assert build.returncode == 0, build.stdout[-1500:]
    assert _run(repo, ["node", "dist/index.js"], env) == before
    import shutil

    shutil.rmtree(repo / "dist")
    _check_idempotent(remediate, repo)


def test_js_helper_reads_through_the_lambda_extension(tmp_path, node_modules):
    """In Lambda with the Parameters and Secrets extension, loadSecrets() asks it (localhost, the
    session token as X-Aws-Parameters-Secrets-Token), not the Secrets Manager API (unreachable here)."""
    from scanner.remediate.helper_templates import js_helper
    from tests.remediate.conftest import extension_server

    token, value = _tok("tok", 16), _tok("", 20)
    server, seen = extension_server(token, {"shop/prod/stripe": json.dumps({"secret_key": value})})
    try:
        (tmp_path / "leakstop-secrets.mjs").write_text(js_helper("us-east-1", 300, "esm", [("shop/prod/stripe", "secret_key", "STRIPE_KEY")]))
        (tmp_path / "main.mjs").write_text(
            'import { createHash } from "node:crypto";\nimport { loadSecrets, leakstopValue } from "./leakstop-secrets.mjs";\n'
            'await loadSecrets();\nconst v = leakstopValue("shop/prod/stripe", "secret_key", { env: "STRIPE_KEY" });\n'
            'console.log(JSON.stringify({ h: createHash("sha256").update(v).digest("hex") }));\n')
        _link(tmp_path, node_modules)
        env = {k: v for k, v in os.environ.items() if k != "STRIPE_KEY"}
        env.update(PARAMETERS_SECRETS_EXTENSION_HTTP_PORT=str(server.server_address[1]), AWS_SESSION_TOKEN=token,
                   AWS_ENDPOINT_URL="http://127.0.0.1:9")
        import hashlib

        assert _run(tmp_path, ["node", "main.mjs"], env) == {"h": hashlib.sha256(value.encode()).hexdigest()}
        assert seen == ["/secretsmanager/get?secretId=shop%2Fprod%2Fstripe"]
    finally:
        server.shutdown()
