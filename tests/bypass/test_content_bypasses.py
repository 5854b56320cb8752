"""Content tricks (issue 9, "ways past the hook and the CI gate"): where a secret is stored or how
it is written so that a scanner looking only at plain text files skips it. Each scenario runs in
every mode (diff --staged, action.yml's range step, diff COMMIT, scan, history). Variants of a
trick (other lockfiles, other encodings) are covered per source by tests/engine/test_file_names.py,
tests/sources/test_textify.py and tests/test_rules.py (every glue-tolerant rule)."""

from __future__ import annotations

import os

import pytest

from tests.bypass.harness import Attack, Scenario, cases


def _symlink(a: Attack, secret: str) -> None:
    os.symlink(secret, a.repo / "link")


CARGO_LOCK = (
    "version = 3\n\n[[package]]\nname = \"libc\"\nversion = \"0.2.150\"\n"
    "source = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
    "checksum = \"89d92a4743f9a61002fae18374ed11e7973f530cb3a3255fb354818118b2203c\"\n"
)


def _append(path: str, line: str):
    """An attack that appends ``line`` (with the secret) to the base file at ``path``."""

    def attack(a: Attack, secret: str) -> None:
        a.write({path: (a.repo / path).read_text() + line.format(secret=secret)})

    return attack


def _binary(secret: str) -> bytes:
    """A compiled library holding the token as a .NET/Windows string literal (UTF-16LE)."""
    return b"MZ\x90\x00\x03\x00\x00\x00\xff\xff" + f"ApiToken={secret}".encode("utf-16-le") + b"\x00\x00\x07\x01"


SCENARIOS = [
    Scenario(
        name="file-over-the-size-limit",
        base={".leakstop.yaml": "max_file_size: 1KB\n", "app.py": "import os\n"},
        attack=lambda a, s: a.write({"seed.sql": "-- row\n" * 1000 + f"INSERT INTO k VALUES ('{s}');\n"}),
        path="seed.sql",
        skip={"scan": "a walk skips files over the size limit by design, counted and named in a note "
                      "(a named file is scanned: tests/commands/test_scan.py)",
              "history": "an audit skips blobs over the size limit, counted and named in a note "
                         "(tests/sources/test_history.py)"},
    ),
    Scenario(
        name="utf16-text-with-bom",  # NUL bytes made it "binary": unscanned
        base={"app.py": "import os\n"},
        attack=lambda a, s: a.write({"config.py": f"# settings\nTOKEN = '{s}'\n".encode("utf-16")}),
        path="config.py",
    ),
    Scenario(
        name="one-nul-byte-in-text",
        base={"app.py": "import os\n"},
        attack=lambda a, s: a.write({"app.py": f"import os\0\nTOKEN = '{s}'\n".encode()}),
        path="app.py",
    ),
    Scenario(
        name="utf16-string-in-binary",
        base={"app.py": "import os\n"},
        attack=lambda a, s: a.write({"lib/Client.dll": _binary(s)}),
        path="lib/Client.dll",
    ),
    Scenario(
        name="token-glued-to-identifier",  # "_" is a word character: a leading \b missed it
        base={"settings.env": "DEBUG=1\n"},
        attack=_append("settings.env", "TOKEN_{secret}=abc\n"),
        path="settings.env",
    ),
    Scenario(
        name="token-in-cargo-lock",  # a lockfile's name is no verdict
        base={"Cargo.lock": CARGO_LOCK},
        attack=_append("Cargo.lock", 'token = "{secret}"\n'),
        path="Cargo.lock",
    ),
    Scenario(
        name="token-in-detect-secrets-baseline",
        base={".secrets.baseline": '{\n  "version": "1.4.0",\n  "results": {}\n}\n'},
        attack=lambda a, s: a.write({".secrets.baseline": f'{{\n  "version": "1.4.0",\n  "token": "{s}",\n  "results": {{}}\n}}\n'}),
        path=".secrets.baseline",
    ),
    Scenario(
        name="symlink-target",
        base={"app.py": "import os\n"},
        attack=_symlink,
        path="link",
    ),
]


@pytest.mark.parametrize("scenario, mode", cases(SCENARIOS))
def test_content_bypass(bypass, scenario, mode):
    bypass(scenario, mode)
