"""Package registries: npm, PyPI, Docker Hub."""

from __future__ import annotations

import re

from scanner.models import Finding
from scanner.verify.base import ERROR, INVALID, VERIFIED, Context, Credential, Result, Verifier
from scanner.verify.context import source_text
from scanner.verify.http import Request, Response, basic, bearer, by_status, http_check, send, simple, transient

NPM = simple(
    "npm", "npm", ("npm-access-token",), "registry.npmjs.org", "/-/whoami", lambda c: bearer(c.text),
    "Authorization: Bearer …", who=lambda r: f"user {r.json()['username']}")

# PyPI has no "who am I" endpoint. An upload carrying no form at all is refused after the token
# is checked and before anything is read or stored: 400 means the token was accepted, 403 that
# it was not. Nothing is uploaded. (TestPyPI tokens go to TestPyPI.)
PYPI_HOSTS = ("upload.pypi.org", "test.pypi.org")
_TEST_PREFIX = "pypi-AgENdGVzdC5weXBpLm9yZw"
_BOUNDARY = "leakstop-empty-form"


def _pypi_request(cred: Credential) -> Request:
    host = "test.pypi.org" if cred.text.startswith(_TEST_PREFIX) else "upload.pypi.org"
    headers = {**basic("__token__", cred.text), "Content-Type": f"multipart/form-data; boundary={_BOUNDARY}"}
    return Request("POST", host, "/legacy/", headers, f"--{_BOUNDARY}--\r\n".encode())


def _pypi(resp: Response) -> Result:
    if resp.status == 400:
        return Result(VERIFIED, "token accepted (the empty upload was refused; nothing uploaded)")
    if resp.status in (401, 403):
        return Result(INVALID, f"rejected (HTTP {resp.status})")
    return Result(ERROR, f"unexpected answer (HTTP {resp.status})")


PYPI = Verifier(
    name="pypi", provider="pypi", rule_ids=("pypi-upload-token",), hosts=PYPI_HOSTS,
    request="POST https://upload.pypi.org/legacy/ (test.pypi.org for TestPyPI tokens) with an empty form: "
            "refused before upload, 400 = token accepted, 403 = rejected",
    check=http_check(_pypi_request, _pypi, PYPI_HOSTS))

# A Docker config.json "auth" is base64("user:password"): exactly what Docker Hub's token
# service takes as Basic credentials. It answers a read-only pull token, or 401.
DOCKERHUB = simple(
    "dockerhub", "docker", ("docker-config-auth",), "auth.docker.io",
    "/token?service=registry.docker.io", lambda c: {"Authorization": f"Basic {c.text}"},
    "Authorization: Basic … (the config's auth as is)")

# A Docker Hub access token (dckr_pat_, dckr_oat_) logs in with its user's (or organisation's) name,
# which the token does not hold: it is read from the same file (docker login -u NAME,
# DOCKER_USERNAME=NAME, a login step's username: NAME). A Docker ID is 4-30 lowercase letters and digits.
_DOCKER_USER = re.compile(
    rb"(?im)(?:\bdocker[ \t]+login(?:[ \t][^\n]{0,200}?)?[ \t](?:-u|--username)(?:=|[ \t]+)"
    rb"|\b(?:docker|dockerhub|docker_hub|hub)[_-]?(?:user|username|login|id)\b[\"']?[ \t]*[:=][ \t]*"
    rb"|^[ \t]*username[ \t]*:[ \t]*)[\"']?([a-z0-9]{4,30})\b(?![$/.@-])")


def docker_user_of(f: Finding) -> bytes:
    """The one Docker ID the finding's file names, lowercased (b"" when none or several)."""
    names = {m.group(1).lower() for m in _DOCKER_USER.finditer(source_text(f) or b"")}
    return names.pop() if len(names) == 1 else b""


def _docker_pat(cred: Credential, ctx: Context) -> Result:
    req = Request("GET", "auth.docker.io", "/token?service=registry.docker.io", basic(cred.context_text, cred.text))
    resp = send(req, ("auth.docker.io",), ctx.timeout)
    transient(resp)
    result = by_status()(resp)
    return Result(VERIFIED, f"user {cred.context_text}") if result.status == VERIFIED else result


DOCKERHUB_PAT = Verifier(
    name="dockerhub-pat", provider="docker", rule_ids=("docker-hub-pat",), hosts=("auth.docker.io",),
    request="GET https://auth.docker.io/token?service=registry.docker.io (Basic auth: the user name its file "
            "names + the token; answers a read-only pull token or 401)",
    check=_docker_pat, locate=docker_user_of,
    locate_missing="needs its Docker Hub user name (docker login -u NAME, DOCKER_USERNAME=NAME) in the same file")
