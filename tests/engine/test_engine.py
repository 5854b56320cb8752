"""The engine pipeline: extraction, line/column, entropy, pragmas, allowlist, dedupe, line filters."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from scanner.config import Allowlist, Config
from scanner.engine import Engine
from scanner.models import Chunk
from scanner.rules import load_rules, rule_files
from tests.conftest import IDENTITY

AWS = [r for r in load_rules(rule_files()) if r.id == "aws-access-key-id"]
KEY = "AKIAZ5QW2XHC7RJK3MNB"


@pytest.fixture(params=["hyperscan", "keywords"])
def engine(request):
    return Engine(Config(), rules=AWS, backend=request.param, identity=IDENTITY)


def scan(engine, text: str, path: str = "app.py", **kw):
    return engine.scan(Chunk(path=path, data=text.encode(), **kw))


def test_finding_fields(engine):
    [f] = scan(engine, f"# config\n  key = '{KEY}'\n")
    assert (f.rule_id, f.provider, f.path, f.line, f.column, f.end_column) == ("aws-access-key-id", "aws", "app.py", 2, 10, 30)
    assert f.masked == "AKIA…"
    assert f.fingerprint == IDENTITY.fingerprint("aws-access-key-id", KEY.encode())
    assert KEY not in str(f.to_dict())


def test_fingerprint_survives_moves(engine):
    a = scan(engine, f"k = '{KEY}'\n")[0]
    b = scan(engine, f"\n\n\nother = 1\nk = '{KEY}'\n")[0]
    assert a.fingerprint == b.fingerprint and a.line != b.line


def test_column_counts_characters_not_bytes(engine):
    [f] = scan(engine, f"s = 'héllo' ; k = '{KEY}'\n")
    assert f.column == len("s = 'héllo' ; k = '") + 1


@pytest.mark.parametrize("pragma", ["# leakstop:allow", "# pragma: allowlist secret", "// gitleaks:allow"])
def test_inline_allow_pragmas(engine, pragma):
    assert scan(engine, f"k = '{KEY}'  {pragma}\n") == []
    assert len(scan(engine, f"k = '{KEY}'\n# {pragma} on another line\n")) == 1


def test_lines_restricts_reporting(engine):
    text = f"a = '{KEY}'\nb = 2\n"
    assert scan(engine, text, lines=frozenset({2})) == []
    assert len(scan(engine, text, lines=frozenset({1}))) == 1


PEM = [r for r in load_rules(rule_files()) if r.id == "private-key-rsa"]


@pytest.mark.parametrize("backend", ["hyperscan", "keywords"])
def test_multiline_value_counts_as_added_when_any_line_is(backend):
    """A key body typed into an existing BEGIN/END block: the match starts on the unchanged BEGIN
    line, yet the change added it; it is reported at the first added line (column 1)."""
    import secrets
    import string

    eng = Engine(Config(), rules=PEM, backend=backend)
    body = ["".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(64)) for _ in range(3)]
    text = "x = 1\n-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(body) + "\n-----END RSA PRIVATE KEY-----\n"
    [f] = scan(eng, text, lines=frozenset({3, 4, 5}))
    assert (f.line, f.column, f.end_column) == (3, 1, 65)
    [g] = scan(eng, text, lines=frozenset({6}))  # only the END line changed: still this change's key
    assert (g.line, g.column) == (6, 1) and g.fingerprint == f.fingerprint
    [h] = scan(eng, text, lines=frozenset({2, 3}))  # the BEGIN line added: reported there, as before
    assert (h.line, h.column) == (2, 1)
    assert scan(eng, text, lines=frozenset({1, 7})) == []  # lines around it only


def test_allowlist_paths_regexes_stopwords():
    cfg = Config(allowlist=Allowlist(paths=("vendor/**",), regexes=("^AKIAZ5",), stopwords=("zzz",)))
    e = Engine(cfg, rules=AWS, backend="keywords")
    assert scan(e, f"k = '{KEY}'", path="vendor/lib/x.py") == []
    assert scan(e, f"k = '{KEY}'") == []  # regex
    e2 = Engine(replace(cfg, allowlist=Allowlist(stopwords=("7rjk",))), rules=AWS, backend="keywords")
    assert scan(e2, f"k = '{KEY}'") == []  # stopword, case-insensitive


def test_min_entropy_applies():
    low = replace(AWS[0], min_entropy=4.5)
    e = Engine(Config(), rules=[low], backend="keywords")
    assert scan(e, f"k = '{KEY}'") == []


def test_specific_rule_beats_generic_on_same_value():
    from scanner.rules import Rule

    generic = Rule(id="generic-key", name="g", provider="generic", regex=r"key\s*=\s*'(?P<secret>[A-Z0-9]{20})'",
                   keywords=("key",), severity="medium", rotation="r", examples=("x",), negative_examples=("y",), generic=True)
    e = Engine(Config(), rules=[generic, AWS[0]], backend="keywords")
    [f] = scan(e, f"key = '{KEY}'")
    assert f.rule_id == "aws-access-key-id"


def test_all_rules_disabled_is_an_error(tmp_path: Path):
    from scanner.errors import LeakstopError

    with pytest.raises(LeakstopError, match="no rules"):
        Engine(Config(), rules=[])


def test_winner_keeps_the_key_a_context_match_knew():
    from scanner.rules import Rule

    ctx = Rule(id="ctx-cred", name="c", provider="generic", regex=r"KEY=(?P<secret>\S+)", keywords=("key=",),
               severity="medium", rotation="r", examples=("x",), negative_examples=("y",), generic=True)
    e = Engine(Config(), rules=[AWS[0], ctx], backend="keywords")
    # The context-like rule knows no key here; a match that carries one donates it.
    from scanner.engine import _dedupe
    from scanner.models import Match

    spec, gen = Match(AWS[0], 4, 24), Match(ctx, 4, 24, key="AWS_KEY")
    [winner] = _dedupe([gen, spec])
    assert winner.rule.id == "aws-access-key-id" and winner.key == "AWS_KEY"
    assert len(scan(e, f"KEY={KEY}\n")) == 1


@pytest.mark.parametrize("name", [".secrets.baseline", ".leakstop-baseline.json"])
def test_baseline_files_are_scanned_like_any_file(engine, name):
    """Their digests are not findings by shape (tests/engine/test_file_names.py); a key pasted
    into one is."""
    assert len(scan(engine, f"k = '{KEY}'", path=f"repo/{name}")) == 1


def _rule(regex: str, keywords=("key",), **kw):
    from scanner.rules import Rule

    return Rule(id="t-rule", name="t", provider="t", regex=regex, keywords=keywords, severity="high", rotation="r",
                examples=("x",), negative_examples=("y",), **kw)


TOKEN = "q8Zr2Lm5Xw9Tb3Nc7Kp1Vd4Hs6Jf0Gy2Qe5Wu8Ti1Oa3Pl7Mk9Nb4Vc6Xz0Sd2Fg"  # 64 characters


def test_match_cut_at_a_window_edge_is_rematched_whole():
    """On a long line, confirmation runs in a window after the keyword; a value running past the
    window's end must come out whole, as a whole-buffer match would."""
    rule = _rule(r"key=\s*(?P<secret>[A-Za-z0-9]{8,64})")
    text = "x " * 2000 + "key=" + " " * 600 + TOKEN + " tail " + "y " * 2000
    [f] = Engine(Config(), rules=[rule], backend="keywords", identity=IDENTITY).scan(Chunk(path="a.txt", data=text.encode()))
    assert f.fingerprint == IDENTITY.fingerprint("t-rule", TOKEN.encode())


def test_value_on_the_line_after_its_keyword_is_found():
    rule = _rule(r"<key>\s*(?P<secret>[A-Za-z0-9]{64})\s*</key>")
    text = "a\n" * 500 + "<key>\n    " + TOKEN + "\n</key>\n" + "b\n" * 500
    [f] = Engine(Config(), rules=[rule], backend="keywords", identity=IDENTITY).scan(Chunk(path="a.xml", data=text.encode()))
    assert f.line == 502


def test_multiline_rule_is_confirmed_over_the_whole_buffer():
    rule = _rule(r"-----BEGIN KEY-----(?P<secret>[A-Za-z0-9\n]{100,})-----END KEY-----", keywords=("-----begin key",),
                 multiline=True)
    body = "\n".join([TOKEN] * 40)
    text = "-----BEGIN KEY-----\n" + body + "\n-----END KEY-----\n"
    [f] = Engine(Config(), rules=[rule], backend="keywords", identity=IDENTITY).scan(Chunk(path="k.pem", data=text.encode()))
    assert f.line == 1 and f.fingerprint == IDENTITY.fingerprint("t-rule", ("\n" + body + "\n").encode())


def test_remembered_windows_give_the_same_findings_at_new_offsets():
    """History audits rescan the same lines in many file versions: results are reused by window
    content and must land at the right place in each version."""
    e = Engine(Config(), rules=AWS, backend="keywords")
    v1 = f"a = 1\nk = '{KEY}'\n"
    v2 = "# new header\n" * 3 + v1
    f1, f2 = scan(e, v1), scan(e, v2)
    assert [(f.line, f.column) for f in f1] == [(2, 6)] and [(f.line, f.column) for f in f2] == [(5, 6)]
    assert f1[0].fingerprint == f2[0].fingerprint and e._memo


def _pairwise_dedupe(kept):
    """The specification _dedupe keeps: each match against every winner so far, in rank order."""
    named = lambda m: bool(m.key) and m.rule.provider in m.key.lower()  # noqa: E731
    from scanner.engine.confidence import prefixed

    ranked = sorted(kept, key=lambda m: (m.rule.generic, -(m.end - m.start), m.start, not named(m),
                                         not prefixed(m.rule), m.rule.provider.startswith("generic-")))
    out = []
    for m in ranked:
        for i, w in enumerate(out):
            if not (m.start < w.end and w.start < m.end):
                continue
            if (w.start, w.end) == (m.start, m.end) or w.rule.generic or m.rule.generic:
                if w.key is None and m.key:
                    out[i] = replace(w, key=m.key)
                break
        else:
            out.append(m)
    return sorted(out, key=lambda m: m.start)


@pytest.mark.parametrize("seed", range(60))
def test_dedupe_keeps_the_same_winners_as_comparing_every_pair(seed):
    import random

    from scanner.engine import _dedupe
    from scanner.models import Match

    rng = random.Random(seed)
    rules = [replace(AWS[0], id=f"r{i}", generic=i >= 2, provider=("p0", "generic-p1", "p1")[i % 3]) for i in range(5)]
    kept = []
    for _ in range(rng.randint(1, 30)):
        start = rng.randrange(60)
        key = rng.choice([None, None, "K1", "K2", "P0_KEY", "P1_TOKEN"])
        kept.append(Match(rng.choice(rules), start, start + rng.randint(1, 12), key))
    got, want = _dedupe(kept), _pairwise_dedupe(kept)
    assert [(m.rule.id, m.start, m.end) for m in got] == [(m.rule.id, m.start, m.end) for m in want]
    # A loser clashing with one winner only gives it its key exactly as before; with several,
    # _dedupe may pick another of them.
    for g, w in zip(got, want):
        rivals = [m for m in kept if m.start < w.end and w.start < m.end]
        if all(sum(m.start < o.end and o.start < m.end for o in want) == 1 for m in rivals):
            assert g.key == w.key


def test_on_the_same_span_the_rule_whose_provider_the_key_names_wins():
    """A JWT is also a jwt-format match, a 40-character base64 secret also an AWS secret key: the
    keyword-context rule for the provider named in the key is the finding (its rotation applies)."""
    import base64
    import json
    import secrets

    def b64(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    token = ".".join([b64({"alg": "RS256", "typ": "JWT"}), b64({"sub": secrets.token_hex(16), "iat": 1700000000}),
                      secrets.token_urlsafe(64)])
    secret = base64.b64encode(secrets.token_bytes(30)).decode()
    e = Engine(Config(), rules=load_rules(rule_files()))
    assert [f.rule_id for f in scan(e, f"HYGRAPH_TOKEN={token}\n")] == ["hygraph-token"]
    assert [f.rule_id for f in scan(e, f"wasabi_secret_access_key: \"{secret}\"\n")] == ["wasabi-secret-key"]
    assert [f.rule_id for f in scan(e, f"token = \"{token}\"\n")] == ["jwt"]


def test_on_the_same_span_a_providers_rule_beats_one_that_knows_only_the_syntax():
    """A Stripe key as the default of an environment lookup is found by stripe-live-secret-key and
    by env-default-credential on the very same span: the provider's rule is the finding."""
    import secrets
    import string

    token = "sk_live_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    e = Engine(Config(), rules=load_rules(rule_files()))
    for line in (f"key = os.environ.get('PAYMENTS_API_KEY', '{token}')\n", f"const key = process.env.PAYMENTS_API_KEY || '{token}';\n"):
        assert [f.rule_id for f in scan(e, line)] == ["stripe-live-secret-key"]


def test_on_the_same_span_a_token_prefix_beats_the_structure_around_the_value():
    """A Stripe key sent as a bearer token is found by stripe-live-secret-key (its prefix) and by
    http-auth-bearer (the header) on the very same span: it is the Stripe key, judged as one. As a
    bearer token its prefix's letters (``live``) could make the value read as words, and sink it
    below the reporting floor (a remediation test lost such a key about once in 200 runs)."""
    e = Engine(Config(), rules=load_rules(rule_files()))
    for body in ("JDRySempTa2cRoc40Alzq7L6", "q8Zk2Lm5Xw9Tb3Nc7Kp1Rt5V"):
        line = f'HEADERS = {{"Authorization": "Bearer sk_live_{body}"}}\n'
        [f] = scan(e, line)
        assert f.rule_id == "stripe-live-secret-key" and f.confidence in ("medium", "high")


def test_a_token_in_a_comment_arn_does_not_hide_the_same_token_in_code():
    from tests.fakes import github_token

    rules = [r for r in load_rules(rule_files()) if r.id == "github-pat-classic"]
    token = github_token()
    e = Engine(Config(), rules=rules)
    found = scan(e, f't = "{token}"  # see arn:aws:ssm:us-east-1:123456789012:parameter/{token}\n')
    assert [(f.line, f.column) for f in found] == [(1, 6)]  # the one in the ARN names a parameter


def test_columns_on_a_long_line_of_many_matches(engine):
    line = "".join(f"é{i:04d} = '{KEY}' " for i in range(2000))
    found = scan(engine, "# head\n" + line + "\n")
    assert len(found) == 2000
    assert all(f.line == 2 for f in found)
    assert [f.column for f in found[:3]] == [10, 41, 72] and found[-1].column == 10 + 31 * 1999  # é is one column


def test_dense_keywords_on_one_long_line_give_each_match_once(engine):
    # Windows merge up to a cap and may then overlap; a match is still reported once.
    import random
    import string

    rng = random.Random(5)
    parts = [f"k{i} = 'AKIA{''.join(rng.choices(string.ascii_uppercase + '234567', k=16))}' " for i in range(3000)]
    found = scan(engine, "".join(parts) + "\n")
    apart = scan(engine, "\n".join(parts) + "\n")  # the same assignments, a line each
    assert len(found) == len({f.column for f in found}) == len(apart) > 2900
    assert sorted(f.fingerprint for f in found) == sorted(f.fingerprint for f in apart)


def test_a_token_across_a_tile_edge_is_found_whole():
    from scanner.engine import MAX_WINDOW

    jwt_rules = [r for r in load_rules(rule_files()) if r.id == "jwt"]
    import base64
    import json
    import secrets

    part = lambda obj: base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")  # noqa: E731
    token = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': secrets.token_hex(200)})}.{secrets.token_urlsafe(32)}"
    text = "x" * (MAX_WINDOW - 300) + " " + token + "\n"  # 'ey' is too short a keyword: tiles
    [f] = Engine(Config(), rules=jwt_rules).scan(Chunk(path="a.txt", data=text.encode()))
    assert f.secret == token.encode() and f.column == MAX_WINDOW - 298


def test_rule_cache_keeps_no_examples(tmp_path, monkeypatch):
    """A rule file's examples may be real-looking values: the parsed-rules cache on disk holds
    only what scanning needs (`rules check` reads the rule files themselves)."""
    import secrets
    import string

    from scanner.engine import load_ruleset

    token = "acme_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))
    pack = tmp_path / "extra.yaml"
    pack.write_text("rules:\n  - id: acme-token\n    name: Acme token\n    provider: acme\n"
                    "    regex: '(?P<secret>acme_[A-Za-z0-9]{24})'\n    keywords: [acme_]\n    severity: high\n"
                    f"    rotation: Revoke it.\n    examples: ['token = {token}']\n"
                    "    negative_examples: ['token = acme_short']\n")
    cache = tmp_path / "cache"
    monkeypatch.setenv("LEAKSTOP_CACHE_DIR", str(cache))
    rules = load_ruleset(Config(rule_files=(pack,)))
    assert any(r.id == "acme-token" for r in rules)
    held = [p.name for p in cache.iterdir() if token.encode() in p.read_bytes()]
    assert not held, f"the example is in the cache: {held}"


def test_a_rule_cache_written_by_older_code_is_not_read(tmp_path, monkeypatch):
    """The cache key names what the cached rules keep: a cache written before examples were
    dropped (same rule files, same key then) still held them, and was read on and on."""
    import pickle

    from scanner.engine import load_ruleset
    from scanner.rules import files_digest

    files = rule_files()
    cache = tmp_path / "cache"
    cache.mkdir()
    old = load_rules(files)  # what the old build() cached: the rules with their examples
    (cache / f"rules-{files_digest(files)}.pickle").write_bytes(pickle.dumps(old))
    monkeypatch.setenv("LEAKSTOP_CACHE_DIR", str(cache))
    rules = load_ruleset(Config())
    assert len(rules) == len(old)
    assert not any(r.examples or r.negative_examples for r in rules)


def test_rules_keyed_on_a_character_are_confirmed_before_their_matches_ends():
    """A quote is everywhere in a JSON file: the quoted-base64-line rule is confirmed only before
    the ends of its Hyperscan matches, not over the whole buffer, and finds what it found before."""
    import collections
    import secrets
    import string

    pytest.importorskip("hyperscan")
    engine = Engine(Config(), identity=IDENTITY, backend="hyperscan")
    rule = "generic-high-entropy-base64-string"

    def reported_alone(key: str) -> bool:  # 1 random key in ~250 is under the rule's min_entropy
        return any(f.rule_id == rule for f in engine.scan(Chunk(path="data.txt", data=f'[\n  "{key}",\n]\n'.encode())))

    keys: list[str] = []
    while len(keys) < 3:
        key = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(44))
        keys += [key] if reported_alone(key) else []
    rows = "".join(f'  "name_{i}": "value number {i}",\n' for i in range(20000))
    lines = [f'  "{k}",\n' for k in keys]
    data = ("[\n" + lines[0] + rows + lines[1] + rows + lines[2] + "]\n").encode()
    engine.work = collections.Counter()
    found = [f for f in engine.scan(Chunk(path="data.txt", data=data)) if f.rule_id == rule]
    assert sorted(f.secret for f in found) == sorted(k.encode() for k in keys)
    assert engine.work["confirm"] < len(data) // 10  # windows before three ends, not the file
    tiled = Engine(Config(), identity=IDENTITY, backend="keywords")  # no end locator: whole buffer
    again = [f for f in tiled.scan(Chunk(path="data.txt", data=data)) if f.rule_id == rule]
    assert [(f.line, f.secret) for f in again] == [(f.line, f.secret) for f in found]


@pytest.mark.parametrize("noise", [
    # keywords on every line: more hits than the index keeps, the buffer is confirmed in tiles
    "".join(f"author_{i} = Author.find({i})  # the token of {i} is tokenizer.encode(text)\n" for i in range(3000)),
    # a keyword every few lines: confirmed in windows around each
    "".join(f"x_{i} = compute({i})\ny_{i} = x_{i} + 1\nauthor_{i} = Author.find({i})\n" for i in range(2000)),
], ids=["tiles", "windows"])
def test_generic_rules_are_confirmed_only_near_their_hyperscan_matches(noise):
    """The generic rules' keywords are words of ordinary code (``author``, ``tokenizer``): of their
    keyword windows the engine confirms only those holding (or just before) an end of the rule's
    multi-pattern match, and finds what confirming every window finds, a key whose ``=`` is on
    the next line included (its prefilter must match there too)."""
    import collections

    pytest.importorskip("hyperscan")
    engine = Engine(Config(), identity=IDENTITY, backend="hyperscan")
    assert engine.backend.located  # the generic rules
    leaks = ['api_token = "Xq9vLm2K4vN8qR2tXw7pZ3aB"\n', 'client_secret\n  = "Hk4Rt8Vn2Qx6Lm9Pz3Ws7Jd1"\n',
             'db_password = "Zebra-Orbit-7731-Kite"\n']
    data = (noise + leaks[0] + noise + leaks[1] + noise + leaks[2]).encode()

    def scanned(located: frozenset) -> tuple[list, int]:
        engine.backend.located = located
        engine.forget()
        engine.work = collections.Counter()
        found = engine.scan(Chunk(path="app.py", data=data))
        return sorted((f.rule_id, f.line, f.secret) for f in found), engine.work["confirm"]

    located = engine.backend.located
    near, near_work = scanned(located)
    every, every_work = scanned(frozenset())
    assert near == every and len(near) == 3
    assert near_work < every_work // 10


def test_signals_are_assessed_once_per_value_line_and_path(engine, monkeypatch):
    """A history audit meets a value on the same line of the same file in version after version:
    its signals are assessed once and given to each finding (its own copy); a different line,
    path or value is assessed anew."""
    from scanner.engine import confidence

    assessed = []
    real = confidence.assess
    monkeypatch.setattr(confidence, "assess", lambda e: assessed.append(e.path) or real(e))
    text = f"key = '{KEY}'\n"
    first = scan(engine, text)
    again = scan(engine, "# moved down\n" + text)
    assert [f.signals for f in first] == [f.signals for f in again] and assessed == ["app.py"]
    again[0].signals["mutated"] = 1
    assert "mutated" not in scan(engine, text)[0].signals
    scan(engine, f"key = '{KEY}'  # prod\n")
    scan(engine, text, path="tests/app.py")
    assert assessed == ["app.py", "app.py", "tests/app.py"]
