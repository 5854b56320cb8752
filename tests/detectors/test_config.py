from __future__ import annotations

import base64
import random

import pytest

from tests.detectors.fixture_eval import digest as d

PW = "Lr7Qx2Vk9Mz4Tw6P"
CF = "config-credential"
URI = "connection-uri-password"


@pytest.mark.parametrize(
    "name, text, key",
    [
        ("settings.yaml", "db:\n  host: x\n  password: {PW}\n", "password"),
        ("settings.yml", "db:\n  password: '{PW}' # prod\n", "password"),
        ("config.json", '{"oauth": {"client_secret": "{PW}"}}', "client_secret"),
        ("app.ini", "[db]\npassword = {PW}\n", "password"),
        ("setup.cfg", "[upload]\napi_token: {PW}\n", "api_token"),
        ("my.cnf", "[client]\npassword={PW}\n", "password"),
        ("settings.toml", '[kafka]\nsasl_password = "{PW}"\n', "sasl_password"),
        ("application.properties", "spring.datasource.password={PW}\n", "spring.datasource.password"),
        ("settings.xml", "<server><password>{PW}</password></server>", "password"),
        ("web.config", '<add key="SmtpPassword" value="{PW}" />', "SmtpPassword"),
        ("app.xml", '<property name="db.password">{PW}</property>', "db.password"),
        (".npmrc", "//registry.npmjs.org/:_authToken={PW}\n", "_authToken"),
        ("redis.conf", "requirepass {PW}\n", "requirepass"),
        ("deploy.yaml", "env:\n  - name: DB_PASSWORD\n    value: \"{PW}\"\n", "DB_PASSWORD"),
        ("task.json", '{"environment": [{"name": "DB_PASSWORD", "value": "{PW}"}]}', "DB_PASSWORD"),
    ],
)
def test_formats(find, name, text, key):
    assert find(name, text.replace("{PW}", PW)) == [(CF, key, d(PW))]


@pytest.mark.parametrize(
    "value",
    [
        "${DB_PASSWORD}", "$DB_PASSWORD", "$(cat /run/secrets/db)", "{{ db_password }}", "%(db_password)s",
        "os.environ['DB_PASSWORD']", "process.env.DB_PASSWORD", "!Ref DbPassword",
        "{{resolve:secretsmanager:prod/db:SecretString:password}}",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf", "", "true", "false", "12345",
        "null", "changeme", "<your-password>", "xxxxxxxxxxxx", "ENC[AES256_GCM,data:abc,iv:def]",
    ],
)
def test_references_and_placeholders(find, value):
    for name, text in (
        ("settings.yaml", f"db:\n  password: {value}\n"),
        ("app.ini", f"[db]\npassword = {value}\n"),
        (".env", f"DB_PASSWORD={value}\n"),
        ("Dockerfile", f"ENV DB_PASSWORD={value}\n"),
    ):
        assert find(name, text) == [], name


@pytest.mark.parametrize(
    "uri",
    [
        "postgres://app:{PW}@db.internal:5432/app",
        "postgresql://app:{PW}@db.internal/app?sslmode=require",
        "mysql://root:{PW}@mysql.internal:3306/app",
        "mongodb+srv://analytics:{PW}@cluster0.ab1cd.mongodb.net/db",
        "redis://:{PW}@cache.internal:6379/0",
        "amqp://worker:{PW}@rabbit.internal:5672/jobs",
        "https://deploy:{PW}@git.internal/org/repo.git",
        "Server=sql01;Database=Shop;User Id=shop;Password={PW};",
    ],
)
def test_connection_uris(find, uri):
    assert find("settings.yaml", f"database:\n  url: \"{uri.replace('{PW}', PW)}\"\n") == [(URI, "url", d(PW))]


@pytest.mark.parametrize(
    "uri",
    [
        "postgres://app:${DB_PASSWORD}@db/app", "postgres://user:password@localhost/app",
        "amqp://guest:guest@localhost:5672//", "postgres://db.internal:5432/app", "https://example.com/a:b@c",
        "mysql://root:<password>@db/app",
    ],
)
def test_connection_uri_look_alikes(find, uri):
    assert find("settings.yaml", f"database:\n  url: \"{uri}\"\n") == []


def test_kubernetes_secret_data_is_decoded(find, ctx_engine):
    from scanner.models import Chunk

    enc = base64.b64encode(PW.encode()).decode()
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n"
        f"  username: {base64.b64encode(b'admin').decode()}\n  password: {enc}\n"
        f"  extra: {base64.b64encode(b'bar').decode()}\n  empty: \"\"\n"
        "stringData:\n  api-token: Pz7Kw2Rm9Lq4Vx8T\n  host: db.internal\n"
    )
    assert find("secret.yaml", text) == sorted(
        [("kubernetes-secret-data", "password", d(enc)), ("kubernetes-secret-stringdata", "api-token", d("Pz7Kw2Rm9Lq4Vx8T"))]
    )
    lines = sorted(f.line for f in ctx_engine.scan(Chunk(path="secret.yaml", data=text.encode())))
    assert lines == [8, 12]


def test_kubernetes_only_for_secrets(find):
    enc = base64.b64encode(PW.encode()).decode()
    cm = f"apiVersion: v1\nkind: ConfigMap\ndata:\n  blob: {enc}\n"
    sealed = f"apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nspec:\n  encryptedData:\n    password: {enc}\n"
    assert find("cm.yaml", cm) == [] and find("sealed.yaml", sealed) == []
    template = "apiVersion: v1\nkind: Secret\nstringData:\n  password: \"{{ .Values.password }}\"\n"
    assert find("secret.yaml", template) == []


def test_kubernetes_tab_indented_and_kind_last(find):
    enc = base64.b64encode(b"admin:Tw9Kx3Wq7Lz2Rm5").decode()
    text = f"apiVersion: v1\ndata:\n\textra: {enc}\nkind: secret\nmetadata:\n\tname: legacy\n"
    assert find("s.yaml", text) == [("kubernetes-secret-data", "extra", d(enc))]


@pytest.mark.parametrize(
    "name, text",
    [
        ("t.tf", 'resource "aws_db_instance" "x" {\n  password = "{PW}"\n}\n'),
        ("t.tf", 'provider "aws" {\n  secret_key = "{PW}"\n}\n'),
        ("t.tfvars", 'admin_password = "{PW}"\n'),
        ("v.tf", 'variable "db_password" {\n  type = string\n  default = "{PW}"\n}\n'),
        ("vault.hcl", 'storage "consul" {\n  token = "{PW}"\n}\n'),
    ],
)
def test_terraform(find, name, text):
    assert [r for r, _, v in find(name, text.replace("{PW}", PW)) if v == d(PW)] == ["terraform-credential"]


@pytest.mark.parametrize(
    "text",
    [
        'resource "x" "y" {\n  password = var.db_password\n}\n',
        'resource "x" "y" {\n  password = "${random_password.db.result}"\n}\n',
        'variable "db_password" {\n  sensitive = true\n}\nvariable "region" {\n  default = "Kx8Qz3Lm7Vt2Rw"\n}\n',
        'locals {\n  api_key = data.aws_ssm_parameter.key.value\n}\n',
    ],
)
def test_terraform_references(find, text):
    assert find("main.tf", text) == []


def test_malformed_files_never_crash(ctx_engine):
    from scanner.models import Chunk

    rng = random.Random(7)
    alphabet = b"ab:=- \t\n\"'{}[]#|>!&*%$\\/<>@;,.xyPASSWORDtoken0123456789\r\x80\xff"
    samples = [
        b'{"password": "abc', b"password: 'unterminated\n  more", b"kind: Secret\ndata:\n  password: !!!notbase64",
        b"a: |\n", b"- - - -\n", b"ENV \\\n", b'DB_PASSWORD="never closed\n', b"<password>", b"\xff\xfe\x00"[:2],
    ]
    samples += [bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 300))) for _ in range(300)]
    names = ["a.yaml", "a.json", "a.ini", "a.toml", "a.properties", "a.xml", ".env", "Dockerfile",
             "docker-compose.yml", "s.yaml", "main.tf", "build.sh", ".npmrc", ".netrc", ".pgpass"]
    for data in samples:
        for name in names:
            ctx_engine.scan(Chunk(path=name, data=data + b"\n--build-arg X=1 kind: Secret"))


def test_kubernetes_secrets_in_json_lists(find, ctx_engine):
    # `kubectl get secrets -o json`: a List whose items are Secrets (and other kinds).
    import json

    from scanner.models import Chunk

    enc = base64.b64encode(PW.encode()).decode()
    doc = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ConfigMap", "data": {"blob": enc}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
         "data": {"username": base64.b64encode(b"admin").decode(), "extra": base64.b64encode(b"bar").decode(),
                  "tls.key": enc},
         "stringData": {"api-token": "Pz7Kw2Rm9Lq4Vx8T", "host": "db.internal"}},
    ]}
    want = sorted([("kubernetes-secret-data", "tls.key", d(enc)),
                   ("kubernetes-secret-stringdata", "api-token", d("Pz7Kw2Rm9Lq4Vx8T"))])
    pretty, compact = json.dumps(doc, indent=2), json.dumps(doc)
    assert find("secrets.json", pretty) == want and find("secrets.json", compact) == want
    lines = sorted(f.line for f in ctx_engine.scan(Chunk(path="secrets.json", data=pretty.encode())))
    assert [pretty.splitlines()[n - 1].split(":")[0].strip() for n in lines] == ['"tls.key"', '"api-token"']


def test_kubernetes_json_that_does_not_parse_is_left_to_the_config_detector(find):
    enc = base64.b64encode(PW.encode()).decode()
    broken = '{"kind": "Secret", "data": {"password": "' + enc + '"}'  # no closing brace
    assert find("s.json", broken) == [("config-credential", "password", d(enc))]
    assert find("cm.json", '{"kind": "ConfigMap", "data": {"blob": "' + enc + '"}}') == []


# Old code: 26 s and ~4 s (an attribute searched for from inside every long name; a tag's
# attributes re-scanned for every key="..." in it); now milliseconds.
@pytest.mark.parametrize("text", ["token:" * 10000, "<a " + ' key="password"' * 10000])
def test_xml_scan_costs_linear_time(ctx_engine, text):
    from scanner.models import Chunk
    from tests.conftest import cpu_deadline

    with cpu_deadline(1.5):
        ctx_engine.scan(Chunk(path="web.config", data=text.encode()))


def test_xml_named_element_and_attribute_forms(find):
    got = find("app.config", f'<x><add name="db.password" type="s">{PW}</add><b t="1">{PW}</b>'
                             f'<c 9:api_key="{PW}"/></x>')
    assert got == sorted([("config-credential", "db.password", d(PW)), ("config-credential", "api_key", d(PW))])


# -- credential dotfiles and client configuration files ------------------------------------------
def _rand(n: int, seed: int = 11) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(n))


def test_pgpass_lines_are_read_without_a_credential_word(find):
    # Not one word of the config detector's vocabulary in the file: it is read by its name.
    pw, esc = _rand(14), "Ab\\:cd" + _rand(8)
    text = f"# prod\ndb.internal:5432:app:app:{pw}\n*:*:*:replica:{esc}\nlocalhost:5432:*:postgres:*\n"
    assert find(".pgpass", text) == sorted([("pgpass-password", "password", d(pw)), ("pgpass-password", "password", d(esc))])
    assert find("pgpass.conf", f"10.0.0.5:5432:*:etl:{pw}\n") == [("pgpass-password", "password", d(pw))]


def test_pgpass_weak_password_is_a_leak_and_placeholder_is_not(find):
    assert find(".pgpass", "db:5432:app:app:password123\n") == [("pgpass-password", "password", d("password123"))]
    assert find(".pgpass", "db:5432:app:app:password\n") == []


@pytest.mark.parametrize(
    "name, text",
    [
        (".netrc", "machine api.x.internal\n  login ops\n  password {PW}\n"),
        ("_netrc", 'machine ftp.corp login deploy password "{PW}"\n'),
        (".fetchmailrc", 'poll mail.corp.com protocol pop3 user "bob" password "{PW}"\n'),
        (".fetchmailrc", "poll mail.corp.com\n  user bob there with pass {PW} is bob here\n"),
    ],
)
def test_netrc_and_fetchmail(find, name, text):
    assert find(name, text.replace("{PW}", PW)) == [("netrc-password", "password", d(PW))]


def test_netrc_api_key_that_is_a_uuid(find):
    # The Heroku CLI writes its API key (a UUID) as the password of api.heroku.com.
    key = "3c0f9b52-7e4a-4d1b-9a62-" + "".join(random.Random(3).choice("0123456789abcdef") for _ in range(12))
    text = f"machine api.heroku.com\n  login ops@corp.io\n  password {key}\n"
    assert find(".netrc", text) == [("netrc-password", "password", d(key))]


@pytest.mark.parametrize(
    "name, text, key",
    [
        (".gem/credentials", "---\n:rubygems_api_key: {PW}\n", ":rubygems_api_key"),
        ("home/.kube/config", "users:\n- name: admin\n  user:\n    token: {PW}\n", "token"),
        ("ci/kubeconfig", "users:\n- name: admin\n  user:\n    password: {PW}\n", "password"),
        ("prod.kubeconfig", "users:\n- name: admin\n  user:\n    password: {PW}\n", "password"),
        (".dockercfg", '{"https://index.docker.io/v1/": {"identitytoken": "{PW}"}}', "identitytoken"),
        (".docker/config.json", '{"auths": {"x.azurecr.io": {"identitytoken": "{PW}"}}}', "identitytoken"),
        (".aws/credentials", "[prod]\naws_session_token = {PW}\n", "aws_session_token"),
        (".msmtprc", "account default\nhost smtp.corp\nuser bob\npassword {PW}\n", "password"),
        (".muttrc", 'set imap_user = "bob"\nset imap_pass = "{PW}"\n', "set imap_pass"),
        ("home/.mutt/muttrc", "set smtp_pass={PW}\n", "set smtp_pass"),
        (".databrickscfg", "[DEFAULT]\nhost = https://x.cloud.databricks.com\ntoken = {PW}\n", "token"),
        (".wgetrc", "user = bob\npassword = {PW}\n", "password"),
    ],
)
def test_credential_files_known_by_name(find, name, text, key):
    assert find(name, text.replace("{PW}", PW)) == [(CF, key, d(PW))]


def test_terraform_cli_configuration(find):
    text = 'credentials "app.terraform.io" {\n  token = "{PW}"\n}\n'.replace("{PW}", PW)
    assert find(".terraformrc", text) == [("terraform-credential", "token", d(PW))]
    assert find("terraform.rc", text) == [("terraform-credential", "token", d(PW))]


def test_filezilla_base64_passwords_are_judged_decoded(find):
    def site(value: str) -> str:
        return (f'<FileZilla3><Servers><Server><Host>ftp.corp</Host><User>bob</User>'
                f'<Pass encoding="base64">{value}</Pass></Server></Servers></FileZilla3>\n')

    weak = base64.b64encode(b"hunter2hunter").decode()
    assert find("sitemanager.xml", site(weak)) == [(CF, "Pass", d(weak))]
    for placeholder in (b"password", b"changeme", b"<password>"):
        assert find("sitemanager.xml", site(base64.b64encode(placeholder).decode())) == []
    assert find("recentservers.xml", site("not base64 at all!")) == []
