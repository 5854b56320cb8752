from __future__ import annotations

import pytest

from tests.detectors.fixture_eval import digest as d

PW = "Rk7vQ2mZp9Lx4Tw"


@pytest.mark.parametrize(
    "text",
    [
        "FROM a\nENV DB_PASSWORD={PW}\n",
        "FROM a\nENV DB_PASSWORD {PW}\n",
        f'FROM a\nENV DB_PASSWORD="{PW}"\n',
        "FROM a\nENV DB_PASSWORD='{PW}'\n",
        "FROM a\nENV A=1 DB_PASSWORD={PW} B=2\n",
        "FROM a\nENV A=1 \\\n    B=2 \\\n    DB_PASSWORD={PW}\n",
        "FROM a\nENV A=1 \\\n# a comment inside the continuation\n    DB_PASSWORD={PW}\n",
        "FROM a\narg DB_PASSWORD={PW}\n",
        "# escape=`\nFROM a\nENV A=1 `\n    DB_PASSWORD={PW}\n",
    ],
)
def test_env_and_arg_syntaxes(find, text):
    assert find("Dockerfile", text.replace("{PW}", PW)) == [("dockerfile-env-credential", "DB_PASSWORD", d(PW))]


@pytest.mark.parametrize("name", ["Dockerfile", "Containerfile", "api.dockerfile", "Dockerfile.prod", "build/Dockerfile"])
def test_file_names(find, name):
    assert find(name, f"ENV API_TOKEN={PW}\n")


def test_not_a_dockerfile(find):
    assert find("notes.txt", f"ENV API_TOKEN={PW}\n") == []


@pytest.mark.parametrize(
    "run, key",
    [
        ("curl -fsSL -u deploy:{PW} https://x.internal/a.tgz", "CURL_PASSWORD"),
        ("curl --user 'deploy:{PW}' https://x.internal/a.tgz", "CURL_PASSWORD"),
        ("mysql -uroot -p{PW} -e 'select 1'", "MYSQL_PASSWORD"),
        ("mysqldump --password={PW} app > /tmp/d.sql", "MYSQL_PASSWORD"),
        ("docker login -u robot -p {PW} registry.internal", "DOCKER_PASSWORD"),
        ("docker login --password={PW} registry.internal", "DOCKER_PASSWORD"),
        ("echo '{PW}' | docker login -u robot --password-stdin registry.internal", "DOCKER_PASSWORD"),
        ('echo "//registry.npmjs.org/:_authToken={PW}" > ~/.npmrc', "NPM_TOKEN"),
        ("PGPASSWORD={PW} psql -h db -c 'select 1'", "PGPASSWORD"),
        ("export API_TOKEN={PW} && ./deploy.sh", "API_TOKEN"),
    ],
)
def test_run_inline_credentials(find, run, key):
    assert find("Dockerfile", "FROM a\nRUN " + run.replace("{PW}", PW) + "\n") == [("dockerfile-run-credential", key, d(PW))]


def test_run_url_with_credentials(find):
    got = find("Dockerfile", f"FROM a\nRUN git clone https://bot:{PW}@git.internal/x.git\n")
    assert got == [("connection-uri-password", "HTTPS_PASSWORD", d(PW))]


@pytest.mark.parametrize(
    "text",
    [
        "FROM a\nARG NPM_TOKEN\nENV NPM_TOKEN=${NPM_TOKEN}\n",
        "FROM a\nENV API_KEY=$API_KEY\n",
        "FROM a\nENV DB_PASSWORD_FILE=/run/secrets/db\n",
        "FROM a\nENV TOKEN_TTL=3600 AUTH_ENABLED=true\n",
        "FROM a\nENV DB_PASSWORD=\n",
        "FROM a\nRUN --mount=type=secret,id=npm NPM_TOKEN=$(cat /run/secrets/npm) npm ci\n",
        "FROM a\nRUN mysql -uroot -p -e 'select 1'\n",
        'FROM a\nRUN curl -u "$USER:$PASS" https://x.internal\n',
        'FROM a\nRUN echo "$REGISTRY_PASSWORD" | docker login -u r --password-stdin r.internal\n',
        "FROM a\nRUN git clone https://github.com/org/repo.git\n",
        "FROM a\nENV DB_PASSWORD={{ db_password }}\n",
    ],
)
def test_references_and_harmless_values(find, text):
    assert find("Dockerfile", text) == []


def test_value_span_points_at_the_value(ctx_engine):
    from scanner.models import Chunk

    data = f"FROM a\nENV A=1 \\\n    DB_PASSWORD=\"{PW}\"\n".encode()
    (f,) = ctx_engine.scan(Chunk(path="Dockerfile", data=data))
    assert (f.line, f.key, f.secret == PW.encode()) == (3, "DB_PASSWORD", True), "masked"
    line = data.split(b"\n")[2]
    assert line[f.column - 1 : f.end_column - 1] == PW.encode(), "span is not the value"


def test_password_split_by_a_continuation_is_reported(ctx_engine):
    """Splitting a value over a continued line is no way past the hook: the finding spans both
    pieces (the shell joins them)."""
    from scanner.models import Chunk

    head, tail = PW[:6], PW[6:]
    data = f"FROM a\nRUN docker login -u robot -p {head}\\\n{tail} registry.internal\n".encode()
    (f,) = [f for f in ctx_engine.scan(Chunk(path="Dockerfile", data=data)) if f.rule_id == "dockerfile-run-credential"]
    assert (f.line, f.key) == (2, "DOCKER_PASSWORD")
    assert f.secret.replace(b"\\\n", b"") == PW.encode(), "the span does not hold both pieces"


@pytest.mark.parametrize("name", ["build.sh", "Makefile", ".gitlab-ci.yml", ".github/workflows/ci.yml"])
def test_build_args_in_scripts(find, name):
    text = f"docker build --build-arg A=1 --build-arg GITHUB_TOKEN={PW} -t app .\n"
    assert find(name, text) == [("docker-build-arg-credential", "GITHUB_TOKEN", d(PW))]


def test_build_args_references(find):
    text = 'docker build --build-arg GITHUB_TOKEN="$GITHUB_TOKEN" --build-arg T=${T} .\n'
    assert find("build.sh", text) == []


# Old code: each of these cost seconds to minutes (a lazy or ambiguous pattern re-scanning the
# rest of a long command for every command word, blank or letter); now milliseconds.
@pytest.mark.parametrize("run", [
    "curl -u " * 8000,  # 8 s
    "htpasswd -" + "b" * 20000,  # 2.7 s: -\w*b\w* splits the run every way
    "x _authToken" + " " * 20000 + '""',  # 5.7 s: \s*[= ]\s* splits the blanks every way
    "x postgres://u:pw1234@h " * 5000,  # 31 s: each URI's scheme searched from the line's start
])
def test_long_run_commands_cost_linear_time(ctx_engine, run):
    from scanner.models import Chunk
    from tests.conftest import cpu_deadline

    with cpu_deadline(5):
        ctx_engine.scan(Chunk(path="Dockerfile", data=("FROM a\nRUN " + run + "\n").encode()))


OLD_RUN_PATTERNS = [  # the single-pattern forms the command/option pairs replace
    r"""\bcurl\b[^;&|\n]*?\s(?:-u|--user)(?:\s+|=)?(?P<q>['"]?)[^\s:'"]*:(?P<pw>[^\s'"]+)(?P=q)""",
    r"""\bwget\b[^;&|\n]*?\s--(?:http-|ftp-)?password(?:=|\s+)(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""",
    r"""\bmysql(?:dump|admin|import|sh)?\b[^;&|\n]*?\s-p(?P<q>['"]?)(?P<pw>[^\s'"-][^\s'"]*)(?P=q)""",
    r"""\bmysql(?:dump|admin|import|sh)?\b[^;&|\n]*?\s--password=(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""",
    r"""\bdocker\s+login\b[^;&|\n]*?\s(?:-p|--password)(?:\s+|=)(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""",
    None,
    r"""[:\s"']_authToken\s*[= ]\s*(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""",
    r"""(?:^|[:\s"'])_auth\s*[= ]\s*(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""",
    r"""[:\s"']_password\s*[= ]\s*(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""",
    None,
    r"""\b(?:sshpass|htpasswd\s+-\w*b\w*\s+\S+\s+\S+)\s+-p\s*(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""",
]
WORDS = ["curl", "wget", "mysql", "mysqldump", "docker", "login", "-u", "--user", "-p", "--password", "--password=",
         "=", "x:y", "'a:b'", ";", "|", "&", "\n", " ", "  ", "\t", "_authToken", "_auth", "_password", "htpasswd",
         "-bc", "-b", "f", "u", "sshpass", ":", '"', "'", "--http-password"]


@pytest.mark.parametrize("seed", range(10))
def test_run_patterns_find_what_the_single_patterns_found(seed):
    import random
    import re

    from scanner.detectors import commands as D

    rng = random.Random(seed)
    for _ in range(2000):
        line = "".join(rng.choice(WORDS) + rng.choice(["", " ", " "]) for _ in range(rng.randint(1, 14)))
        for old, (cmd, opt, _) in zip(OLD_RUN_PATTERNS, D._RUN_PATTERNS):
            if old is None:
                continue
            want = [m.span("pw") for m in re.finditer(old, line)]
            got = [m.span("pw") for m in (D._options(cmd, opt, line, 0) if cmd else opt.finditer(line))]
            assert got == want, repr(line)
