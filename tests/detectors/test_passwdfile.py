"""Password files (scanner.detectors.passwdfile) and the password-hash rules (rules/hashes.yaml)."""

from __future__ import annotations

import random
import string

import pytest

from tests.detectors.fixture_eval import digest as d

RNG = random.Random(9)
CRYPT = "./" + string.ascii_letters + string.digits


def r(n: int, alphabet: str = CRYPT) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


DES = r(13)
DIGEST = r(32, "0123456789abcdef")
PLAIN = "Tq8" + r(9, string.ascii_letters + string.digits)


@pytest.mark.parametrize(
    "path, text, value",
    [
        (".htpasswd", f"admin:{DES}\n", DES),
        ("conf/site.htpasswd", f"# users\nadmin:{PLAIN}\n", PLAIN),  # htpasswd -p: plain text
        ("etc/.htdigest", f"admin:Restricted Area:{DIGEST}\n", DIGEST),
        ("etc/shadow", f"root:{DES}:19000:0:99999:7:::\n", DES),
        ("backup/shadow-", f"old:!{DES}:19000:0:99999:7:::\n", DES),  # locked, hash kept after "!"
    ],
)
def test_password_files(find, path, text, value):
    assert find(path, text) == [("password-file-hash", "", d(value))]


@pytest.mark.parametrize(
    "path, text",
    [
        ("etc/shadow", "daemon:*:19000:0:99999:7:::\nbin:!:19000::::::\nnobody:!!:19000::::::\nx:x:1:1\n"),
        (".htpasswd", "admin:password\n"),  # a placeholder, not a password
        (".htpasswd", "# admin:secret-goes-here\n"),
        ("etc/shadow", "root:$6$abc:1:2\n"),  # prefixed hashes are the hash rules' (and this one is cut)
        ("notes/passwords.txt", f"admin:{DES}\n"),  # not a password file by name
    ],
)
def test_password_file_look_alikes(find, path, text):
    assert find(path, text) == []


def _engine_hits(path: str, text: str) -> list[tuple[str, str]]:
    from scanner.config import Config
    from scanner.engine import Engine
    from scanner.models import Chunk

    engine = _engine_hits.__dict__.setdefault("engine", Engine(Config()))
    return [(f.rule_id, d(f.secret.decode())) for f in engine.scan(Chunk(path=path, data=text.encode()))]


SHA512 = f"$6${r(16)}${r(86)}"
BCRYPT = f"$2b$12${r(53)}"
YESCRYPT = f"$y$j9T${r(22)}${r(43)}"
APR1 = f"$apr1${r(8)}${r(22)}"


@pytest.mark.parametrize(
    "path, text, value, rule",
    [
        ("etc/shadow", f"root:{SHA512}:19000:0:99999:7:::\n", SHA512, "password-hash-sha-crypt"),
        ("shadow.bak", f"alice:{YESCRYPT}:19500:0:99999:7:::\n", YESCRYPT, "password-hash-yescrypt"),
        (".htpasswd", f"deploy:{APR1}\n", APR1, "password-hash-md5-crypt"),
        ("db/seeds.rb", f'User.create!(email: "a@b.c", encrypted_password: "{BCRYPT}")\n', BCRYPT, "password-hash-bcrypt"),
        ("cloud-init.yaml", f"users:\n  - name: ops\n    passwd: {SHA512}\n", SHA512, "password-hash-sha-crypt"),
    ],
)
def test_hashes_anywhere(path, text, value, rule):
    assert (rule, d(value)) in _engine_hits(path, text)


def test_minimum_cost_bcrypt_is_a_test_fixture():
    # has_secure_password and Devise hash with the minimum cost (04) in their test settings.
    assert _engine_hits("guides/models.md", f'=> "$2a$04${r(53)}"\n') == []
