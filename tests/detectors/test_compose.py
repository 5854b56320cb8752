from __future__ import annotations

from tests.detectors.fixture_eval import digest as d

PW = "Qw7Er4Ty9Ui2Op5A"
RULE = "compose-environment-credential"


def test_environment_map_list_and_build_args(find):
    text = f"""services:
  db:
    environment:
      POSTGRES_PASSWORD: {PW}
      POSTGRES_USER: app
  web:
    environment:
      - NODE_ENV=production
      - "SESSION_SECRET={PW}x"
    build:
      context: .
      args:
        NPM_TOKEN: "{PW}y"
        VERSION: 1.2.3
  worker:
    build:
      args:
        - PIP_PASSWORD={PW}z
"""
    assert find("docker-compose.yml", text) == sorted(
        [
            (RULE, "POSTGRES_PASSWORD", d(PW)),
            (RULE, "SESSION_SECRET", d(PW + "x")),
            (RULE, "NPM_TOKEN", d(PW + "y")),
            (RULE, "PIP_PASSWORD", d(PW + "z")),
        ]
    )


def test_compose_names(find):
    text = f"services:\n  a:\n    environment:\n      API_TOKEN: {PW}\n"
    for name in ("docker-compose.yml", "docker-compose.prod.yaml", "compose.yaml", "compose.override.yml"):
        assert find(name, text) == [(RULE, "API_TOKEN", d(PW))], name
    # The same content in another YAML file is judged as plain config.
    assert find("values.yaml", text) == [("config-credential", "API_TOKEN", d(PW))]


def test_references_are_not_reported(find):
    text = """services:
  db:
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?required}
      MYSQL_PASSWORD: $MYSQL_PASSWORD
      - TOKEN={{ token }}
      POSTGRES_PASSWORD_FILE: /run/secrets/db
    build:
      args:
        - NPM_TOKEN
"""
    assert find("docker-compose.yml", text) == []


def test_uri_in_environment(find):
    text = f"services:\n  a:\n    environment:\n      - DATABASE_URL=postgres://app:{PW}@db:5432/app\n"
    assert find("docker-compose.yml", text) == [("connection-uri-password", "DATABASE_URL", d(PW))]
