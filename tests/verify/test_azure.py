"""Azure storage keys against a fake blob endpoint that checks the Shared Key signature the way
the Storage REST API documents it (the string to sign written out here, not taken from leakstop):
the right key is verified, another invalid; the account comes from the connection string."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets

from tests.verify.fakeprovider import Answer, Seen

ACCOUNT = "acmelogs"


def documented_signature(seen: Seen, key: bytes) -> str:
    """GET, eleven empty standard headers, x-ms-date and x-ms-version, /account/ and the sorted query."""
    text = ("GET\n\n\n\n\n\n\n\n\n\n\n\n"
            f"x-ms-date:{seen.headers['x-ms-date']}\nx-ms-version:{seen.headers['x-ms-version']}\n"
            f"/{ACCOUNT}/\ncomp:list\nmaxresults:1")
    return base64.b64encode(hmac.new(key, text.encode(), hashlib.sha256).digest()).decode()


def judge_with(key: bytes):
    def judge(seen: Seen) -> bool:
        return seen.headers.get("Authorization") == f"SharedKey {ACCOUNT}:{documented_signature(seen, key)}"

    return judge


def new_key() -> tuple[bytes, str]:
    raw = secrets.token_bytes(64)
    return raw, base64.b64encode(raw).decode()


def test_connection_string_key_verified_and_wrong_key_invalid(run_cli, fake, tmp_path):
    raw, key = new_key()
    _, other = new_key()
    (tmp_path / "a.cfg").write_text(f"conn = DefaultEndpointsProtocol=https;AccountName={ACCOUNT};AccountKey={key};"
                                    "EndpointSuffix=core.windows.net\n")
    (tmp_path / "b.cfg").write_text(f"conn = DefaultEndpointsProtocol=https;AccountName={ACCOUNT};AccountKey={other};"
                                    "EndpointSuffix=core.windows.net\n")
    fake.judge = judge_with(raw)
    fake.ok = Answer(200, "<EnumerationResults/>")
    fake.bad = Answer(403, "<Error/>", {"x-ms-error-code": "AuthenticationFailed"})
    r = run_cli("scan", ".", "--verify", "-f", "json", "--engine", "keywords", cwd=tmp_path)
    got = {f["path"].rsplit("/", 1)[-1]: f["verification"] for f in json.loads(r.out)["findings"]}
    assert got["a.cfg"]["status"] == "verified"
    assert got["b.cfg"] == {"status": "invalid", "detail": "rejected (HTTP 403 AuthenticationFailed)"}
    assert {s.host for s in fake.seen} == {f"{ACCOUNT}.blob.core.windows.net"}
    assert all(s.path == "/?comp=list&maxresults=1" and s.method == "GET" for s in fake.seen)
    assert key not in r.out + r.err


def test_account_named_elsewhere_in_the_file(run_cli, fake, tmp_path):
    raw, key = new_key()
    (tmp_path / ".env").write_text(f"AZURE_STORAGE_ACCOUNT={ACCOUNT}\nAZURE_STORAGE_KEY={key}\n")
    fake.judge = judge_with(raw)
    fake.ok, fake.bad = Answer(200, "<EnumerationResults/>"), Answer(403, "<Error/>")
    r = run_cli("scan", ".", "--verify", "-f", "json", "--engine", "keywords", cwd=tmp_path)
    (f,) = json.loads(r.out)["findings"]
    assert f["verification"]["status"] == "verified"


def test_no_account_name_is_unknown_and_nothing_is_sent(run_cli, fake, tmp_path):
    _, key = new_key()
    (tmp_path / ".env").write_text(f"AZURE_STORAGE_KEY={key}\n")
    r = run_cli("scan", ".", "--verify", "-f", "json", "--engine", "keywords", cwd=tmp_path)
    (f,) = json.loads(r.out)["findings"]
    assert f["verification"]["status"] == "unknown" and "AccountName" in f["verification"]["detail"]
    assert fake.seen == []
