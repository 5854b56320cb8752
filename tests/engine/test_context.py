"""Syntax confirmation of generic candidates (scanner/engine/context.py): the code-noise fixture is
quiet, its positive counterparts are reported, and each judgement (literal, binding, comment,
docstring, prose, window, fallback) holds on its own."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest

from scanner.config import Config
from scanner.engine import Engine, context
from scanner.models import Chunk

NOISE = Path(__file__).resolve().parent.parent / "fixtures" / "noise"
_rng = random.SystemRandom()
# No vowels and no x: a random value never spells a placeholder word (todo, sample, xxxx, …).
_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c.lower() not in "aeioux")


def token(n: int = 32) -> str:
    """A random token-shaped value: letters of both cases and digits."""
    while True:
        v = "".join(_rng.choice(_ALPHABET) for _ in range(n))
        if any(c.isdigit() for c in v) and any(c.isupper() for c in v) and any(c.islower() for c in v):
            return v


def password() -> str:
    """A random human-looking password (short, mixed, a symbol): not token-shaped."""
    return token(10) + _rng.choice("!%@+") + _rng.choice(string.digits)


@pytest.fixture(scope="module")
def engine():
    return Engine(Config())


def scan(engine, name: str, text: str):
    """Findings for ``text`` as a file named ``name`` in an application directory (no test or
    fixture path, which other filters judge)."""
    return engine.scan(Chunk(f"app/{name}", text.encode()))


def fill(template: str) -> str:
    while "@@TOKEN@@" in template:
        template = template.replace("@@TOKEN@@", token(), 1)
    while "@@PASSWORD@@" in template:
        template = template.replace("@@PASSWORD@@", password(), 1)
    return template


NOISE_FILES = sorted(p for p in NOISE.iterdir() if p.is_file())
LEAK_FILES = sorted((NOISE / "leaks").iterdir())


# -- the fixtures -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", NOISE_FILES, ids=lambda p: p.name)
def test_code_noise_is_not_reported(engine, path):
    found = scan(engine, path.name, path.read_text())
    assert not found, [(f.line, f.rule_id) for f in found]


def test_code_noise_needs_the_syntax(engine, monkeypatch):
    """The fixture is what the characters alone get wrong: without syntax confirmation, dozens of
    its lines in every kind of source file would be reported."""
    monkeypatch.setattr(context.Syntax, "confirms", lambda self, start, end, key: True)
    lines = {(p.name, f.line) for p in NOISE_FILES for f in scan(engine, p.name, p.read_text())}
    assert len(lines) >= 40
    assert {".py", ".rb", ".js", ".ts", ".go", ".java", ".php", ".cs", ".sh", ".md"} <= {
        Path(name).suffix for name, _ in lines
    }


@pytest.mark.parametrize("path", LEAK_FILES, ids=lambda p: p.name)
def test_literals_bound_to_credential_names_are_reported(engine, path):
    template = path.read_text()
    wanted = {i + 1 for i, line in enumerate(template.split("\n")) if "@@" in line}
    found = {f.line for f in scan(engine, path.name, fill(template))}
    assert wanted - found == set()
    assert found - wanted == set()


# -- judgements, one at a time --------------------------------------------------------------------------

def verdicts(engine, name: str, text: str, parsers=None) -> list[str]:
    """The syntax verdict of every generic candidate the regex rules find in ``text``."""
    data = text.encode()
    syntax = context.Syntax(name, data, parsers or context.Parsers())
    return [syntax.verdict(m.start, m.end, m.key) for m in engine.matches(Chunk(name, data)) if m.rule.generic]


@pytest.mark.parametrize(
    "name, text, verdict",
    [
        # values that are not literals
        ("a.py", "def verify(request, client_secret=None, resource_owner_secret=None):\n    pass\n", "code"),
        ("a.py", 'def open(self, name, mode="r", pwd=None):\n    pass\n', "code"),
        ("a.py", "if self.check_token(BlockMappingStartToken):\n    pass\n", "code"),
        ("a.py", "token_loader_cls = FileWebIdentityTokenLoader\n", "code"),
        ("a.rb", "where(user_name: user_name, password: password).first\n", "code"),
        ("a.rb", "register_algorithm :argon2, SecurePassword::Argon2Password\n", "code"),
        ("a.rb", "assert_match(/password=\\[FILTERED\\]1/, path)\n", "opaque"),
        ("a.py", 'def load(key: typing.Union["_RSAPrivateKey", "_RSAPublicKey"]):\n    pass\n', "opaque"),
        ("a.ts", 'type Names = Record<"apiKey", "SecretKeyLabel9">;\n', "opaque"),
        # literals bound to no credential name
        ("a.py", 'minimum = password_policy.get("MinimumLength", 5)\n', "unbound"),
        ("a.py", 'raw = backend.generate_private_key("Ed25519x")\n', "unbound"),
        ("a.py", 'FIELDS = ["client_secret", "refresh_token"]\n', "unbound"),
        ("a.py", 'msg = "If that is your intention, pass `allow_module_level=True`."\n', "unbound"),
        ("a.py", 'SESSION_TOKEN_PREFIX = "FQoDYXdzEXAMPLEx9"\n', "unbound"),
        ("a.py", 'form = {"authenticity_token": "Zq8Wk3Lm9Rt2Vb7Nc4Hd6Jf1Gp5Sy0Q"}\n', "unbound"),
        ("a.py", 'class S:\n    DEFAULT_HOST_ID = (\n        "9Gjjt1m+cjU4OPvX9O9/8RuvnG41MRb/18Oux2o5H5MY7ISNTlXN+Dz9IG62/IL="\n    )\n',
         "unbound"),
        ("a.py", 'page = {\n    "NextToken":\n        "QTKknzFg2J4ygwa+XvHAxUl1hyHoY0gVfZdfjIedHZ0=",\n}\n', "unbound"),
        # literals that are prose: comments, docstrings, Markdown
        ("a.rb", "# To omit the instance writer method, pass `instance_writer: false`.\n", "prose"),
        ("a.py", 'def f():\n    """Call it as f(password="Summer2024!x")."""\n', "prose"),
        ("a.md", "To skip the check, pass `verify_token: false` to the client.\n", "prose"),
        ("a.go", '// password = "Summer2024!x" was the old default\n', "prose"),
    ],
)
def test_look_alikes_are_dropped(engine, name, text, verdict):
    found = verdicts(engine, name, text)
    assert verdict in found
    assert not context.KEEP.intersection(found)


@pytest.mark.parametrize(
    "name, text, verdict",
    [
        ("a.py", 'DB_PASSWORD = "{p}"\n', "bound"),
        ("a.py", 'BLOB = (\n    "{t}{t}"\n)\n', "standalone"),
        ("a.py", 'client = Client(api_key="{t}")\n', "bound"),
        ("a.py", 'settings = {{"client_secret": "{t}"}}\n', "bound"),
        ("a.py", 'if password == "{p}":\n    pass\n', "bound"),
        ("a.py", 'def connect(host, password="{p}"):\n    pass\n', "bound"),
        ("a.py", 'os.environ.setdefault("API_TOKEN", "{t}")\n', "bound"),
        ("a.py", 'dsn = "host=db user=app password={p} dbname=app"\n', "embedded"),
        ("a.py", '# api_key = "{t}"\n', "token-in-prose"),
        ("a.py", '"""Staging settings.\n\napi_key: {t}\n"""\n', "token-in-prose"),
        ("a.rb", 'client = Stripe::Client.new(api_key: "{t}")\n', "bound"),
        ("a.rb", 'DEFAULTS = {{ :password => "{p}" }}\n', "bound"),
        ("a.js", 'const apiKey = "{t}";\n', "bound"),
        ("a.js", "this.password = '{p}';\n", "bound"),
        ("a.go", 'package m\nvar apiKey string = "{t}"\n', "bound"),
        ("a.go", 'package m\nfunc f() {{ c := Config{{ClientSecret: "{t}"}} }}\n', "bound"),
        ("a.java", 'class A {{ void f() {{ props.put("client_secret", "{t}"); }} }}\n', "bound"),
        ("a.java", 'class A {{ void f() {{ b.setPassword("{p}"); }} }}\n', "bound"),
        ("a.java", 'class A {{ void f() {{ if (password.equals("{p}")) {{}} }} }}\n', "bound"),
        ("a.php", "<?php\ndefine('DB_PASSWORD', '{p}');\n", "bound"),
        ("a.cs", 'class A {{ void F() {{ var c = new C {{ Password = "{p}" }}; }} }}\n', "bound"),
        ("a.sh", 'mysql --user=app --password "{p}" app\n', "bound"),
        ("a.ini", "[db]\npassword = {p}\n", "bound"),
        ("a.md", '# Setup\n\n```python\nclient = Client(api_key="{t}")\n```\n', "bound"),
        ("a.md", "Use the token `api_key: {t}` from the dashboard.\n", "token-in-prose"),
    ],
)
def test_bound_literals_are_kept(engine, name, text, verdict):
    assert verdict in verdicts(engine, name, text.format(p=password(), t=token()))


# -- windows and fallbacks -----------------------------------------------------------------------------

def test_a_docstring_opened_far_above_the_window_is_prose(engine):
    body = "".join(f"    Line {i} of a long explanation of the settings.\n" for i in range(300))
    text = f'def f():\n    """Settings.\n\n{body}    Example: password = "{password()}"\n    """\n    return 1\n'
    assert verdicts(engine, "a.py", text) == ["prose"]


def test_a_literal_after_a_long_docstring_is_code(engine):
    body = "".join(f"    Line {i} of a long explanation of the settings.\n" for i in range(300))
    text = f'def f():\n    """Settings.\n\n{body}    """\n    password = "{password()}"\n'
    assert verdicts(engine, "a.py", text) == ["bound"]


def test_a_window_cut_inside_a_docstring_still_sees_the_docstring(engine):
    tail = "".join(f"    More text, line {i}.\n" for i in range(200))
    text = f'class A:\n    """Docs.\n\n    user = User(password="{password()}")\n{tail}    """\n'
    assert verdicts(engine, "a.py", text) == ["prose"]


def test_markdown_fence_nested_in_a_list_is_code(engine):
    text = f'*   Set the key:\n\n    ```ruby\n    config.api_key = "{token()}"\n    ```\n'
    assert verdicts(engine, "a.md", text) == ["bound"]


def test_markdown_list_paragraph_is_prose_not_code(engine):
    text = "*   Deprecate the `pk` argument.\n\n    Explicitly pass `with: :null_session` to silence the warning.\n"
    assert verdicts(engine, "a.md", text) == ["prose"]


@pytest.mark.parametrize("text", ["```\npassword = {p}\n```\n", "```erb\npassword = {p}\n```\n", "    password = {p}\n"])
def test_markdown_code_of_unknown_language_is_judged_by_the_regex(engine, text):
    assert verdicts(engine, "a.md", text.format(p=password())) == ["unknown-language"]


def test_unknown_languages_keep_the_regex_judgement(engine):
    assert verdicts(engine, "notes.txt", "pass `instance_writer: false` here\n") == ["unknown-language"]
    assert context.language_for("a/b/Rakefile") == "ruby"
    assert context.language_for("x.PY") == "python"
    assert context.language_for("Makefile") is None
    # Compressed files are scanned decompressed: the name under the compression suffix decides.
    assert context.language_for("botocore/data/ecr/service-2.json.gz") == "json"
    assert context.language_for("notes.gz") is None


def test_a_line_the_parser_cannot_read_is_judged_by_the_regex(engine):
    # YAML-like text in a .py file: not Python, so the parse is no evidence either way.
    assert verdicts(engine, "a.py", f'api_key: `{token()}`\n') == ["uncertain"]


def test_without_grammars_the_regex_judges(engine, monkeypatch):
    monkeypatch.setattr(context, "_load_parser", lambda name: None)
    text = "if self.check_token(BlockMappingStartToken):\n    pass\n"
    assert set(verdicts(engine, "a.py", text, context.Parsers())) == {"unknown-language"}


def test_parsing_stays_linear_in_the_file(engine):
    """Many candidates in one file share windows: the bytes parsed stay a small multiple of the
    file, however many candidates it holds."""
    import collections

    lines = "".join(f'    token_{i} = check_token(FlowEntryToken{i})\n' for i in range(3000))
    data = f"def f():\n{lines}".encode()
    engine.work = collections.Counter()
    try:
        assert engine.scan(Chunk("app/a.py", data)) == []
        assert 0 < engine.work["context"] <= 12 * len(data)
    finally:
        engine.work = None


# -- the pieces ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["Zq8Wk3Lm9Rt2Vb7Nc4Hd6Jf1Gp5Sy0Q", "rcHu+HzSFw89Ypyhn/896A==", "9d04a1e7c25b83f06e1d4a7b92c3f850"])
def test_token_shaped(value):
    assert context.token_shaped(value.encode())


@pytest.mark.parametrize("value", ["Summer2024!x", "42password", "instance_writer", "123\\nsome_namespace:\\n",
                                   "mock_access_key/20220524/us-east-1/aws4_request", "abcdefghijklmnopqrstuvwx"])
def test_not_token_shaped(value):
    assert not context.token_shaped(value.encode())


@pytest.mark.parametrize("callee, binds", [("setPassword", True), ("withClientSecret", True), ("api_key", True),
                                           ("password", True), ("check_token", False), ("generate_private_key", False),
                                           ("authenticate_password", False), ("get", False), ("issueToken", False)])
def test_names_credential(callee, binds):
    assert context.names_credential(callee) is binds


@pytest.mark.parametrize("name, ok", [("DB_PASSWORD", True), ("key_derivation_salt", True), ("SESSION_TOKEN_PREFIX", False),
                                      ("PROP_API_KEY_SOURCE", False), ("authenticity_token", False), ("csrf_token", False)])
def test_credential_name(name, ok):
    assert context.credential_name(name) is ok


def test_every_grammar_loads():
    parsers = context.Parsers()
    for lang in list(context.GRAMMARS) + ["markdown"]:
        assert parsers.get(lang) is not None, lang
    assert set(context.FENCE_LANGUAGES.values()) <= set(context.GRAMMARS)
    assert set(context.LANGUAGES.values()) <= set(context.GRAMMARS) | {"markdown"}


# -- keyless values: pieces of longer strings and rows of tables are data ------------------------------

def hex32() -> str:
    return "".join(_rng.choice("0123456789abcdef") for _ in range(32))


@pytest.mark.parametrize(
    "name, template",
    [
        ("a.py", 'expected = unhexlify(\n    "{h}"\n    "{h}"\n)\n'),  # adjacent literals: one 64-byte blob
        ("a.py", "plaintext = '{h}' +\\\n            '{h}'\n"),  # a + chain
        ("a.js", "const blob = '{h}' +\n  '{h}';\n"),
        ("a.py", "VECTORS = [\n    ('{h}', '{h}',\n        '{h}',\n        'vector 1'),\n]\n"),  # a table's row
        ("a.rb", 'SPELLINGS = [\n  "{u}",\n  "{h}",\n]\n'),  # a list of one value's spellings
    ],
)
def test_keyless_pieces_and_table_rows_are_data(engine, name, template):
    h = hex32()
    u = "-".join((h[:8], h[8:12], h[12:16], h[16:20], h[20:]))
    found = verdicts(engine, name, template.format(h=h, u=u).replace("{h}", hex32()))
    assert "data" in found and not context.KEEP.intersection(found)


@pytest.mark.parametrize(
    "name, template",
    [
        ("a.py", 'VALUE = (\n    "{h}"\n)\n'),
        ("a.py", 'client = Client(\n    "{h}",\n    "{h}",\n)\n'),  # an id and its secret: no table
        ("a.py", 'KEYS = [\n    "{h}",\n    "short",\n]\n'),
    ],
)
def test_keyless_values_alone_are_kept(engine, name, template):
    text = template
    while "{h}" in text:
        text = text.replace("{h}", hex32(), 1)
    assert "standalone" in verdicts(engine, name, text)
