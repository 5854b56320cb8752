"""Credentials typed into shell commands in scripts, Makefiles and CI files (detectors/commands.py)."""

from __future__ import annotations

import pytest

from tests import strategies as S
from tests.detectors.fixture_eval import digest as d

RULE = "command-line-credential"
PW = S.fake_secret(1010, 14)


@pytest.mark.parametrize(
    "command, key",
    [
        ("mysql -u root -p{PW} -h db.internal app < dump.sql", "MYSQL_PASSWORD"),
        ("mysqldump -uroot --password='{PW}' app > d.sql", "MYSQL_PASSWORD"),
        ("PGPASSWORD={PW} psql -h db.internal -U app", "PGPASSWORD"),
        ("mongosh --username admin --password {PW} db.internal", "MONGO_PASSWORD"),
        ("mongodump -u admin -p {PW} --out /backup", "MONGO_PASSWORD"),
        ("redis-cli -h cache.internal -a {PW} ping", "REDIS_PASSWORD"),
        ("podman login -u robot -p {PW} quay.io", "REGISTRY_PASSWORD"),
        ("docker login -u robot -p {PW} registry.internal", "DOCKER_PASSWORD"),
        ("sshpass -p '{PW}' ssh deploy@web1", "SSH_PASSWORD"),
        ("openssl pkcs12 -export -in c.pem -passout pass:{PW} -out c.p12", "OPENSSL_PASSPHRASE"),
        ("aws ssm put-parameter --name /app/db --value '{PW}' --type SecureString", "SSM_PARAMETER_VALUE"),
        ("aws secretsmanager create-secret --name app/db --secret-string {PW}", "SECRET_STRING"),
        ("./manage.py createsuperuser --username admin --password {PW}", "password"),
        ("az login --service-principal -u app-id --password={PW} --tenant t1", "password"),
        ("deploy --api-key {PW} --env prod", "api-key"),
        ("keytool -importkeystore -srcstorepass {PW} -destkeystore b.jks", "srcstorepass"),
        ("helm upgrade app ./chart --set db.password={PW}", "db.password"),
        ("helm upgrade app ./chart --set-string 'auth.token={PW}'", "auth.token"),
    ],
)
def test_commands_in_a_script(find, command, key):
    assert find("scripts/deploy.sh", "#!/bin/sh\n" + command.replace("{PW}", PW) + "\n") == [(RULE, key, d(PW))]


@pytest.mark.parametrize("path", ["deploy.sh", "Makefile", "ci/release.ps1", "Jenkinsfile", ".gitlab-ci.yml",
                                  ".github/workflows/deploy.yml", "bitbucket-pipelines.yml"])
def test_script_and_ci_file_names(find, path):
    assert find(path, f"deploy:\n  script:\n    - mysql -h db -u root -p{PW} < schema.sql\n") == [(RULE, "MYSQL_PASSWORD", d(PW))]


def test_other_files_are_left_to_other_rules(find):
    assert find("notes.txt", f"mysql -h db -u root -p{PW} < schema.sql\n") == []


def test_a_command_continued_over_lines(find):
    text = f"#!/bin/sh\nmongosh --host db.internal \\\n  --username admin \\\n  --password {PW}\n"
    assert find("backup.sh", text) == [(RULE, "MONGO_PASSWORD", d(PW))]


def test_an_option_two_patterns_know_is_reported_once(find):
    # mysql's --password= and the credential-named option pattern find the same span
    assert find("db.sh", f"mysql -uroot --password={PW} app\n") == [(RULE, "MYSQL_PASSWORD", d(PW))]


@pytest.mark.parametrize(
    "command",
    [
        'mysql -u root -p"$MYSQL_ROOT_PASSWORD" app',
        "mysql -u root -p app",
        "mysql -u root --password=password app",
        'echo "$CI_REGISTRY_PASSWORD" | docker login --password-stdin registry.internal',
        "openssl enc -d -aes-256-cbc -pass env:BACKUP_KEY -in a.enc",
        "openssl enc -d -aes-256-cbc -pass file:/run/secrets/key -in a.enc",
        "docker build --secret id=npmrc,src=$HOME/.npmrc .",
        "deploy --token-file /run/secrets/token",
        "deploy --password-file /run/secrets/pw --bypass everything1",
        "helm upgrade app ./chart --set db.host=db.internal --set replicas=3",
        "aws ssm put-parameter --name /app/db --value \"${{ secrets.DB_PASSWORD }}\"",
    ],
)
def test_references_placeholders_and_non_credentials(find, command):
    assert find("deploy.sh", "#!/bin/sh\n" + command + "\n") == []


@pytest.mark.parametrize("comment", ["# mysql -u root -p{PW} app", "  // sh 'mysql -p{PW} app'", "REM mysql -p{PW} app",
                                     ':: password="{PW}" was the old default'])
def test_comment_lines_are_not_commands(find, comment):
    assert find("deploy.sh", "#!/bin/sh\n" + comment.replace("{PW}", PW) + "\n") == []


def test_dockerfile_run_lines_use_the_same_commands(find):
    text = f"FROM mongo:7\nRUN mongosh --username admin --password {PW} --eval 'db.stats()'\n"
    assert find("Dockerfile", text) == [("dockerfile-run-credential", "MONGO_PASSWORD", d(PW))]


def test_a_script_line_is_judged_once_across_its_versions():
    """Every version of a script goes to this detector whole (a history audit); a line's matches
    are remembered by its text, so a new version costs only the lines it changed, and finds what
    the first judgement found."""
    from collections import Counter

    from scanner.config import Config
    from scanner.engine import Engine
    from scanner.models import Chunk

    engine = Engine(Config())
    steps = [f"./run step{i} --verbose --retries {i}" for i in range(40)]
    v1 = "\n".join(["#!/bin/sh", f"mysql -u root -p{PW} app", *steps]) + "\n"
    v2 = v1.replace("step7 ", "step7b ")
    engine.work = Counter()
    first, prev = engine.scan_version(Chunk(path="scripts/deploy.sh", data=v1.encode()), None)
    assert engine.work["command lines"] >= 41
    engine.work = Counter()
    second, _ = engine.scan_version(Chunk(path="scripts/deploy.sh", data=v2.encode()), prev)
    assert engine.work["command lines"] == 1  # the changed line alone
    engine.forget()
    again, _ = engine.scan_version(Chunk(path="scripts/deploy.sh", data=v2.encode()), None)
    assert engine.work["command lines"] >= 42  # forgotten: every line judged anew
    key = sorted((f.rule_id, f.line, f.column, f.fingerprint) for f in first)
    assert len(key) == 1 and key == sorted((f.rule_id, f.line, f.column, f.fingerprint) for f in second)
    assert key == sorted((f.rule_id, f.line, f.column, f.fingerprint) for f in again)


def test_lines_known_to_hold_nothing_are_skipped_with_the_same_results():
    """Versions of scripts (with and without continued lines, CRLF, comments) judged by one emitter
    that remembers lines, which skips the lines known to hold nothing, find exactly what the
    instruction-by-instruction reading finds with an emitter that remembers nothing."""
    import random

    from scanner.detectors import Emitter, commands
    from scanner.models import Chunk
    from scanner.rules import load_rules
    from tests.detectors.fixture_eval import CONTEXT_RULES

    rules = load_rules([CONTEXT_RULES])
    shared = Emitter(rules)

    def reference(text: str) -> list:
        em = Emitter(rules)
        return sorted((m.rule.id, m.start, m.end, m.key) for line, offs in commands.logical_lines(text)
                      if not commands._COMMENT.match(line) for m in commands.run_credentials(line, offs, 0, em, RULE))

    rnd = random.Random(5)
    pool = [ex.split("\n", 1)[1].rstrip("\n") for r in rules if r.id == RULE for ex in r.examples]
    pool += ["echo building", "make all", "# mysql -p" + PW, "export PATH=/usr/bin", "  - run: ./deploy.sh",
             "curl -u admin:" + PW + " https://h", "deploy --token " + PW + " \\", "  --verbose", "", "do_it \\  "]
    lines = rnd.sample(pool, 8)
    found = 0
    for _ in range(120):
        at = rnd.randrange(len(lines) + 1)
        if rnd.random() < 0.5 or not lines:
            lines.insert(at, rnd.choice(pool))
        else:
            del lines[min(at, len(lines) - 1)]
        text = ("\r\n" if rnd.random() < 0.2 else "\n").join(lines) + rnd.choice(["", "\n"])
        got = sorted((m.rule.id, m.start, m.end, m.key) for m in commands.detect(Chunk(path="ci/deploy.sh", data=text.encode()), shared))
        want = reference(text)
        assert got == want
        found += bool(want)
    assert found > 60 and shared.nothing_in(RULE)  # credentials were there, and lines were skipped


def test_remembered_lines_are_bounded_in_memory(monkeypatch):
    """What an emitter remembers (line results, lines holding nothing) is bounded by characters
    in all: past the bound it starts afresh, and answers stay the same."""
    import scanner.detectors as detectors
    from scanner.detectors import Emitter
    from scanner.rules import load_rules
    from tests.detectors.fixture_eval import CONTEXT_RULES

    monkeypatch.setattr(detectors, "MEMO_CHARS", 20_000)
    em = Emitter(load_rules([CONTEXT_RULES]))
    for i in range(3000):
        em.holds_nothing(RULE, f"echo step {i}")
        assert em.remembered((RULE, 0, f"make target{i}"), lambda: ("judged",)) == ("judged",)
    remembered = len(em.nothing_in(RULE)) + len(em._memo)
    assert 0 < remembered <= 20_000 // detectors.MEMO_OVERHEAD
