"""Docker Hub access tokens log in with their user's name, read from the token's own file."""

from __future__ import annotations

import pytest

from scanner.verify.jobs import plan
from scanner.verify.providers.registries import DOCKERHUB_PAT, docker_user_of
from scanner.verify.registry import VERIFIERS
from tests.verify.cases import rand
from tests.verify.test_executor import finding


@pytest.mark.parametrize("text, user", [
    ("echo {t} | docker login -u acmeci --password-stdin\n", "acmeci"),
    ("docker login --username=AcmeBot -p {t}\n", "acmebot"),
    ("DOCKER_USERNAME=acmeci\nDOCKER_TOKEN={t}\n", "acmeci"),
    ("- uses: docker/login-action@v3\n  with:\n    username: octodev\n    password: {t}\n", "octodev"),
    ("DOCKERHUB_USER: ${{{{ secrets.DOCKERHUB_USER }}}}\nDOCKERHUB_TOKEN: {t}\n", ""),  # not in the file
    ("docker login -u $DOCKER_USER -p {t}\n", ""),
    ("DOCKER_USER=alice1\nDOCKER_LOGIN=bobby22\nTOKEN={t}\n", ""),  # two names: neither chosen
    ("username: ops@acme.test\ntoken: {t}\n", ""),  # not a Docker ID
])
def test_user_name_from_the_file(tmp_path, text, user):
    token = "dckr_pat_" + rand(27)
    (tmp_path / "f").write_text(text.format(t=token))
    assert docker_user_of(finding("docker-hub-pat", token, str(tmp_path / "f"))) == user.encode()


def test_without_a_user_name_nothing_is_sent(tmp_path):
    token = "dckr_pat_" + rand(27)
    (tmp_path / "f").write_text(f"TOKEN={token}\n")
    jobs, settled = plan([finding("docker-hub-pat", token, str(tmp_path / "f"))], VERIFIERS)
    assert jobs == [] and settled[0][1].detail == DOCKERHUB_PAT.locate_missing


def test_the_user_name_and_token_are_the_basic_credentials(fake, tmp_path):
    from tests.verify.test_providers import check
    from scanner.verify.base import Credential

    token, user = "dckr_pat_" + rand(27), "ci" + rand(6).lower()
    fake.valid.add(f"{user}:{token}")
    assert check("dockerhub-pat", Credential(token.encode(), context=user.encode())).detail == f"user {user}"
    (seen,) = fake.seen
    assert seen.carries(f"{user}:{token}")
    assert check("dockerhub-pat", Credential(token.encode(), context=b"someoneelse")).status == "invalid"
