"""Package registries: npm, PyPI, Docker Hub."""

from __future__ import annotations

from scanner.verify.base import ERROR, INVALID, VERIFIED, Credential, Result, Verifier
from scanner.verify.http import Request, Response, basic, bearer, http_check, simple

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
