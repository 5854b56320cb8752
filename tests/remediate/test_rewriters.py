"""Each rewriter in isolation: what changes, and that nothing else does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner.remediate.plan import Item, Site, Workspace
from scanner.remediate.rewriters import classify, rewrite_all
from scanner.remediate.stores import make_store
from scanner.remediate.settings import Settings
from tests.conftest import IDENTITY
from tests.remediate import sample
from tests.remediate.conftest import extension_server

S = Settings(project="shop", env="prod", region="eu-west-1")
TOKEN = sample.STRIPE


def item(value: str, sites: list[Site], name="shop/prod/api-keys", key="stripe_key") -> Item:
    return Item(value_hash=IDENTITY.value_hash(value.encode()), secret_name=name, json_key=key, group="api-keys",
                rule_ids=["stripe-live-secret-key"], providers=["stripe"], masked=value[:4] + "…", sites=sites,
                env_name=(key or "k").upper(), value=value.encode())


def site_of(root: Path, path: str, value: str, key=None) -> Site:
    for n, line in enumerate((root / path).read_text().split("\n"), 1):
        col = line.find(value)
        if col >= 0:
            return Site(path, n, col + 1, col + 1 + len(value), "stripe-live-secret-key", key)
    raise AssertionError("value not in file")


def run(tmp_path: Path, files: dict[str, str], path: str, value: str = TOKEN, settings: Settings = S, **kw):
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(text.encode())
    it = item(value, [site_of(tmp_path, path, value)], **kw)
    ws = Workspace(tmp_path)
    ctx = rewrite_all(ws, [it], settings, make_store(settings.backend, settings.region))
    return ws, ctx.manual, ctx.notes, ctx.ecs


def test_classify():
    assert classify("a/b.py", b"") == "python"
    assert classify("web/x.tsx", b"") == "javascript"
    assert classify("Dockerfile", b"") == classify("build/api.Dockerfile", b"") == "dockerfile"
    assert classify(".env", b"") == classify("conf/.env.production", b"") == "env"
    assert classify(".env.example", b"") == "config" or classify(".env.example", b"") is None
    assert classify("template.yaml", b"AWSTemplateFormatVersion: '2010-09-09'\n") == "cloudformation"
    assert classify("compose.yaml", b"services: {}\n") == "compose"
    assert classify("settings.yaml", b"db: {}\n") == "config"
    assert classify("main.go", b"") is None


def test_python_keeps_everything_else_byte_identical(tmp_path):
    src = ('#!/usr/bin/env python\r\n# -*- coding: utf-8 -*-\r\nimport os\r\n\r\n'
           f'KEYS = {{"stripe":  "{TOKEN}" ,  # odd spacing kept\r\n}}\r\n')
    ws, manual, _, _ = run(tmp_path, {"app.py": src}, "app.py")
    assert not manual
    new = ws.pending["app.py"].decode()
    imp = "from leakstop_secrets import env_or_lookup as leakstop_env_or_lookup, lazy_attributes as leakstop_lazy_attributes, once as leakstop_once\r\n"
    assert new.startswith("#!/usr/bin/env python\r\n# -*- coding: utf-8 -*-\r\n" + imp)
    lazy = "@leakstop_once\r\ndef _leakstop_KEYS():  # leakstop: looked up on first use\r\n    return"
    hook = ("\r\n\r\n# leakstop: module constants above are looked up on first use, environment first\r\n"
            "__getattr__, __dir__ = leakstop_lazy_attributes(__name__)\r\n")
    assert new.replace(imp, "", 1) == src.replace("KEYS =", lazy).replace(
        f'"{TOKEN}"', 'leakstop_env_or_lookup("STRIPE_KEY", "shop/prod/api-keys", "stripe_key")') + hook
    helper = ws.pending["leakstop_secrets.py"].decode()
    assert "DEFAULT_REGION = 'eu-west-1'" in helper and "scanner" not in helper


def test_python_value_inside_a_longer_string_is_concatenated(tmp_path):
    src = f'URL = "https://api.example.com/?key={TOKEN}&v=2"\n'
    ws, manual, _, _ = run(tmp_path, {"svc/conf.py": src, "svc/__init__.py": ""}, "svc/conf.py")
    new = ws.pending["svc/conf.py"].decode()
    assert ('    return ("https://api.example.com/?key=" + leakstop_env_or_lookup("STRIPE_KEY", "shop/prod/api-keys", '
            '"stripe_key") + "&v=2")') in new
    assert "from .leakstop_secrets import env_or_lookup as leakstop_env_or_lookup" in new  # inside a package
    assert "svc/leakstop_secrets.py" in ws.pending
    compile(new, "conf.py", "exec")


def _module(tmp_path, src: str, values: dict[str, str], name: str = "m.py"):
    """Rewrite ``src`` (values planted by placeholder) and import the result with a fake helper
    that records each lookup; returns (new source, module, lookups made, notes)."""
    import importlib.util
    import sys
    import types

    for k, v in values.items():
        src = src.replace(k, v)
    (tmp_path / name).write_text(src)
    items = [item(v, [site_of(tmp_path, name, v)], key=k.strip("<>").lower()) for k, v in values.items()]
    ws = Workspace(tmp_path)
    ctx = rewrite_all(ws, items, S, make_store(S.backend, S.region))
    assert not ctx.manual, [m.reason for m in ctx.manual]
    new = ws.pending[name].decode()
    helper = types.ModuleType("leakstop_secrets")
    exec(ws.pending["leakstop_secrets.py"].decode(), helper.__dict__)
    calls = []
    helper.lookup = lambda n, k=None: calls.append(k) or f"stored:{k}"
    sys.modules["leakstop_secrets"] = helper
    try:
        spec = importlib.util.spec_from_loader("m_" + str(abs(hash(new))), loader=None)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[mod.__name__] = mod
        exec(compile(new, name, "exec"), mod.__dict__)
    finally:
        del sys.modules["leakstop_secrets"]
    return new, mod, calls, ctx.notes


def test_python_lookups_are_lazy_environment_first_and_keep_str_semantics(tmp_path, monkeypatch):
    src = (
        'import os\nfrom dataclasses import dataclass\n\n'
        'API_KEY = "<A>"\n'
        'DB_PASSWORD = os.environ.get("DB_PASSWORD", "<B>")\n'
        'URL = ("https://h/?t=" "<C>"\n       "&v=1")\n\n\n'
        'class Settings:\n    token = "<D>"\n    other = 1\n\n\n'
        '@dataclass\nclass Conf:\n    name: str = "x"\n    pw: str = "<E>"\n\n\n'
        'def use(API_KEY_LEN=3):\n    API_KEY_local = API_KEY\n    return API_KEY_local.startswith("sk_"), f"{API_KEY}", '
        '[API_KEY for API_KEY in "ab"]\n'
    )
    values = {f"<{c}>": sample._tok("sk_" + "live_", sample._ALNUM, 24) for c in "ABCDE"}
    monkeypatch.setenv("DB_PASSWORD", "from-env")
    new, mod, calls, notes = _module(tmp_path, src, values)
    assert calls == [], "a lookup ran at import"
    assert not notes
    assert 'leakstop_env_or_lookup("DB_PASSWORD", "shop/prod/api-keys", "b")' in new  # the default, env first
    assert mod.DB_PASSWORD == "from-env" and calls == []  # the variable is set: no lookup
    key = mod.API_KEY
    assert key == "stored:a" and isinstance(key, str) and calls == ["a"]
    assert mod.use() == (False, "stored:a", ["a", "b"])
    assert mod.URL == "https://h/?t=stored:c&v=1"
    assert mod.Settings().token == mod.Settings.token == "stored:d"
    s = mod.Settings()
    s.token = "changed"  # a plain class attribute can still be set on an instance
    assert s.token == "changed" and mod.Settings().token == "stored:d"
    assert mod.Conf().pw == "stored:e" and mod.Conf(pw="given").pw == "given"
    assert {"API_KEY", "URL", "DB_PASSWORD"} <= set(dir(mod))
    monkeypatch.setenv("API_KEY", "override")
    assert mod.API_KEY == "override"


def test_python_what_must_run_at_import_is_said(tmp_path):
    src = ('PASSWORD = "<A>"\nPASSWORD = PASSWORD.strip()\n'  # rebound: cannot become a getter
           'HEADER = "Bearer <B>"\nprint(HEADER)\n'  # read at import
           '"""<C> was the old key"""\n')  # a bare string: nothing reads it
    values = {f"<{c}>": sample._tok("sk_" + "live_", sample._ALNUM, 24) for c in "ABC"}
    new, mod, calls, notes = _module(tmp_path, src, values)
    assert any("line 1: looked up when the module is imported" in n for n in notes)
    assert any("HEADER is read at import (line 4)" in n for n in notes)
    assert "[leakstop: moved to shop/prod/api-keys#c] was the old key" in new
    assert sorted(calls) == ["a", "b"]


def test_python_second_rewrite_reuses_the_import_and_the_module_hook(tmp_path):
    first = sample._tok("sk_" + "live_", sample._ALNUM, 24)
    second = sample._tok("sk_" + "live_", sample._ALNUM, 24)
    (tmp_path / "m.py").write_text(f'A = "{first}"\nB = "{second}"\n')
    ws = Workspace(tmp_path)
    rewrite_all(ws, [item(first, [site_of(tmp_path, "m.py", first)], key="a")], S, make_store(S.backend, S.region))
    (tmp_path / "m.py").write_bytes(ws.pending["m.py"])
    ws = Workspace(tmp_path)
    ctx = rewrite_all(ws, [item(second, [site_of(tmp_path, "m.py", second)], key="b")], S, make_store(S.backend, S.region))
    new = ws.pending["m.py"].decode()
    assert not ctx.manual and new.count("leakstop_lazy_attributes(__name__)") == 1
    assert new.count("import env_or_lookup") == 1 and "def _leakstop_A()" in new and "def _leakstop_B()" in new


def test_python_fstring_is_left_for_a_human(tmp_path):
    src = f'x = f"{TOKEN}{{1}}"\n'
    ws, manual, _, _ = run(tmp_path, {"a.py": src}, "a.py")
    assert "a.py" not in ws.pending and manual and "f-string" in manual[0].reason


def test_python_uses_caching_library_when_present(tmp_path):
    ws, _, _, _ = run(tmp_path, {"a.py": f'K = "{TOKEN}"\n', "requirements.txt": "aws-secretsmanager-caching==1.1\n"}, "a.py")
    assert "SecretCache" in ws.pending["leakstop_secrets.py"].decode()


def test_js_commonjs_and_typescript(tmp_path):
    ws, manual, notes, _ = run(tmp_path, {"lib.js": f"'use strict';\nconst key = '{TOKEN}';\nmodule.exports = {{ key }};\n"},
                               "lib.js")
    new = ws.pending["lib.js"].decode()
    assert new.startswith("'use strict';\nconst { leakstopValue } = require(\"./leakstop-secrets.cjs\");\n")
    assert 'const key = leakstopValue("shop/prod/api-keys", "stripe_key", { env: "STRIPE_KEY" });' in new
    assert "module.exports = { loadSecrets, leakstopValue" in ws.pending["leakstop-secrets.cjs"].decode()
    assert any("loadSecrets()" in m.reason and "no entry point" in m.reason for m in manual)  # no package entry
    files = {"src/config.ts": f'export const key: string = "{TOKEN}";\nexport const c = {{ apiKey: "{TOKEN}" }};\n',
             "src/index.ts": 'import { key } from "./config.js";\nconsole.log(key.length);\n',
             "package.json": '{"type": "module"}', "tsconfig.json": '{"compilerOptions": {"module": "NodeNext"}}'}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    sites = [Site("src/config.ts", n, line.find(TOKEN) + 1, line.find(TOKEN) + 1 + len(TOKEN), "r")
             for n, line in enumerate(files["src/config.ts"].split("\n"), 1) if TOKEN in line]
    ws = Workspace(tmp_path)
    ctx = rewrite_all(ws, [item(TOKEN, sites)], S, make_store(S.backend, S.region))
    config, index = ws.pending["src/config.ts"].decode(), ws.pending["src/index.ts"].decode()
    assert not ctx.manual and "await" not in config
    assert config.startswith('import { leakstopOnLoad, leakstopValue } from "./leakstop-secrets.js";\n')
    assert ('export let key!: string; leakstopOnLoad(() => { key = leakstopValue("shop/prod/api-keys", "stripe_key", '
            '{ env: "KEY" }); });') in config
    assert 'get apiKey() { return leakstopValue("shop/prod/api-keys", "stripe_key", { env: "API_KEY" }); }' in config
    assert index == ('import { loadSecrets } from "./leakstop-secrets.js";\nimport { key } from "./config.js";\n'
                     'await loadSecrets();\nconsole.log(key.length);\n')
    assert "GetSecretValueCommand" in ws.pending["src/leakstop-secrets.ts"].decode()


def test_js_module_kind_follows_the_project(tmp_path):
    from scanner.remediate.rewriters.jsproject import module_kind

    def kind(files: dict[str, str], path: str, text: str = ""):
        root = tmp_path / str(len(list(tmp_path.iterdir())))
        for rel, body in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(body)
        k = module_kind(Workspace(root), path, text)
        return k.esm, k.top_level_await, k.helper, k.spec_ext

    assert kind({}, "a.mjs") == (True, True, "leakstop-secrets.mjs", ".mjs")
    assert kind({}, "a.cjs") == (False, False, "leakstop-secrets.cjs", ".cjs")
    assert kind({"package.json": '{"type": "module"}'}, "a.js") == (True, True, "leakstop-secrets.mjs", ".mjs")
    assert kind({"package.json": "{}"}, "a.js") == (False, False, "leakstop-secrets.cjs", ".cjs")
    assert kind({"package.json": "{}"}, "a.js", "import x from 'y';\n")[:2] == (True, False)  # bundled: no TLA
    def tsconfig(opts: str) -> dict:
        return {"tsconfig.json": "// comment\n{\"compilerOptions\": {%s},}" % opts}


    assert kind(tsconfig('"module": "commonjs"'), "src/a.ts") == (False, False, "leakstop-secrets.ts", "")
    assert kind(tsconfig('"module": "ESNext", "moduleResolution": "Bundler"'), "a.ts") == (True, True, "leakstop-secrets.ts", "")
    assert kind(tsconfig('"module": "es2020"'), "a.ts") == (True, False, "leakstop-secrets.ts", ".js")
    assert kind({**tsconfig('"module": "nodenext"'), "package.json": "{}"}, "a.ts")[:2] == (False, False)
    assert kind({**tsconfig('"module": "nodenext"'), "package.json": '{"type": "module"}'}, "a.ts") == (
        True, True, "leakstop-secrets.ts", ".js")
    assert kind({}, "a.mts")[3] == ".mjs" and kind({}, "a.cts")[3] == ".cjs"


def test_js_lexer_knows_what_runs_at_load():
    from scanner.remediate.rewriters.jslex import literals

    src = ('const a = "x"; // "not a literal"\nconst r = /"/g;\nfunction f() { return { k: \'v\', t: `a${b}c` }; }\n'
           'export const cfg = { key: "lit" };\nclass C { m() { return "in"; } }\nconst g = () => { return "arrow"; };\n')
    got = [(src[lit.start:lit.end], lit.in_function, lit.enclosing[-1:]) for lit in literals(src)]
    assert got == [('"x"', False, ()), ("'v'", True, ("obj",)), ("`a${", True, ("obj",)), ("}c`", True, ("obj",)),
                   ('"lit"', False, ("obj",)), ('"in"', True, ("fn",)), ('"arrow"', True, ("fn",))]


def test_dockerfile_env_legacy_form(tmp_path):
    ws, _, _, ecs = run(tmp_path, {"Dockerfile": f"FROM alpine\nENV STRIPE_KEY {TOKEN}\n"}, "Dockerfile")
    new = ws.pending["Dockerfile"].decode()
    assert TOKEN not in new and "ENV STRIPE_KEY" not in new and "# leakstop: STRIPE_KEY" in new
    assert ecs == [{"name": "STRIPE_KEY", "secret_name": "shop/prod/api-keys", "json_key": "stripe_key",
                    "dockerfile": "Dockerfile"}]


def test_env_file_gitignore_already_covers_it(tmp_path):
    files = {"conf/.env": f"export STRIPE_KEY='{TOKEN}'\n", ".gitignore": "*.env\n.env\n",
             "conf/.env.example": "OTHER=\n"}
    ws, _, _, _ = run(tmp_path, files, "conf/.env")
    assert ws.pending["conf/.env"].decode() == ("# leakstop: STRIPE_KEY moved to Secrets Manager secret "
                                                "shop/prod/api-keys#stripe_key\nexport STRIPE_KEY=\n")
    assert ws.pending["conf/.env.example"].decode() == "OTHER=\nSTRIPE_KEY=\n"
    assert ".gitignore" not in ws.pending and "conf/.gitignore" not in ws.pending


def test_json_ini_and_yaml_placeholders(tmp_path):
    ph = "{{leakstop:secretsmanager:shop/prod/api-keys#stripe_key}}"
    ws, _, _, _ = run(tmp_path, {"c.json": f'{{"stripe": {{"key": "{TOKEN}"}}}}\n'}, "c.json")
    assert ws.pending["c.json"].decode() == f'{{"stripe": {{"key": "{ph}"}}}}\n'
    ws, _, _, _ = run(tmp_path, {"c.ini": f"[stripe]\nkey = {TOKEN}\n"}, "c.ini")
    assert ws.pending["c.ini"].decode() == f"[stripe]\nkey = {ph}\n"
    ws, _, _, _ = run(tmp_path, {"c.yml": f"stripe:\n  key: {TOKEN}  # live\n"}, "c.yml")
    assert ws.pending["c.yml"].decode() == f'stripe:\n  key: "{ph}"  # live\n'
    import yaml

    assert yaml.safe_load(ws.pending["c.yml"])["stripe"]["key"] == ph


def test_cloudformation_json_and_ssm(tmp_path):
    src = f'{{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {{"F": {{"Properties": {{"K": "{TOKEN}"}}}}}}}}\n'
    ws, _, _, _ = run(tmp_path, {"t.json": src}, "t.json")
    assert "{{resolve:secretsmanager:shop/prod/api-keys:SecretString:stripe_key}}" in ws.pending["t.json"].decode()
    ssm = Settings(project="shop", env="prod", backend="ssm")
    ws, _, _, _ = run(tmp_path, {"t.json": src}, "t.json", settings=ssm, name="/shop/prod/api-keys/stripe_key", key=None)
    assert "{{resolve:ssm-secure:/shop/prod/api-keys/stripe_key}}" in ws.pending["t.json"].decode()


def test_unknown_file_type_is_manual(tmp_path):
    _, manual, _, _ = run(tmp_path, {"main.go": f'const k = "{TOKEN}"\n'}, "main.go")
    assert manual and "no rewriter" in manual[0].reason


def test_node_check_never_writes_the_source_to_a_file(tmp_path, monkeypatch):
    """The rewritten JS still holds a value left for manual handling (here in a comment): node
    reads it from a pipe, so no temporary file ever holds it."""
    spy = tmp_path / "bin" / "node"
    spy.parent.mkdir()
    calls = tmp_path / "calls"
    spy.write_text('#!/bin/sh\nfor a in "$@"; do echo "arg $a" >> "$SPY_CALLS"; '
                   '[ -f "$a" ] && cat "$a" >> "$SPY_CALLS"; done\ncat > /dev/null\nexit 0\n')
    spy.chmod(0o755)
    monkeypatch.setenv("PATH", f"{spy.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SPY_CALLS", str(calls))
    other = sample.STRIPE_CFN
    src = f"// rotated: {other}\nexport const key = '{TOKEN}';\n"
    (tmp_path / "app.mjs").write_text(src)
    it = item(TOKEN, [site_of(tmp_path, "app.mjs", TOKEN)])
    left = item(other, [site_of(tmp_path, "app.mjs", other)], key="old_key")
    ws = Workspace(tmp_path)
    manual = rewrite_all(ws, [it, left], S, make_store(S.backend, S.region)).manual
    assert [m.site.line for m in manual] == [1]
    assert "leakstopValue" in ws.pending["app.mjs"].decode()
    seen = calls.read_text()
    assert "arg --check" in seen and "arg --input-type=module" in seen
    assert other not in seen and TOKEN not in seen, "the source reached a file"


def test_python_pydantic_field_is_a_default_factory(tmp_path, monkeypatch):
    pytest.importorskip("pydantic")
    src = 'from pydantic import BaseModel\n\n\nclass Settings(BaseModel):\n    api_key: str = "<A>"\n    n: int = 1\n'
    values = {"<A>": sample._tok("sk_" + "live_", sample._ALNUM, 24)}
    new, mod, calls, _ = _module(tmp_path, src, values)
    assert "leakstop_pydantic_field(lambda: " in new and calls == []
    assert mod.Settings().api_key == "stored:a" and mod.Settings(api_key="given").api_key == "given"


def test_two_values_never_share_an_environment_variable(tmp_path):
    src = 'class A:\n    token = "<A>"\n\n\nclass B:\n    token = "<B>"\n    other = os.environ.get("TOKEN", "<C>")\n'
    values = {f"<{c}>": sample._tok("sk_" + "live_", sample._ALNUM, 24) for c in "ABC"}
    new, _, _, _ = _module(tmp_path, "import os\n" + src, values)
    assert 'leakstop_env_or_lookup("TOKEN", "shop/prod/api-keys", "a")' in new
    assert 'leakstop_env_or_lookup("B", "shop/prod/api-keys", "b")' in new  # TOKEN is taken: the JSON key
    assert 'leakstop_env_or_lookup("TOKEN", "shop/prod/api-keys", "c")' in new  # the code's own variable, kept


def test_a_connection_uri_is_rebuilt_from_the_secret_with_the_password_url_encoded(tmp_path):
    """A rotated password holding @ : / % still gives a URI that parses back to it."""
    import json
    import types
    from urllib.parse import unquote, urlsplit

    password = sample._tok("", sample._ALNUM, 20)
    src = f'DATABASE_URL = "postgresql://orders:{password}@db.internal:6543/orders?sslmode=require"\n'
    (tmp_path / "db.py").write_text(src)
    col = src.index(password) + 1
    it = item(password, [Site("db.py", 1, col, col + len(password), "r")], name="shop/prod/postgres", key="password")
    it.connection = {"engine": "postgres", "host": "db.internal", "port": "6543", "username": "orders",
                     "dbname": "orders", "scheme": "postgresql", "query": "sslmode=require"}
    ws = Workspace(tmp_path)
    rewrite_all(ws, [it], S, make_store(S.backend, S.region))
    new = ws.pending["db.py"].decode()
    assert ('leakstop_env_or_url("DATABASE_URL", "shop/prod/postgres", "password", '
            '"postgresql://{username}:{password}@{host}:{port}/{dbname}?sslmode=require")') in new
    helper = types.ModuleType("h")
    exec(ws.pending["leakstop_secrets.py"].decode(), helper.__dict__)
    stored = {"engine": "postgres", "host": "db.internal", "port": "6543", "username": "orders", "dbname": "orders"}
    helper.lookup = lambda name, key=None: json.dumps({**stored, "password": password})
    assert helper.env_or_url("UNSET_VAR_X", "n", "password", "postgresql://{username}:{password}@{host}:{port}/{dbname}"
                             "?sslmode=require") == src.split('"')[1]  # identical to the original
    rotated = "p@ss:w/rd%zz" + password[:4]
    helper.lookup = lambda name, key=None: json.dumps({**stored, "password": rotated})
    url = helper.env_or_url("UNSET_VAR_X", "n", "password", "postgresql://{username}:{password}@{host}:{port}/{dbname}")
    parts = urlsplit(url)
    assert unquote(parts.password) == rotated and parts.hostname == "db.internal" and parts.port == 6543


def test_python_helper_reads_through_the_lambda_extension(monkeypatch):
    import json
    import types

    from scanner.remediate import helper_templates as H

    token, value = sample._tok("tok", sample._ALNUM, 16), sample._tok("", sample._ALNUM, 20)
    server, seen = extension_server(token, {"shop/prod/stripe": json.dumps({"secret_key": value}), "/p/x": value})
    try:
        helper = types.ModuleType("h")
        exec(H.python_helper("us-east-1", 300, False), helper.__dict__)
        helper._client = lambda service: (_ for _ in ()).throw(AssertionError("an AWS API call"))
        monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(server.server_address[1]))
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)
        monkeypatch.delenv("STRIPE_KEY", raising=False)
        assert helper.env_or_lookup("STRIPE_KEY", "shop/prod/stripe", "secret_key") == value
        assert helper.parameter("/p/x") == value
        assert seen == ["/secretsmanager/get?secretId=shop%2Fprod%2Fstripe",
                        "/systemsmanager/parameters/get?withDecryption=true&name=%2Fp%2Fx"]
    finally:
        server.shutdown()


def test_python_constant_inside_a_module_level_block_stays_valid(tmp_path):
    src = 'import os\nif not os.environ.get("LEAKSTOP_TEST_UNSET"):\n    KEY = "<A>"\n'
    values = {"<A>": sample._tok("sk_" + "live_", sample._ALNUM, 24)}
    new, mod, calls, notes = _module(tmp_path, src, values)
    assert "def _leakstop_" not in new and any("looked up when the module is imported" in n for n in notes)
    assert mod.KEY == "stored:a"
