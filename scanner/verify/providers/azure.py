"""Azure storage account keys: list at most one container of the account, a read-only request
signed with the key (Shared Key authorization, as the Storage REST API documents it), at the
account's own blob endpoint ``ACCOUNT.blob.core.windows.net``. The account name comes from the
key's connection string (``AccountName=``) or, failing that, the one storage account its file names."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from email.utils import formatdate

from scanner.models import Finding
from scanner.verify.base import ERROR, INVALID, VERIFIED, Credential, Result, Unverifiable, Verifier
from scanner.verify.context import source_line, source_text
from scanner.verify.http import Request, Response, http_check

HOSTS = ("*.blob.core.windows.net",)
API_VERSION = "2021-08-06"
QUERY = {"comp": "list", "maxresults": "1"}
ACCOUNT_IN_LINE = re.compile(rb"AccountName\s*=\s*([a-z0-9]{3,24})\b", re.IGNORECASE)
ACCOUNT_IN_FILE = re.compile(rb"(?:AccountName|storage_?account(?:_?name)?)[\"']?\s*[=:]\s*[\"']?([a-z0-9]{3,24})\b",
                             re.IGNORECASE)


def account_of(f: Finding) -> bytes:
    """The storage account: on the key's own line, else the one account its file names."""
    m = ACCOUNT_IN_LINE.search(source_line(f) or b"")
    if m:
        return m.group(1).lower()
    names = {m.group(1).lower() for m in ACCOUNT_IN_FILE.finditer(source_text(f) or b"")}
    return names.pop() if len(names) == 1 else b""


def string_to_sign(account: str, date: str) -> str:
    """Shared Key's string to sign for ``GET /?comp=list&maxresults=1``: the verb, eleven empty
    standard headers, the x-ms-* headers, the canonical resource with its sorted query."""
    headers = f"x-ms-date:{date}\nx-ms-version:{API_VERSION}\n"
    resource = f"/{account}/" + "".join(f"\n{k}:{v}" for k, v in sorted(QUERY.items()))
    return "GET\n" + "\n" * 11 + headers + resource


def _request(cred: Credential) -> Request:
    account = cred.context_text
    try:
        key = base64.b64decode(cred.value, validate=True)
    except (binascii.Error, ValueError):
        raise Unverifiable("the key is not base64") from None
    date = formatdate(usegmt=True)
    signature = hmac.new(key, string_to_sign(account, date).encode("utf-8"), hashlib.sha256).digest()
    headers = {"x-ms-date": date, "x-ms-version": API_VERSION,
               "Authorization": f"SharedKey {account}:{base64.b64encode(signature).decode()}"}
    return Request("GET", f"{account}.blob.core.windows.net", "/?comp=list&maxresults=1", headers)


def _interpret(resp: Response) -> Result:
    if resp.status == 200:
        return Result(VERIFIED, "accepted: the account's containers can be listed")
    if resp.status == 403:
        code = resp.headers.get("x-ms-error-code", "")
        return Result(INVALID, f"rejected (HTTP 403{' ' + code if code else ''})")
    return Result(ERROR, f"unexpected answer (HTTP {resp.status})")


STORAGE = Verifier(
    name="azure-storage", provider="azure",
    rule_ids=("azure-storage-account-key", "azure-storage-key"), hosts=HOSTS,
    request="GET https://ACCOUNT.blob.core.windows.net/?comp=list&maxresults=1 (Shared Key signature; ACCOUNT: "
            "the connection string's AccountName or the one account its file names)",
    check=http_check(_request, _interpret, HOSTS),
    locate=account_of, locate_missing="needs its storage account's name (AccountName=) in the same file")
