"""Cloud platforms over HTTPS: Heroku, Google API keys."""

from __future__ import annotations

from scanner.verify.base import ERROR, INVALID, VERIFIED, Result
from scanner.verify.http import Response, bearer, simple

HEROKU = simple(
    "heroku", "heroku", ("heroku-api-key", "heroku-api-key-v2"), "api.heroku.com", "/account",
    lambda c: {**bearer(c.text), "Accept": "application/vnd.heroku+json; version=3"}, "Authorization: Bearer …",
    who=lambda r: f"account {r.json()['email']}")


def _google(resp: Response) -> Result:
    """Google answers an unknown key 400 (API_KEY_INVALID); a real key of a project without this
    API, or restricted to other referrers or APIs, 403: the key exists either way."""
    text = resp.body[:4000].decode("utf-8", "replace")
    if resp.status == 200:
        return Result(VERIFIED, "accepted (HTTP 200)")
    if resp.status == 400 and ("API_KEY_INVALID" in text or "API key not valid" in text):
        return Result(INVALID, "rejected: API key not valid")
    if resp.status == 403:
        return Result(VERIFIED, "key exists (HTTP 403: this API is not enabled for it, or it is restricted)")
    return Result(ERROR, f"unexpected answer (HTTP {resp.status})")


GOOGLE_API_KEY = simple(
    "google-api-key", "google", ("gcp-api-key",), "www.googleapis.com", "/books/v1/volumes?q=leakstop&maxResults=1",
    lambda c: {"X-goog-api-key": c.text}, "X-goog-api-key: …", interpret=_google)
