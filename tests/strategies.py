"""Hypothesis strategies shared by the property tests: near-valid files of every format the
detectors and loaders read, hostile fragments, and fake credentials made from a seed.

Random bytes alone rarely get past a parser's first line, so each format has a small grammar
(keys, quotes, continuations, comments, nesting) whose output is then mutated (a hostile
fragment inserted, a slice dropped or repeated, the end cut off). Planted credentials are made
from an integer seed inside the test, so that a failing example prints the seed, never a value.
"""

from __future__ import annotations

import random
import string

from hypothesis import settings
from hypothesis import strategies as st

# Fragments that end quotes, open blocks, escape, start comments or references, or are bytes a
# parser may not expect (CR, NUL, BOM, line/paragraph separators, UTF-8 holding 0x85/0xA0).
HOSTILE = [
    "\r", "\r\n", "\0", "\t", "\x0b", "\x0c", "#", " #", ";", "'", '"', "''", '\\"', "\\", "\\\n", "`", "=", ":",
    ": ", "{", "}", "[", "]", "{}", "[]", "$", "${X}", "$(", "{{", "}}", "<%", "%>", "#{", "ab://u:p@h",
    "pg://app:Zx9q7Lw2@db/x", "Password=Kq8w;", "é", "à", "Å", "\u0085", "\u00a0", "\u2028", "\ufeff", "🔑",
    "---", "...", "- ", "-", "|", "|-", ">", "!Ref ", "!!str ", "&a ", "*a", "<", ">", "/>", "</a>", "<!--",
    "-->", "<![CDATA[", "\n", "\n\n", "    ", "\\\r\n", "variable \"x\" {", "}", "EOF", "<<EOF", "export ",
    "--build-arg ", "RUN ", "ENV ", "ARG ", "# escape=`", "`", "kind: Secret", '"kind": "Secret"',
]
KEYS = [
    "DB_PASSWORD", "API_KEY", "secret", "token", "clientSecret", "aws_secret_access_key", "password", "auth_token",
    "PGPASSWORD", "private-key", "NAME", "host", "port", "user", "PASSWORD_FILE", "value", "name", "key", "url",
    "data", "stringData", "environment", "services", "default", "_authToken", "ConnectionString", "x",
]
_ALNUM = string.ascii_letters + string.digits


def fake_secret(seed: int, length: int = 24, alphabet: str = _ALNUM) -> str:
    """A random, high-entropy value of mixed case and digits (never a placeholder shape)."""
    rnd = random.Random(seed)
    while True:
        v = "".join(rnd.choice(alphabet) for _ in range(length))
        if any(c.islower() for c in v) and any(c.isupper() for c in v) and any(c.isdigit() for c in v):
            return v


seeds = st.integers(min_value=0, max_value=2**32 - 1)
keys = st.one_of(st.sampled_from(KEYS), st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,16}", fullmatch=True))
words = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\n"), max_size=12
)
# A value: a word, a hostile fragment, a credential-shaped run, or a few of them glued.
_atom = st.one_of(words, st.sampled_from(HOSTILE), seeds.map(lambda s: fake_secret(s, 8 + s % 40)))
values = st.lists(_atom, max_size=4).map("".join)
newlines = st.sampled_from(["\n", "\r\n"])


def _quote(v: str, q: str) -> str:
    return f"{q}{v}{q}" if q else v


quotes = st.sampled_from(["", "", '"', "'"])


@st.composite
def mutated(draw, base: st.SearchStrategy[str]) -> str:
    """A near-valid text: ``base`` with a few hostile edits."""
    text = draw(base)
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.integers(0, 3))
        at = draw(st.integers(0, len(text)))
        if op == 0:
            text = text[:at] + draw(st.sampled_from(HOSTILE)) + text[at:]
        elif op == 1:
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
        elif op == 2:
            text = text[:at] + text[at : at + 16] * draw(st.integers(2, 4)) + text[at + 16 :]
        else:
            text = text[:at]
    return text


def joined(lines: st.SearchStrategy[str], max_size: int = 12) -> st.SearchStrategy[str]:
    return st.tuples(st.lists(lines, max_size=max_size), newlines).map(lambda t: t[1].join(t[0]))


# -- one grammar per format -------------------------------------------------------------------
_comment = st.tuples(st.sampled_from(["#", "# ", ";", "//"]), words).map("".join)

env_lines = st.one_of(
    st.tuples(st.sampled_from(["", "export ", "  "]), keys, st.sampled_from(["=", " = ", "= "]), quotes, values,
              st.sampled_from(["", " # note", "\t#x"]))
    .map(lambda t: f"{t[0]}{t[1]}{t[2]}{_quote(t[4], t[3])}{t[5]}"),
    _comment, words, st.just(""),
)
env_text = mutated(joined(env_lines))

_dockerfile_line = st.one_of(
    st.tuples(st.sampled_from(["ENV", "ARG", "env", "LABEL"]), st.lists(st.tuples(keys, quotes, values), min_size=1, max_size=3))
    .map(lambda t: t[0] + " " + " ".join(f"{k}={_quote(v, q)}" for k, q, v in t[1])),
    st.tuples(st.sampled_from(["ENV"]), keys, values).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
    st.tuples(st.sampled_from([
        "curl -u deploy:{v} https://x", "mysql -u root -p{v} db", "docker login -p {v} reg", "echo {v} | docker login --password-stdin",
        "npm config set //r/:_authToken={v}", "wget --password={v} http://x", "sshpass -p {v} ssh h", "K={v} make",
        "git clone https://u:{v}@git.internal/r.git", "curl curl curl --user", "mysql mysql -p",
    ]), values).map(lambda t: "RUN " + t[0].replace("{v}", t[1])),
    _comment, words, st.just("FROM alpine"), st.just("# escape=`"),
)
dockerfile_text = mutated(
    st.tuples(st.lists(st.tuples(_dockerfile_line, st.sampled_from(["", " \\", "\\", " `"])), max_size=10), newlines)
    .map(lambda t: t[1].join(a + b for a, b in t[0]))
)
build_args_text = mutated(joined(
    st.tuples(st.sampled_from(["docker build", "docker build -t x", "  "]), st.lists(st.tuples(st.sampled_from(["--build-arg ", "--build-arg=", "--build-arg  "]), quotes, keys, values), max_size=3))
    .map(lambda t: t[0] + "".join(f" {a}{q}{k}={v}{q}" for a, q, k, v in t[1]))
))


@st.composite
def yaml_text(draw, depth: int = 4) -> str:
    """YAML of nested mappings and lists, with quoted/plain/block scalars, tags, anchors,
    aliases, flow collections, documents and comments; indentation by spaces or tabs."""
    out: list[str] = []
    nl = draw(newlines)

    def scalar() -> str:
        kind = draw(st.integers(0, 7))
        v = draw(values)
        if kind == 0:
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if kind == 1:
            return "'" + v.replace("'", "''") + "'"
        if kind == 2:
            return draw(st.sampled_from(["!Ref ", "!vault ", "!!str ", "&anc ", "*anc", "{a: b}", "[a, b]"])) + v
        return v

    def node(indent: int, d: int) -> None:
        pad = draw(st.sampled_from([" ", "\t"])) * indent if indent else ""
        for _ in range(draw(st.integers(1, 4))):
            kind = draw(st.integers(0, 6))
            item = draw(st.booleans())
            lead = pad + ("- " if item else "")
            key = draw(keys)
            if kind <= 2 or d >= depth:
                out.append(f"{lead}{key}: {scalar()}" + draw(st.sampled_from(["", " # c", "  #"])))
            elif kind == 3:
                out.append(f"{lead}{key}: {draw(st.sampled_from(['|', '>', '|-', '>+', '|2']))}")
                for _ in range(draw(st.integers(0, 3))):
                    out.append(pad + "  " + draw(values))
            elif kind == 4:
                out.append(f"{lead}{scalar()}")
            else:
                out.append(f"{lead}{key}:" + draw(st.sampled_from(["", " &a", " !!map"])))
                node(indent + draw(st.integers(1, 4)), d + 1)
        if draw(st.integers(0, 5)) == 0:
            out.append(draw(st.sampled_from(["---", "...", "# comment", "", "  "])))

    for _ in range(draw(st.integers(1, 2))):
        node(0, 0)
    return nl.join(out)


yaml_texts = mutated(yaml_text())


@st.composite
def kubernetes_yaml(draw) -> str:
    import base64

    nl = draw(newlines)
    docs = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["Secret", "secret", "ConfigMap", '"Secret"']))
        lines = ["apiVersion: v1", f"kind: {kind}", "metadata:", "  name: x"]
        for section in draw(st.lists(st.sampled_from(["data", "stringData"]), max_size=2)):
            lines.append(f"{section}:")
            for _ in range(draw(st.integers(0, 3))):
                raw = draw(st.one_of(values, seeds.map(fake_secret)))
                v = base64.b64encode(raw.encode()).decode() if section == "data" and draw(st.booleans()) else raw
                style = draw(st.integers(0, 3))
                if style == 0:
                    lines.append(f"  {draw(keys)}: |")
                    lines += [f"    {v[i:i + 20]}" for i in range(0, len(v), 20)] or ["    "]
                else:
                    lines.append(f"  {draw(keys)}: {_quote(v, draw(quotes))}")
        docs.append(nl.join(lines))
    return (nl + "---" + nl).join(docs)


def _json_values(max_leaves: int = 12) -> st.SearchStrategy:
    leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), values)
    return st.recursive(
        leaf, lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(st.one_of(keys, words), kids, max_size=4)),
        max_leaves=max_leaves,
    )


@st.composite
def json_text(draw) -> str:
    import json

    doc = draw(_json_values())
    if draw(st.booleans()):  # a Kubernetes Secret, or a List of them
        secret = {"apiVersion": "v1", "kind": "Secret",
                  "data": draw(st.dictionaries(keys, values, max_size=3)),
                  "stringData": draw(st.dictionaries(keys, st.one_of(values, st.integers()), max_size=3))}
        doc = {"kind": "List", "items": [secret, doc]} if draw(st.booleans()) else secret
    return json.dumps(doc, indent=draw(st.sampled_from([None, 1, 2, "\t"])), ensure_ascii=draw(st.booleans()))


json_texts = mutated(json_text())

ini_lines = st.one_of(
    st.tuples(keys, st.sampled_from(["=", " = ", ": ", " ", "\t", "="]), quotes, values, st.sampled_from(["", " ; c", " # c", ";"]))
    .map(lambda t: f"{t[0]}{t[1]}{_quote(t[3], t[2])}{t[4]}"),
    st.tuples(st.sampled_from(["[", "[[", "[section."]), keys, st.sampled_from(["]", "]]", ""])).map("".join),
    st.tuples(st.sampled_from(["//registry.npmjs.org/:", "//r/:"]), keys, st.just("="), values).map("".join),
    st.tuples(st.just("machine h login u password "), values).map("".join),
    st.tuples(st.just("h:5432:db:u:"), values).map("".join),
    _comment, words, st.just(""),
)
ini_text = mutated(joined(ini_lines))


@st.composite
def xml_text(draw, depth: int = 3) -> str:
    parts: list[str] = []

    def element(d: int) -> None:
        tag = draw(st.sampled_from(["add", "password", "property", "server", "a", "connectionStrings", "x:secret"]))
        attrs = "".join(
            f' {k}="{v}"' for k, v in draw(st.lists(st.tuples(keys, values), max_size=3))
        )
        parts.append(f"<{tag}{attrs}")
        kind = draw(st.integers(0, 3))
        if kind == 0 or d >= depth:
            parts.append("/>")
            return
        parts.append(">")
        if kind == 1:
            parts.append(draw(values))
        else:
            for _ in range(draw(st.integers(0, 3))):
                element(d + 1)
        parts.append(draw(st.sampled_from([f"</{tag}>", f"</{tag} >", "</y>", ""])))

    parts.append(draw(st.sampled_from(['<?xml version="1.0"?>\n', "", "<!-- c -->"])))
    for _ in range(draw(st.integers(1, 3))):
        element(0)
        parts.append(draw(st.sampled_from(["\n", "\r\n", "", " "])))
    return "".join(parts)


xml_texts = mutated(xml_text())

terraform_lines = st.one_of(
    st.tuples(st.just('variable "'), keys, st.just('" {')).map("".join),
    st.tuples(st.just('  default = "'), values, st.just('"')).map("".join),
    st.tuples(st.sampled_from(["", "  ", '"']), keys, st.sampled_from(['" = "', ' = "', '= "']), values, st.sampled_from(['"', ""]))
    .map("".join),
    st.sampled_from(['resource "aws_db_instance" "x" {', "locals {", "}", "  }", "<<EOF", "EOF", "# c", "/* c */"]),
    words,
)
terraform_text = mutated(joined(terraform_lines))

compose_text = mutated(
    st.tuples(
        st.lists(st.tuples(keys, st.booleans(), st.lists(st.tuples(keys, quotes, values), max_size=3)), max_size=3),
        newlines,
    ).map(lambda t: t[1].join(
        ["services:"] + [
            line for svc, as_list, env in t[0] for line in (
                [f"  {svc}:", "    environment:"]
                + [f"      - {k}={v}" if as_list else f"      {k}: {_quote(v, q)}" for k, q, v in env]
                + ["    build:", "      args:"] + [f"        {k}: {v}" for k, _, v in env]
            )
        ]
    ))
)


# Single characters and pairs whose long runs make a backtracking pattern or a rescanning loop
# show itself.
RUN_UNITS = list(" \t\n\r\0aA0_{}[]()\\\"'=:-/<>#$%@.,;|*!&`~+é") + [
    "{{", "}}", "<%", "${", "$(", "a ", "a=", "a:", "a.", "a\n", " \n", "- ", "#{", "//", "\\\n", "''", '\\"', "@h",
    "ab://", "u:", "key ", "pass=", "<a ", 'name="x" ', "curl ", "--build-arg ", 'variable "v" {\n', "{\n", "[\n",
]


@st.composite
def stretchable(draw, base: st.SearchStrategy[str]):
    """(head, unit, tail): a text that grows as ``head + unit * n + tail``; head and tail come
    from the format's grammar (so prefilters and structure are satisfied), unit is a run
    character, a hostile fragment or a whole grammar text (the file repeated)."""
    head = draw(st.one_of(base, st.sampled_from(HOSTILE)))
    unit = draw(st.one_of(st.sampled_from(RUN_UNITS), st.sampled_from(HOSTILE), base).filter(bool))
    tail = draw(st.one_of(st.just(""), base, st.sampled_from(HOSTILE)))
    return head, unit, tail


def stretch(shape, size: int) -> str:
    head, unit, tail = shape
    return head + unit * max(1, size // len(unit)) + tail


def assert_linear(run, shape, size: int = 20_000, factor: int = 4) -> None:
    """``run`` on the text at ``size`` and at ``factor`` times that: CPU time may grow about
    linearly (with room for noise), not quadratically. CPU time of this process, so that other
    processes on a busy machine do not count."""
    import time

    def cost(text: str) -> float:
        t0 = time.process_time()
        run(text)
        return time.process_time() - t0

    small = cost(stretch(shape, size))
    assert small < 2.0, f"{size // 1000} KB input: {small:.3f}s"  # already super-linear: stop here
    large = cost(stretch(shape, size * factor))
    assert large <= 2.5 * factor * small + 0.3, f"x{factor} input: {small:.3f}s -> {large:.3f}s"


def fewer(fraction: float, **kwargs) -> settings:
    """The active profile's example count scaled down (for costly properties), plus ``kwargs``."""
    return settings(max_examples=max(5, int(settings.default.max_examples * fraction)), **kwargs)
