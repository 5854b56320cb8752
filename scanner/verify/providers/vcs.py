"""GitHub and GitLab: who the token belongs to, and its scopes."""

from __future__ import annotations

from scanner.verify.http import Response, simple


def _auth_token(cred) -> dict:
    return {"Authorization": f"token {cred.text}", "Accept": "application/vnd.github+json"}


def _github_user(resp: Response) -> str:
    scopes = resp.headers.get("x-oauth-scopes")
    return f"login {resp.json()['login']}" + (f", scopes {scopes}" if scopes else "")


def _installation(resp: Response) -> str:
    return f"app installation with access to {int(resp.json()['total_count'])} repositories"


def _gitlab(resp: Response) -> str:
    body = resp.json()
    return f"token '{body['name']}', scopes {','.join(body['scopes'])}"


GITHUB = simple(
    "github", "github",
    ("github-pat-classic", "github-pat-fine-grained", "github-oauth-token", "github-app-user-token"),
    "api.github.com", "/user", _auth_token, "Authorization: token …", who=_github_user)
GITHUB_APP = simple(
    "github-app-installation", "github", ("github-app-installation-token",),
    "api.github.com", "/installation/repositories?per_page=1", _auth_token, "Authorization: token …",
    who=_installation)
GITLAB = simple(
    "gitlab", "gitlab", ("gitlab-pat", "gitlab-pat-routable"),
    "gitlab.com", "/api/v4/personal_access_tokens/self", lambda c: {"PRIVATE-TOKEN": c.text}, "PRIVATE-TOKEN: …",
    who=_gitlab)
