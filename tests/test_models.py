"""The one place values are identified and shown: keyed, costly-to-guess identities, the mask,
and redaction of scanned-text-derived fields."""

from __future__ import annotations

import hashlib
import hmac
import pickle
import random
import secrets
import string
import tokenize

import pytest

from scanner import models
from scanner.models import Identity, Redactor, guessable, mask, redact, token_like
from scanner.rules import load_rules, rule_files
from tests.conftest import ROOT

B62 = string.ascii_letters + string.digits


# Seeded: the tests that count how many random values pass a test draw the same values each run
# (a rate of 85% sampled 400 times fell below an 80% bound about once in 300 runs).
_DRAW = random.Random(20261130)


def rand(n: int, alphabet: str = B62) -> str:
    return "".join(_DRAW.choice(alphabet) for _ in range(n))


def test_mask_shows_at_most_a_quarter_and_never_more_than_four_characters():
    assert mask("hunter") == "h…"  # a 6-character password shows 1 character
    assert mask("abc") == "…"
    assert mask("") == "…"
    assert mask("abcdefgh") == "ab…"
    assert mask("ghp_" + "x" * 36) == "ghp_…"
    for n in range(0, 60):
        shown = mask("y" * n)[:-1]
        assert len(shown) <= min(4, n / 4)


def test_fingerprints_are_keyed_stable_and_not_the_unkeyed_hash():
    value = rand(40).encode()
    a, b = Identity(b"key one"), Identity(b"key one")
    assert a.fingerprint("r", value) == b.fingerprint("r", value)  # same key: same identity, any run
    assert a.fingerprint("r", value) != Identity(b"key two").fingerprint("r", value)
    assert a.fingerprint("r", value) != a.fingerprint("s", value)
    # Not what an attacker can compute without the key (the old fingerprint and value hash).
    assert a.fingerprint("r", value) != hashlib.sha256(b"r\0" + value).hexdigest()[:32]
    assert a.value_hash(value) != hashlib.sha256(value).hexdigest()
    assert len(a.fingerprint("r", value)) == 32 and len(a.value_hash(value)) == 64
    assert a.key_id != b"key one".hex() and len(a.key_id) == 16 and a.key_id == b.key_id


def test_guessable_values_are_stretched_with_scrypt_once_per_run(monkeypatch):
    ident = Identity(b"k")
    password = b"hunter22"
    assert guessable(password) and not guessable(rand(40).encode())
    salt = hmac.new(b"k", b"leakstop scrypt salt", hashlib.sha256).digest()
    stretched = hashlib.scrypt(password, salt=salt, dklen=32, n=1 << 12, r=8, p=1)
    expected = hmac.new(b"k", b"fingerprint\0r\0s" + stretched, hashlib.sha256).hexdigest()[:32]
    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(models.hashlib, "scrypt", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    assert ident.fingerprint("r", password) == expected
    ident.fingerprint("other-rule", password)
    ident.value_hash(password)
    assert len(calls) == 1  # remembered: a history audit pays once per value
    ident.fingerprint("r", rand(40).encode())
    assert len(calls) == 1  # a long random value is hashed directly


def test_whether_a_value_is_guessable_is_judged_once_per_run(monkeypatch):
    """The judgement (entropy, words, patterns) cost most of an identity: a value met again (the
    fingerprint and value hash of one finding, the next version of its file) is not judged again,
    and is identified as before."""
    ident = Identity(b"k")
    strong = rand(40).encode()
    expected = hmac.new(b"k", b"fingerprint\0r\0f" + strong, hashlib.sha256).hexdigest()[:32]
    judged = []
    real = models.guessable
    monkeypatch.setattr(models, "guessable", lambda *a, **kw: judged.append(a[0]) or real(*a, **kw))
    for _ in range(3):
        assert ident.fingerprint("r", strong) == expected
        ident.value_hash(strong)
        ident.fingerprint("r", b"hunter22")
    assert sorted(judged) == sorted([strong, b"hunter22"])


def test_random_keys_are_not_stretched_but_words_and_short_values_are(monkeypatch):
    """A random key of 16+ characters (95+ bits over its alphabet) is hashed directly, so a file
    of many distinct keys costs microseconds each, not 10 ms; passwords and passphrases made of
    words, short keys and repeated characters are still stretched."""
    for n in (16, 20, 26):
        # A random draw can spell a word or repeat a character: then it is stretched (safe, slow).
        assert sum(guessable(rand(n).encode()) for _ in range(200)) <= 30, n
        assert guessable(rand(n).encode(), scheme=1)  # the old scheme stretched them all
    for weak in (b"hunter22", b"Winter2024!", b"CorrectHorseBatteryStaple", b"aaaaaaaaaaaaaaaaaaaa",
                 b"P@ssw0rd123456789", b"correct-horse-battery-staple", rand(12).encode(), b"0123456789abcdef"):
        assert guessable(weak), weak
    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(models.hashlib, "scrypt", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    ident = Identity(b"k")
    for _ in range(200):
        ident.fingerprint("r", rand(16).encode())
    assert len(calls) <= 30
    assert ident.fingerprint("r", b"k3y") != Identity(b"k", scheme=1).fingerprint("r", b"other")
    assert Identity(b"k").fingerprint("r", b"hunter22") == Identity(b"k", scheme=1).fingerprint("r", b"hunter22")


def test_identity_pickles_without_its_memo():
    ident = Identity(b"k", "repository")
    ident.fingerprint("r", b"pass1234")
    copy = pickle.loads(pickle.dumps(ident))
    assert copy.key == b"k" and copy.source == "repository" and copy._memo == {}
    assert b"pass1234" not in pickle.dumps(ident)
    assert copy.fingerprint("r", b"pass1234") == ident.fingerprint("r", b"pass1234")
    assert "key=" not in repr(ident)


def test_redact_masks_known_values_and_random_runs():
    token = "ghp_" + rand(36)
    assert redact(f"token-{token}", [token.encode()]) == "token-ghp_…"
    assert redact(f"password.{token}", [token]) == "password.ghp_…"
    assert token[4:] not in redact(f"secret.{token}")  # unknown, but random: masked anyway
    assert redact("DB_PASSWORD.hunter22", [b"hunter22"]) == "DB_PASSWORD.hu…"
    # A short value is masked where it stands alone, not inside a longer word.
    assert redact("config/dev/app.yml", [b"dev"]) == "config/…/app.yml"
    assert redact("devices/app.yml", [b"dev"]) == "devices/app.yml"
    assert redact("xhunter22y", [b"hunter22"], ) == "xhunter22y"
    assert Redactor([b"hunter22"], anywhere=True)("xhunter22y") == "xhu…y"
    # Idempotent: what is shown can be shown again.
    once = redact(f"a/{token}/b", [token])
    assert redact(once, [token]) == once


def test_long_random_runs_read_as_tokens_and_identifiers_do_not():
    """An unknown random run in a key name or path is masked: runs of 20+ characters that spell
    no words count, whatever pieces chance gave them (1.4% of 36-character runs were missed)."""
    assert sum(not token_like(rand(36)) for _ in range(2000)) <= 10
    for name in ("UprightFocalLength35mm", "PostgresqlNetworkAddress", "ActiveRecordConnectionAdapters"):
        assert not token_like(name), name


def test_many_values_of_many_lengths_cost_the_key_names_length_not_their_number():
    """One file, thousands of findings with keys, values of thousands of lengths: each key name
    was tried against every value length (minutes for a crafted 1 MB file); now at most its own."""
    from tests.conftest import cpu_deadline

    import random

    rng = random.Random(secrets.randbits(32))
    values = ["".join(rng.choices(B62, k=n)) for n in range(12, 2012)]
    red = Redactor(values + ["hunter22"])
    with cpu_deadline(5):  # 0.3 s here; the old loop took about a minute
        shown = [red(f"DB_PASSWORD_{i}.hunter22") for i in range(5_000)]
    assert shown[7] == "DB_PASSWORD_7.hu…"
    assert red(f"key.{values[100]}.x") == f"key.{mask(values[100])}.x"


@pytest.mark.parametrize("alphabet, n", [(B62, 24), (B62, 40), ("0123456789abcdef", 32), (B62 + "+/", 40),
                                         (string.ascii_uppercase + "234567", 32)])
def test_random_runs_are_token_like(alphabet, n):
    runs = [rand(n, alphabet) for _ in range(400)]
    if alphabet != string.ascii_uppercase + "234567":
        runs = [r for r in runs if any(c.isdigit() for c in r)]
    caught = sum(token_like(r) for r in runs) / len(runs)
    assert caught >= 0.8, f"only {caught:.0%} of random {n}-character strings masked"


def test_identifiers_and_paths_are_left_alone():
    for text in ("DB_PASSWORD", "aws_secret_access_key", "config/settings.py", "MyApplicationController",
                 "app/controllers/admin/users_controller.rb", "UprightFocalLength35mm", "getElementsByTagName",
                 "X-Amz-Security-Token", "utf8mb4_unicode_ci", "550e8400-e29b-41d4-a716-446655440000"):
        assert redact(text) == text
    # Every identifier of this project's code and tests, every rule id and every file path.
    words: set[str] = set()
    for p in sorted((ROOT / "scanner").rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py")):
        with open(p, "rb") as fh:
            words |= {t.string for t in tokenize.tokenize(fh.readline) if t.type == tokenize.NAME}
        words.add(p.relative_to(ROOT).as_posix())
    words |= {r.id for r in load_rules(rule_files())}
    words |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "rules").iterdir()}
    changed = sorted(w for w in words if redact(w) != w)
    assert not changed, f"masked although not random: {changed[:20]}"


def test_a_redactor_compiles_nothing_for_a_text_holding_none_of_its_values(monkeypatch):
    """A history audit shows every path a value was ever at through one Redactor per value:
    building a regex of the values (a key block is kilobytes of pattern to parse) is paid only
    for a text that holds one."""
    import scanner.models as models

    value = "-----BEGIN KEY-----\n" + "QUJD" * 400 + "\n-----END KEY-----"
    red = models.Redactor([value, "hunter2x"])
    compiled = []
    real = models.re.compile
    monkeypatch.setattr(models.re, "compile", lambda *a, **k: compiled.append(a) or real(*a, **k))
    assert red("src/app/settings.py") == "src/app/settings.py" and compiled == []
    assert red("conf/hunter2x.txt") == "conf/" + models.mask("hunter2x") + ".txt" and len(compiled) == 1
    assert red("conf/hunter2x.txt") == "conf/" + models.mask("hunter2x") + ".txt" and len(compiled) == 1  # reused
