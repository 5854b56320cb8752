"""Terraform, applied for real against moto: literals become the data source's value, the data
blocks parse (python-hcl2) and, read against the store, give back every moved value; provider
credentials are removed in favour of the credential chain."""

from __future__ import annotations

import hashlib
import json
import random
import re
import string

import boto3
import hcl2

from scanner.remediate.records import Workspace
from scanner.remediate.rewriters import classify, rewrite_all
from scanner.remediate.rewriters.terraform import blocks_at
from scanner.remediate.settings import Settings
from scanner.remediate.stores import make_store
from tests.remediate.test_rewriters import item, site_of


def _rand(n: int, prefix: str = "") -> str:
    rng = random.SystemRandom()
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def plain(obj):
    """python-hcl2's output without its quoting and bookkeeping (v8 keeps string quotes)."""
    if isinstance(obj, dict):
        return {k.strip('"'): plain(v) for k, v in obj.items() if not k.startswith("__")}
    if isinstance(obj, list):
        return [plain(v) for v in obj]
    if isinstance(obj, str) and len(obj) > 1 and obj[0] == obj[-1] == '"':
        return obj[1:-1].replace('\\"', '"')
    return obj


def h(v: str) -> str:
    return hashlib.sha256(v.encode()).hexdigest()


MAIN = """terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws" }}
  }}
}}

provider "aws" {{
  region     = "eu-west-1"
  access_key = "{akid}"
  secret_key = "{sak}" # from the console
}}

resource "aws_ssm_parameter" "hook" {{
  name  = "/shop/hook"
  type  = "SecureString"
  value = "{token}"
  tags = {{
    Team = "shop"
  }}
}}

locals {{
  stripe_url = "https://api.example.com/?key={stripe}&v=2"
}}
"""


def test_classify_and_blocks():
    assert classify("infra/main.tf", b"") == "terraform"
    lines = MAIN.format(akid="A", sak="B", token="C", stripe="D").split("\n")
    where = blocks_at(lines)
    assert where[lines.index('  access_key = "A"')] == ["provider aws"]
    assert where[lines.index('    Team = "shop"')] == ["resource aws_ssm_parameter hook"]
    assert where[lines.index('  stripe_url = "https://api.example.com/?key=D&v=2"')] == ["locals"]


def test_variable_default_is_a_manual_step(tmp_path):
    token = _rand(36, "ghp_")
    src = f'variable "token" {{\n  default = "{token}"\n}}\n'
    (tmp_path / "vars.tf").write_text(src)
    ws = Workspace(tmp_path)
    ctx = rewrite_all(ws, [item(token, [site_of(tmp_path, "vars.tf", token)])],
                      Settings(project="shop", env="prod"), make_store("secretsmanager", "us-east-1"))
    assert not ws.pending and ctx.manual and "variable default" in ctx.manual[0].reason


def test_apply_reads_back_through_the_data_source(remediate, make_repo, git_commit):
    repo = make_repo("tf")
    akid = "AKIA" + "".join(random.SystemRandom().choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    values = {"akid": akid, "sak": _rand(40), "token": _rand(36, "ghp_"), "stripe": "sk_" + "live_" + _rand(24)}
    src = MAIN.format(**values)
    (repo / "infra").mkdir()
    (repo / "infra/main.tf").write_text(src)
    git_commit(repo, "tf")
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    text = (repo / "infra/main.tf").read_text()
    for v in values.values():
        assert v not in text, "a value is still in main.tf"
    assert "# leakstop: access_key removed" in text and "secret_key" in text
    parsed = plain(hcl2.loads(text))
    data = plain(hcl2.loads((repo / "infra/leakstop_secrets.tf").read_text()))
    secret_ids = {label: body["secret_id"] for block in data["data"]
                  for kind, named in block.items() if kind == "aws_secretsmanager_secret_version"
                  for label, body in named.items()}
    sm = boto3.client("secretsmanager")

    def resolve(expr: str) -> str:
        m = re.search(r'jsondecode\(data\.aws_secretsmanager_secret_version\.(\w+)\.secret_string\)\["(\w+)"\]', expr)
        assert m, "not a data source reference"
        return json.loads(sm.get_secret_value(SecretId=secret_ids[m.group(1)])["SecretString"])[m.group(2)]

    res = {k: v for block in parsed["resource"] for k, v in block.items()}
    value_expr = res["aws_ssm_parameter"]["hook"]["value"]
    assert h(resolve(value_expr)) == h(values["token"])
    url = parsed["locals"][0]["stripe_url"]
    assert url.startswith("https://api.example.com/?key=${jsondecode(") and url.endswith("}&v=2")
    assert h(resolve(url)) == h(values["stripe"])
    provider = parsed["provider"][0]["aws"]
    assert "access_key" not in provider and "secret_key" not in provider and provider["region"] == "eu-west-1"
    # Everything outside the edited lines keeps its bytes.
    assert text.startswith(src[: src.index("  access_key")])
    assert text.endswith(src[src.index("  tags = {"): src.index("locals")] + text[text.index("locals"):])
    # Idempotent.
    r2 = remediate(repo, "--apply")
    assert r2.code == 0 and (repo / "infra/main.tf").read_text() == text


ECS = """resource "aws_iam_role" "exec" {{
  name               = "web-exec"
  assume_role_policy = "{{}}"
}}

resource "aws_ecs_task_definition" "web" {{
  family                   = "web"
  requires_compatibilities = ["FARGATE"]
  execution_role_arn       = aws_iam_role.exec.arn
  container_definitions = jsonencode([
    {{
      name  = "web"
      image = "shop/web:1.2"
      environment = [
        {{ name = "MODE", value = "prod" }},
        {{ name = "STRIPE_KEY", value = "{stripe}" }},
      ]
    }},
    {{
      name  = "worker"
      image = "shop/worker:1.2"
      environment = [
        {{
          name  = "GITHUB_TOKEN"
          value = "{token}"
        }},
      ]
      secrets = [
        {{ name = "OTHER", valueFrom = "arn:aws:ssm:us-east-1:123456789012:parameter/other" }},
      ]
    }},
  ])
}}
"""


def test_ecs_task_definition_environment_becomes_secrets(remediate, make_repo, git_commit):
    repo = make_repo("tf-ecs")
    values = {"stripe": "sk_" + "live_" + _rand(24), "token": _rand(36, "ghp_")}
    (repo / "infra").mkdir()
    (repo / "infra/ecs.tf").write_text(ECS.format(**values))
    git_commit(repo, "tf")
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    text = (repo / "infra/ecs.tf").read_text()
    extra = (repo / "infra/leakstop_secrets.tf").read_text()
    for v in values.values():
        assert v not in text and v not in extra
    hcl2.loads(text)
    data = plain(hcl2.loads(extra))
    assert '{ name = "MODE", value = "prod" }' in text and "secret_string" not in text
    names = {label: body["name"] for block in data["data"] for kind, named in block.items()
             if kind == "aws_secretsmanager_secret" for label, body in named.items()}
    sm = boto3.client("secretsmanager")
    refs = re.findall(r'\{ name = "(\w+)", valueFrom = "\$\{data\.aws_secretsmanager_secret\.(\w+)\.arn\}:(\w+)::" \}', text)
    assert sorted(r[0] for r in refs) == ["GITHUB_TOKEN", "STRIPE_KEY"]
    for var, label, key in refs:
        stored = json.loads(sm.get_secret_value(SecretId=names[label])["SecretString"])
        assert h(stored[key]) == h(values["stripe" if var == "STRIPE_KEY" else "token"])
    # the worker's existing secrets list got the entry (its four-line object removed), the web
    # container a new one
    assert text.count("secrets = [") == 2 and "OTHER" in text and "GITHUB_TOKEN\"\n" not in text
    [policy] = [named["leakstop_read_web"] for block in data["resource"] for kind, named in block.items()
                if kind == "aws_iam_role_policy"]
    assert policy["role"] == "${aws_iam_role.exec.id}"
    for label in names:
        assert f"data.aws_secretsmanager_secret.{label}.arn" in policy["policy"]
