"""Offline checksum and structure checks (scanner.engine.checksums), on tokens generated here."""

from __future__ import annotations

import base64
import json
import secrets
import string
import zlib

import pytest

from scanner.engine import checksums
from scanner.engine.checksums import CHECKSUM, CHECKS, STRUCTURE, verdict
from scanner.rules import load_rules, rule_files

ALNUM = string.ascii_letters + string.digits


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def crc62_token(prefix: str) -> str:
    """A GitHub/npm-style token: prefix + 30 random + base62 CRC32 of those 30 (written from the
    published format, independently of the code under test)."""
    body = rand(30)
    n, digits = zlib.crc32(body.encode()), ""
    alphabet = string.digits + string.ascii_uppercase + string.ascii_lowercase
    while n:
        n, r = divmod(n, 62)
        digits = alphabet[r] + digits
    return prefix + body + digits.rjust(6, "0")


def tamper(token: str) -> str:
    """The same token with its last character changed (to a digit: valid in base62, hex and
    Bech32, and different whatever the case)."""
    return token[:-1] + ("0" if token[-1] != "0" else "1")


def glsa_token() -> str:
    body = "glsa_" + rand(32)
    return body + "_" + zlib.crc32(body.encode()).to_bytes(4, "little").hex()


def b64json(doc: dict, urlsafe: bool = False) -> str:
    raw = json.dumps(doc).encode()
    return (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode().rstrip("=")


def jwt_token(header: dict, payload: dict) -> str:
    return f"{b64json(header, True)}.{b64json(payload, True)}.{rand(43, ALNUM + '-_')}"


def test_every_check_names_a_builtin_rule():
    ids = {r.id for r in load_rules(rule_files())}
    assert set(CHECKS) <= ids, sorted(set(CHECKS) - ids)
    assert set(checksums.DECODERS) <= ids and set(checksums.DOCUMENTED_EXAMPLES) <= ids


def test_published_github_vector():
    # The example from the public write-up of GitHub's format: entropy part and its checksum.
    assert checksums.base62(zlib.crc32(b"zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ"), 6) == "0mLq17"


@pytest.mark.parametrize("rule_id, prefix", [
    ("github-pat-classic", "ghp_"), ("github-oauth-token", "gho_"), ("github-app-user-token", "ghu_"),
    ("github-app-installation-token", "ghs_"), ("github-refresh-token", "ghr_"), ("npm-access-token", "npm_"),
])
def test_crc32_base62_tokens(rule_id, prefix):
    for _ in range(20):
        token = crc62_token(prefix)
        assert verdict(rule_id, token.encode()) == (CHECKSUM, True)
        assert verdict(rule_id, tamper(token).encode()) == (CHECKSUM, False)
    # A different length is not this format: no verdict rather than a wrong one.
    assert verdict(rule_id, (prefix + rand(30)).encode()) is None


def test_grafana_service_account_checksum():
    token = glsa_token()
    assert verdict("grafana-service-account-token", token.encode()) == (CHECKSUM, True)
    assert verdict("grafana-service-account-token", tamper(token).encode()) == (CHECKSUM, False)


@pytest.mark.parametrize("vector, ok", [
    # BIP 173 test vectors: valid strings, then one with its last character changed and one mixing case.
    ("A12UEL5L", True), ("a12uel5l", True),
    ("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", True),
    ("split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w", True),
    ("A12UEL5M", False),
])
def test_bech32_vectors(vector, ok):
    assert checksums.bech32(vector.encode()) is ok


def test_bech32_mixed_case_is_not_judged():
    assert checksums.bech32(b"A12uEL5L") is None


def test_jwt_structure():
    good = jwt_token({"alg": "HS256", "typ": "JWT"}, {"sub": rand(8), "exp": 1900000000})
    assert verdict("jwt", good.encode()) == (STRUCTURE, True)
    no_alg = jwt_token({"typ": "JWT"}, {"sub": "x"})
    assert verdict("jwt", no_alg.encode()) == (STRUCTURE, False)
    mangled = "eyJhbGciOi" + rand(20) + "." + b64json({"sub": "x"}, True)  # header starts like JSON, is not
    assert verdict("jwt", mangled.encode()) == (STRUCTURE, False)


def test_jwt_io_sample_is_a_documented_example():
    sample = jwt_token({"alg": "HS256", "typ": "JWT"}, {"sub": "1234567890", "name": "John Doe", "iat": 1516239022})
    assert checksums.documented_example("jwt", sample.encode())
    other = jwt_token({"alg": "HS256"}, {"sub": rand(10), "name": "Ann"})
    assert not checksums.documented_example("jwt", other.encode())


def aws_key_id(account: int, new_generation: bool = True) -> str:
    """An access key id encoding ``account`` the way new-generation ids do."""
    bits = (int(new_generation) << 47) | (account << 7) | secrets.randbelow(128)
    raw = bits.to_bytes(6, "big") + secrets.token_bytes(4)
    return "AKIA" + base64.b32encode(raw).decode()


def test_aws_key_id_decodes_to_its_account():
    key = aws_key_id(123456789012)
    assert checksums.aws_account(key.encode()) == 123456789012
    assert verdict("aws-access-key-id", key.encode()) == (STRUCTURE, True)
    # Old generation: the account is not in the id, so nothing is said either way.
    assert verdict("aws-access-key-id", aws_key_id(123456789012, new_generation=False).encode()) is None
    # An account number past 12 digits is not one.
    assert verdict("aws-access-key-id", aws_key_id(2**40 - 1).encode()) is None


def pem(label: str, der: bytes) -> str:
    body = base64.b64encode(der).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----"


def test_pem_body_is_der():
    der = b"\x30\x82\x01\x0a" + secrets.token_bytes(200)
    assert verdict("private-key-pkcs8", pem("PRIVATE KEY", der).encode()) == (STRUCTURE, True)
    openssh = b"openssh-key-v1\0" + secrets.token_bytes(100)
    assert verdict("private-key-openssh", pem("OPENSSH PRIVATE KEY", openssh).encode()) == (STRUCTURE, True)
    # A body that is not DER (docs elide or invent bodies) says nothing.
    assert verdict("private-key-pkcs8", pem("PRIVATE KEY", b"\x01" + secrets.token_bytes(50)).encode()) is None


@pytest.mark.parametrize("rule_id, prefix, tail", [
    ("sentry-org-token", "sntrys_", "_" + rand(43)),
    ("1password-service-account-token", "ops_", ""),
    ("grafana-cloud-api-token", "glc_", ""),
])
def test_json_payload_tokens(rule_id, prefix, tail):
    good = prefix + b64json({"iat": 1700000000, "url": "https://example.invalid", "k": rand(20)}) + tail
    assert verdict(rule_id, good.encode()) == (STRUCTURE, True)
    broken = prefix + "eyJ" + rand(60) + tail  # starts like base64 JSON, does not decode to it
    assert verdict(rule_id, broken.encode()) == (STRUCTURE, False)


def test_basic_and_userinfo_passwords_are_decoded():
    password = rand(12)
    header = base64.b64encode(f"deploy:{password}".encode())
    assert checksums.decoded("http-auth-basic", header) == password.encode()
    assert checksums.decoded("url-credentials", f"deploy:{password}".encode()) == password.encode()
    assert checksums.decoded("http-auth-basic", b"!!notbase64") is None
    assert checksums.decoded("aws-access-key-id", b"AKIA") is None


def test_rule_examples_of_checked_formats_verify():
    """Rule examples carry valid checksums/structures, and each checksummed rule's example stops
    verifying when one character changes (a made-up token is judged by its checksum)."""
    rules = {r.id: r for r in load_rules(rule_files())}
    for rule_id, check in CHECKS.items():
        rule = rules[rule_id]
        values = [m.group("secret") for ex in rule.examples for m in [rule.pattern.search(ex.encode())] if m]
        assert values, rule_id
        assert all(verdict(rule_id, v) in (None, (check.kind, True)) for v in values), rule_id
        if check.kind == CHECKSUM:
            checked = [v for v in values if verdict(rule_id, v) == (CHECKSUM, True)]
            assert checked, rule_id
            assert all(verdict(rule_id, tamper(v.decode()).encode()) == (CHECKSUM, False) for v in checked), rule_id


def test_provider_rules_whose_tokens_are_jwts_get_the_jwt_check():
    """A keyword rule for a provider whose tokens are JWTs (argocd-auth-token) is checked like the
    jwt rule; a generic rule's value is a JWT-looking string only by chance and is not judged."""
    good = jwt_token({"alg": "HS256", "typ": "JWT"}, {"sub": rand(8), "iat": 1700000000})
    assert verdict("argocd-auth-token", good.encode()) == (STRUCTURE, True)
    broken = "eyJhbGciOi" + rand(24) + ".eyJ" + rand(30) + "." + rand(43)
    assert verdict("argocd-auth-token", broken.encode()) == (STRUCTURE, False)
    assert verdict("generic-token-base64", broken.encode(), generic=True) is None
    assert verdict("argocd-auth-token", rand(40).encode()) is None  # not a JWT: nothing to say
    sample = jwt_token({"alg": "HS256", "typ": "JWT"}, {"sub": "1234567890", "name": "John Doe", "iat": 1516239022})
    assert checksums.documented_example("argocd-auth-token", sample.encode())


def test_jwt_examples_of_provider_rules_decode():
    """Every provider rule's example that is a JWT decodes (rules added later included)."""
    bad = []
    for rule in load_rules(rule_files()):
        if rule.generic:
            continue
        for ex in rule.examples:
            m = rule.pattern.search(ex.encode())
            if m and verdict(rule.id, m.group("secret"), rule.generic) == (STRUCTURE, False):
                bad.append(rule.id)
    assert not bad, bad


@pytest.mark.parametrize("location", ["pypi.org", "test.pypi.org"])
def test_pypi_tokens_are_v2_macaroons(location):
    from tests.fakes import pypi_token

    token = pypi_token(location)
    assert verdict("pypi-upload-token", token.encode()) == (STRUCTURE, True)
    # Cut short (the signature no longer ends the data), or a made-up body after the real prefix.
    assert verdict("pypi-upload-token", token[:-4].encode()) == (STRUCTURE, False)
    prefix = "pypi-AgEIcHlwaS5vcmc" if location == "pypi.org" else "pypi-AgENdGVzdC5weXBpLm9yZw"
    assert verdict("pypi-upload-token", (prefix + rand(150, ALNUM + "-_")).encode()) == (STRUCTURE, False)


def test_macaroon_parser_rejects_what_is_not_one():
    assert not checksums.macaroon_v2(b"")
    assert not checksums.macaroon_v2(b"\x01\x01\x08pypi.org")  # version 1 is not the binary v2 format
    assert not checksums.macaroon_v2(b"\x02\x01\x08pypi.org\x00\x00\x00\x06\x20" + b"s" * 32)  # no identifier
    assert not checksums.macaroon_v2(b"\x02\x02\xff")  # a length past the end
