"""Files whose whole content is one secret, known by name (scanner.detectors.keyfile)."""

from __future__ import annotations

import random
import string

import pytest

from tests.detectors.fixture_eval import digest as d

RNG = random.Random(5)
HEX32 = "".join(RNG.choice("0123456789abcdef") for _ in range(32))
HEX512 = "".join(RNG.choice("0123456789abcdef") for _ in range(512))
HVS = "hvs." + "".join(RNG.choice(string.ascii_letters + string.digits + "_-") for _ in range(91))
LEGACY = "s." + "".join(RNG.choice(string.ascii_letters + string.digits) for _ in range(24))


@pytest.mark.parametrize(
    "path, text, value, rule",
    [
        ("config/master.key", HEX32, HEX32, "rails-master-key"),
        ("config/master.key", HEX32 + "\n", HEX32, "rails-master-key"),
        ("app/config/credentials/production.key", HEX32 + "\r\n", HEX32, "rails-master-key"),
        ("jenkins_home/secrets/master.key", HEX512, HEX512, "rails-master-key"),
        (".vault-token", HVS, HVS, "vault-token-file"),
        ("home/ops/.vault-token", LEGACY + "\n", LEGACY, "vault-token-file"),
    ],
)
def test_key_files(find, path, text, value, rule):
    assert find(path, text) == [(rule, "", d(value))]


@pytest.mark.parametrize(
    "path, text",
    [
        ("config/master.key", "# put the key from 1Password here\n"),  # more than one word
        ("config/master.key", "0" * 32 + "\n"),  # no entropy
        ("config/master.key", HEX32[:31] + "\n"),  # not a key's length
        ("config/credentials/production.key", "-----BEGIN\n"),
        ("config/master.key.example", HEX32),  # another name: not a key file
        ("docs/credentials.key.md", HEX32),
        ("lib/tls/server.key", HEX32),  # a .key outside credentials/ (TLS keys: the PEM rules)
        (".vault-token", "hvs.xxxxxxxxxxxxxxxxxxxxxxxx\n"),
        (".vault-token", "$(vault print token)\n"),
    ],
)
def test_not_key_files(find, path, text):
    assert find(path, text) == []


def test_large_file_is_not_read(find):
    assert find("config/master.key", HEX32 + " " * 5000) == []
