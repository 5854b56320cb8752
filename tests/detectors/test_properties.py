"""Property tests of the context detectors (env, Dockerfile and --build-arg, YAML, JSON, INI,
TOML, properties, dotfiles, XML, Kubernetes, Terraform, compose) and the key/URI helpers.

For every format, on near-valid and hostile input: a detector never raises; every match lies
inside the input, is what the rule's own regex accepts and covers whole UTF-8 characters; the
engine's findings name the line and column where that value is; a credential planted among
filler is found at exactly its span; and time grows linearly (input repeated to ~100 KB must
finish well inside the deadline, where a quadratic step takes minutes).
"""

from __future__ import annotations

import re

from datetime import timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from scanner.detectors import Emitter, compose, config, dockerfile, envfile, keyfile, keys, kubernetes, passwdfile, terraform, yamlish
from scanner.models import Chunk
from scanner.rules import load_rules
from tests import strategies as S
from tests.detectors.fixture_eval import CONTEXT_RULES, digest

EM = Emitter(load_rules([CONTEXT_RULES]))

# name -> (file name, strategy, detectors run on it)
FORMATS = {
    "env": (".env", S.env_text, (envfile.detect,)),
    "dockerfile": ("Dockerfile", S.dockerfile_text, (dockerfile.detect, dockerfile.detect_build_args)),
    "build-args": ("build.sh", S.build_args_text, (dockerfile.detect_build_args,)),
    "yaml": ("settings.yaml", S.yaml_texts, (config.detect,)),
    "kubernetes-yaml": ("secret.yaml", S.mutated(S.kubernetes_yaml()), (kubernetes.detect, config.detect)),
    "json": ("config.json", S.json_texts, (config.detect,)),
    "kubernetes-json": ("secret.json", S.json_texts, (kubernetes.detect, config.detect)),
    "ini": ("app.ini", S.ini_text, (config.detect,)),
    "toml": ("settings.toml", S.ini_text, (config.detect,)),
    "properties": ("application.properties", S.ini_text, (config.detect,)),
    "npmrc": (".npmrc", S.ini_text, (config.detect,)),
    "netrc": (".netrc", S.ini_text, (config.detect,)),
    "pgpass": (".pgpass", S.ini_text, (config.detect,)),
    "fetchmail": (".fetchmailrc", S.ini_text, (config.detect,)),
    "keyfile": ("config/master.key", S.ini_text, (keyfile.detect,)),
    "htpasswd": (".htpasswd", S.ini_text, (passwdfile.detect,)),
    "shadow": ("etc/shadow", S.ini_text, (passwdfile.detect,)),
    "htdigest": (".htdigest", S.ini_text, (passwdfile.detect,)),
    "xml": ("web.config", S.xml_texts, (config.detect,)),
    "terraform": ("main.tf", S.terraform_text, (terraform.detect,)),
    "compose": ("docker-compose.yml", S.compose_text, (compose.detect, config.detect)),
}


_CONTINUATION = re.compile(rb"[\\`][ \t]*\r?\n")


def check_matches(path: str, data: bytes, detectors) -> list:
    """Run the detectors on ``data``; assert every match is sound; return them."""
    chunk = Chunk(path=path, data=data)
    out = []
    for fn in detectors:
        for m in fn(chunk, EM):
            assert 0 <= m.start < m.end <= len(data), (fn.__module__, m.start, m.end, len(data))
            value = data[m.start : m.end]
            # A Dockerfile or shell value split by a line continuation is reported from its first
            # to its last character; the value itself is its pieces joined, as the shell joins them.
            joined = _CONTINUATION.sub(b"", value)
            assert m.rule.pattern.search(joined), (m.rule.id, digest(value.decode("latin-1")))
            assert m.key is None or isinstance(m.key, str)
            if _is_utf8(data):
                value.decode("utf-8")  # a span never cuts a character in two
            out.append(m)
    return out


def check_findings(data: bytes, findings) -> None:
    """Each finding's line and columns point at its value (columns count characters)."""
    if not _is_utf8(data):
        return
    lines = data.split(b"\n")
    for f in findings:
        start = sum(len(line) + 1 for line in lines[: f.line - 1])
        text = data[start:].decode("utf-8")
        assert text[f.column - 1 : f.end_column - 1] == f.secret.decode("utf-8"), (f.rule_id, f.line, f.column)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize("name", sorted(FORMATS))
@given(data=st.data())
def test_detectors_never_raise_and_report_sound_spans(ctx_engine, name, data):
    path, strategy, detectors = FORMATS[name]
    raw = data.draw(strategy, label="text").encode("utf-8")
    check_matches(path, raw, detectors)
    check_findings(raw, ctx_engine.scan(Chunk(path=path, data=raw)))


@pytest.mark.parametrize("name", sorted(FORMATS))
@given(raw=st.binary(max_size=300))
def test_detectors_take_any_bytes(name, raw):
    path, _, detectors = FORMATS[name]
    check_matches(path, raw, detectors)


# -- a planted credential is found at exactly its span ------------------------------------------
CREDENTIAL_KEYS = ["DB_PASSWORD", "api_key", "clientSecret", "AWS_SECRET_ACCESS_KEY", "auth_token", "smtp.password"]
# Filler that cannot change how the planted line parses: no quotes, escapes or structure.
_plain = st.text(alphabet=st.sampled_from("abcXYZ019 _.-éà€"), max_size=20)

# name -> (file name, detector, filler line, planted line template, must the key be an identifier?)
PLANTS = {
    "env": (".env", envfile.detect, "# {w}", ["{k}={v}", 'export {k}="{v}"', "{k} = '{v}' # prod"], True),
    "dockerfile": ("Dockerfile", dockerfile.detect, "RUN echo {w}", ["ENV {k}={v}", "ENV {k} {v}", 'ARG {k}="{v}"'], True),
    "build-args": ("ci.sh", dockerfile.detect_build_args, "echo {w}", ["docker build --build-arg {k}={v} ."], True),
    "yaml": ("app.yaml", config.detect, "note: {w}", ["{k}: {v}", '{k}: "{v}"', "{k}: '{v}'  # c"], False),
    "json": ("app.json", config.detect, '"note": "{w}",', ['"{k}": "{v}",'], False),
    "ini": ("app.ini", config.detect, "note = {w}", ["{k} = {v}", "{k}={v}", '{k} = "{v}"'], False),
    "properties": ("app.properties", config.detect, "note={w}", ["{k}={v}", "{k}: {v}"], False),
    "xml": ("app.xml", config.detect, "<note>{w}</note>", ["<{k}>{v}</{k}>", '<add key="{k}" value="{v}" />'], True),
    "terraform": ("main.tf", terraform.detect, 'note = "{w}"', ['{k} = "{v}"'], True),
    "compose": ("compose.yaml", compose.detect, "    # {w}", ["      {k}: {v}", "      - {k}={v}"], True),
    "kubernetes": ("s.yaml", kubernetes.detect, "  # {w}", ["  {k}: {v}"], False),
}
_HEADS = {"compose": "services:\n  app:\n    environment:\n", "kubernetes": "kind: Secret\nstringData:\n"}


@pytest.mark.parametrize("name", sorted(PLANTS))
@given(
    seed=S.seeds, length=st.integers(12, 48), template=st.integers(0, 9), key=st.sampled_from(CREDENTIAL_KEYS),
    before=st.lists(_plain, max_size=6), after=st.lists(_plain, max_size=6), nl=S.newlines,
)
def test_planted_credential_is_found_at_its_span(name, seed, length, template, key, before, after, nl):
    path, detector, filler, templates, ident = PLANTS[name]
    if ident and "." in key:
        key = key.replace(".", "_")
    value = S.fake_secret(seed, length)
    line = templates[template % len(templates)].format(k=key, v=value)
    if name == "compose" and line.lstrip().startswith("-"):
        head = "services:\n  app:\n    environment:\n"  # a list: filler must not be mapping entries
    else:
        head = _HEADS.get(name, "")
    pre = nl.join(filler.format(w=w) for w in before)
    text = (head.replace("\n", nl) + pre + (nl if pre else "")) + line + nl + nl.join(filler.format(w=w) for w in after)
    data = text.encode("utf-8")
    start = data.index(value.encode())
    spans = {(m.start, m.end, m.key) for m in check_matches(path, data, (detector,))}
    assert (start, start + len(value), key) in spans, [(s, e, k) for s, e, k in spans]


# -- linear time --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(FORMATS))
@S.fewer(0.5, deadline=timedelta(seconds=20))
@given(data=st.data())
def test_detectors_take_linear_time(name, data):
    path, strategy, detectors = FORMATS[name]
    shape = data.draw(S.stretchable(strategy), label="head, unit, tail")
    S.assert_linear(lambda text: check_matches(path, text.encode("utf-8"), detectors), shape)


# Inputs the properties found slow (each was quadratic: minutes at 1 MB), kept as regression cases.
@pytest.mark.parametrize(
    "name, shape",
    [
        ("yaml", ("key;", " ", "")),  # a plain key's lazy scan then \s* re-read a run of spaces
        ("compose", ("x", " ", "")),
        ("xml", ("key ", "a", "")),  # an attribute name tried at every position of a run
        ("xml", ("<a ", 'name="x" ', "key")),  # a lazy scan re-read the tag for every name=
        ("terraform", ("", 'variable "v" {\n', 'password = "x"')),  # one search per variable block
        ("terraform", ("", 'variable "v" {\n  default = "Zq7xLw2p"\n', "", 40_000)),  # each default x each block
        ("dockerfile", ("RUN ", "curl ", "")),  # every curl re-read the rest of the command
        ("dockerfile", ("ENV x=1 ", "a", "")),  # a key tried at every position of a run
        ("dockerfile", ("RUN x _authToken", " ", "")),  # \s*[= ]\s* tried every split of the spaces
        ("dockerfile", ("RUN htpasswd -", "b", "")),
        ("dockerfile", ("RUN ", "a=ab://u:pass1234@h ", "")),  # each assignment checked every password
        ("kubernetes-yaml", ("x", " \n", "")),  # ^\s* crossed newlines from every line start
        ("env", ("PASSWORD=ab://u:", "{{", "@h")),  # {{.*?}} from every unclosed {{
        ("env", ("PASSWORD=ab://u:", "${", "@h")),
    ],
)
def test_known_slow_inputs_take_linear_time(name, shape):
    path, _, detectors = FORMATS[name]
    size = shape[3] if len(shape) > 3 else 20_000
    S.assert_linear(lambda text: check_matches(path, text.encode("utf-8"), detectors), shape[:3], size)


# Values ending in a character whose UTF-8 form holds 0x85 or 0xA0 (à is C3 A0): Python's str
# whitespace on Latin-1 text cut them mid-character (and judged them prose).
@pytest.mark.parametrize(
    "path, template",
    [
        (".env", "DB_PASSWORD={v}\n"), ("Dockerfile", "ENV DB_PASSWORD {v}\n"), ("Dockerfile", "ENV DB_PASSWORD={v}\n"),
        ("build.sh", "docker build --build-arg DB_PASSWORD={v} .\n"), ("app.yaml", "db_password: {v}\n"),
        ("app.ini", "db_password = {v}\n"), ("app.properties", "db.password={v}\n"),
        ("Dockerfile", "RUN curl -u deploy:{v} https://x\n"), ("app.yaml", "url: pg://app:{v}@db.internal/x\n"),
    ],
)
@pytest.mark.parametrize("tail", ["à", "Å", "Š"])
def test_values_with_multibyte_characters_are_whole(path, template, tail):
    value = S.fake_secret(7, 16) + tail
    data = template.format(v=value).encode("utf-8")
    detectors = next(d for p, _, d in FORMATS.values() if p == path or p.rsplit(".", 1)[-1] == path.rsplit(".", 1)[-1])
    spans = {(m.start, m.end) for m in check_matches(path, data, detectors)}
    start = data.index(value.encode())
    assert (start, start + len(value.encode())) in spans, sorted(spans)


# -- key and URI helpers ------------------------------------------------------------------------
@given(key=st.one_of(S.keys, S.words), value=S.values, strict=st.booleans())
def test_judgement_helpers_are_total(key, value, strict):
    assert keys.credential_kind(key) in (None, "strong", "weak")
    assert isinstance(keys.judge(value, key, strict), bool)
    assert isinstance(keys.is_reference(value), bool)
    assert isinstance(keys.looks_generated(value), bool)
    for s, e in keys.uri_passwords(value):
        assert 0 <= s < e <= len(value)
        assert not any(c in value[s:e] for c in "@/?#") and not value[s:e].isspace()


@given(seed=S.seeds, scheme=st.sampled_from(["postgres", "mongodb+srv", "redis", "https"]),
       user=st.sampled_from(["app", "", "svc.user"]), host=st.sampled_from(["db.internal", "10.0.0.5:5432", "h"]),
       prefix=S.words, suffix=st.sampled_from(["", "/app", "?ssl=1", " trailing"]))
def test_uri_password_span_is_the_password(seed, scheme, user, host, prefix, suffix):
    pw = S.fake_secret(seed, 16)
    text = f"{prefix} {scheme}://{user}:{pw}@{host}{suffix}"
    start = text.index(pw)
    assert (start, start + len(pw)) in keys.uri_passwords(text)


def _judge_all(value: str) -> None:
    for key in ("password", "api_key", "stripe_key"):
        keys.judge(value, key)
        keys.judge(value, key, strict=True)
    keys.is_reference(value)
    keys.uri_passwords(value)
    keys.uri_passwords("ab://u:" + value + "@h")
    keys.looks_generated(value)


@S.fewer(0.5, deadline=timedelta(seconds=20))
@given(shape=S.stretchable(S.values))
def test_judgement_helpers_take_linear_time(shape):
    S.assert_linear(_judge_all, shape)


# -- the YAML reader --------------------------------------------------------------------------------
@given(text=S.yaml_texts)
@example(text="DB_PASSWORD: |\r\n  \r\r\n---")  # a block line of blanks and a stray \r: no span
def test_yaml_entries_point_at_their_values(text):
    for e in yamlish.parse(text):
        assert 0 <= e.start <= e.end <= len(text)
        if not e.block:
            assert text[e.start : e.end] == e.value
        assert isinstance(e.path, tuple) and all(isinstance(p, str) for p in e.path)
