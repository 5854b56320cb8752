"""CloudFormation / SAM templates, applied against moto: the rewritten template is cfn-lint clean;
a Lambda function's environment value goes through the AWS Parameters and Secrets Lambda
Extension (layer, name variables, read permission where the function is declared) and reads back
through the generated helper; every other value is a dynamic reference naming a stored secret and key."""

from __future__ import annotations

import json
import random
import re
import string
import subprocess
import sys
from pathlib import Path

import boto3
import yaml

TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: billing   # keep me
Resources:
  Charge:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.13
      CodeUri: src/
      Environment:
        Variables:
          STRIPE_SECRET: {stripe}
          MODE: prod
  Hook:
    Type: AWS::Lambda::Function
    Properties:
      Handler: index.handler
      Runtime: python3.13
      Role: arn:aws:iam::123456789012:role/hook
      Code:
        ZipFile: "def handler(event, context):\n    return 1\n"
      Environment:
        Variables:
          GH_TOKEN: "{token}"
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Handler: index.handler
      Runtime: python3.13
      Role: !GetAtt WorkerRole.Arn
      Code:
        ZipFile: "def handler(event, context):\n    return 1\n"
      Environment:
        Variables:
          STRIPE_SECRET: {stripe}
  WorkerRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{Service: lambda.amazonaws.com}}
            Action: sts:AssumeRole
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "jobs-{token}"
"""


def _secrets(rng=random.SystemRandom()) -> tuple[str, str]:
    stripe = "sk_" + "live_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24))
    token = "ghp_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(36))
    return stripe, token


def _lint(path: Path) -> None:
    lint = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), "--regions", "us-east-1", "--", str(path)],
                          capture_output=True, text=True, timeout=300)
    assert lint.returncode == 0, lint.stdout[-2000:] + lint.stderr[-500:]


def _apply(remediate, make_repo, git_commit, *args: str) -> tuple[Path, str, str]:
    stripe, token = _secrets()
    repo = make_repo("sam")
    (repo / "template.yaml").write_text(TEMPLATE.format(stripe=stripe, token=token))
    (repo / "src").mkdir()
    (repo / "src/app.py").write_text("import os\n\n\ndef handler(event, context):\n    return 1\n")
    git_commit(repo, "sam")
    r = remediate(repo, "--apply", *args)
    assert r.code == 0, r.err
    text = (repo / "template.yaml").read_text()
    assert stripe not in text and token not in text and "@leakstop-arn(" not in text
    _lint(repo / "template.yaml")
    return repo, text, r.out


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor("!", lambda loader, suffix, node: {suffix: loader.construct_scalar(node)}
                              if isinstance(node, yaml.ScalarNode) else None)


def test_lambda_environment_goes_through_the_extension(remediate, make_repo, git_commit, monkeypatch):
    repo, text, out = _apply(remediate, make_repo, git_commit)
    doc = yaml.load(text, Loader=_Loader)
    res = doc["Resources"]
    sm = boto3.client("secretsmanager")
    arns = {s["Name"]: s["ARN"] for s in sm.list_secrets()["SecretList"]}
    layers = doc["Mappings"]["LeakstopSecretsExtension"]["us-east-1"]
    assert layers["x8664"] == "arn:aws:lambda:us-east-1:177933569100:layer:AWS-Parameters-and-Secrets-Lambda-Extension:4"
    for fn, var in (("Charge", "STRIPE_SECRET"), ("Hook", "GH_TOKEN"), ("Worker", "STRIPE_SECRET")):
        props = res[fn]["Properties"]
        env = props["Environment"]["Variables"]
        assert var not in env and env["PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"] == "2773"
        assert env[var + "_SECRET_ID"] in arns
        assert env[var + "_SECRET_KEY"] in json.loads(sm.get_secret_value(SecretId=env[var + "_SECRET_ID"])["SecretString"])
        assert props["Layers"] == [{"Fn::FindInMap": ["LeakstopSecretsExtension", {"Ref": "AWS::Region"}, "x8664"]}]
    charge_env = res["Charge"]["Properties"]["Environment"]["Variables"]
    assert res["Charge"]["Properties"]["Policies"] == [
        {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": arns[charge_env["STRIPE_SECRET_SECRET_ID"]]}}]
    [policy] = res["WorkerRole"]["Properties"]["Policies"]
    [read] = [s for s in policy["PolicyDocument"]["Statement"] if "secretsmanager:GetSecretValue" in s["Action"]]
    assert read["Resource"] == [arns[charge_env["STRIPE_SECRET_SECRET_ID"]]]
    assert "Policies" not in res["Hook"]["Properties"] and "Hook's role is not declared in this template" in out
    # the value inside a longer string stays a dynamic reference
    assert re.search(r"jobs-\{\{resolve:secretsmanager:[^:}]+:SecretString:token\}\}", res["Queue"]["Properties"]["QueueName"]["Sub"])
    _reads_through_extension(monkeypatch, sm, charge_env, "STRIPE_SECRET", repo / "src/leakstop_secrets.py")


def _reads_through_extension(monkeypatch, sm, env: dict, var: str, helper_file: Path) -> None:
    """The function's code, given the template's variables and the helper written into its code
    directory (CodeUri), gets the value from the extension."""
    import types

    from tests.remediate.conftest import extension_server

    token = "".join(random.SystemRandom().choice(string.ascii_letters) for _ in range(16))
    name = env[var + "_SECRET_ID"]
    server, seen = extension_server(token, {name: sm.get_secret_value(SecretId=name)["SecretString"]})
    try:
        helper = types.ModuleType("h")
        exec(helper_file.read_text(), helper.__dict__)
        helper._client = lambda service: (_ for _ in ()).throw(AssertionError("an AWS API call"))
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", str(server.server_address[1]))
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)
        got = helper.lookup(helper.os.environ[var + "_SECRET_ID"], helper.os.environ.get(var + "_SECRET_KEY"))
        assert got == json.loads(sm.get_secret_value(SecretId=name)["SecretString"])[env[var + "_SECRET_KEY"]]
        assert len(seen) == 1
    finally:
        server.shutdown()


def test_dynamic_references_when_asked(remediate, make_repo, git_commit):
    repo, text, _ = _apply(remediate, make_repo, git_commit, "--lambda-env", "dynamic-reference")
    refs = re.findall(r"\{\{resolve:secretsmanager:([^:}]+):SecretString:([^:}]+)\}\}", text)
    assert len(refs) == 4 and "Layers" not in text and "Mappings" not in text
    sm = boto3.client("secretsmanager")
    for name, key in refs:
        assert key in json.loads(sm.get_secret_value(SecretId=name)["SecretString"])
    assert "Description: billing   # keep me\n" in text and "          MODE: prod\n" in text


ECS_TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: web
      Cpu: "256"
      Memory: "512"
      NetworkMode: awsvpc
      RequiresCompatibilities: [FARGATE]
      ExecutionRoleArn: !GetAtt ExecRole.Arn
      ContainerDefinitions:
        - Name: web
          Image: shop/web:1.2
          Environment:
            - Name: MODE
              Value: prod
            - Name: STRIPE_KEY
              Value: {stripe}
        - Name: worker
          Image: shop/worker:1.2
          Environment:
            - Name: GITHUB_TOKEN
              Value: "{token}"
          Essential: false
  ExecRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {{Service: ecs-tasks.amazonaws.com}}
            Action: sts:AssumeRole
"""


def _camel(node):
    """CloudFormation's property names as the ECS API spells them (ContainerDefinitions -> containerDefinitions)."""
    if isinstance(node, dict):
        return {k[:1].lower() + k[1:]: _camel(v) for k, v in node.items()}
    return [_camel(v) for v in node] if isinstance(node, list) else node


def test_ecs_task_definition_environment_becomes_secrets_and_registers(remediate, make_repo, git_commit):
    stripe, token = _secrets()
    repo = make_repo("ecs-cfn")
    (repo / "stack.yaml").write_text(ECS_TEMPLATE.format(stripe=stripe, token=token))
    git_commit(repo, "ecs")
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    text = (repo / "stack.yaml").read_text()
    assert stripe not in text and token not in text and "@leakstop-arn(" not in text and "{{resolve:" not in text
    _lint(repo / "stack.yaml")
    res = yaml.load(text, Loader=_Loader)["Resources"]
    web, worker = res["Task"]["Properties"]["ContainerDefinitions"]
    assert web["Environment"] == [{"Name": "MODE", "Value": "prod"}] and "Environment" not in worker
    assert [s["Name"] for s in web["Secrets"]] == ["STRIPE_KEY"] and worker["Essential"] is False
    sm = boto3.client("secretsmanager")
    arns = {s["ARN"]: s["Name"] for s in sm.list_secrets()["SecretList"]}
    used = set()
    for c in (web, worker):
        for s in c["Secrets"]:
            arn, key, stage, version = s["ValueFrom"].rsplit(":", 3)
            assert arn in arns and stage == version == ""
            assert key in json.loads(sm.get_secret_value(SecretId=arn)["SecretString"])
            used.add(arn)
    [policy] = res["ExecRole"]["Properties"]["Policies"]
    [read] = [s for s in policy["PolicyDocument"]["Statement"] if "secretsmanager:GetSecretValue" in s["Action"]]
    assert set(read["Resource"]) == used
    props = _camel(res["Task"]["Properties"])
    props["executionRoleArn"] = "arn:aws:iam::123456789012:role/exec"
    ecs = boto3.client("ecs")
    got = ecs.register_task_definition(**props)["taskDefinition"]
    assert {s["valueFrom"].rsplit(":", 3)[0] for c in got["containerDefinitions"] for s in c["secrets"]} == used


def test_a_function_whose_policies_are_one_name_keeps_the_dynamic_reference(tmp_path):
    from scanner.remediate.records import Workspace
    from scanner.remediate.rewriters import rewrite_all
    from scanner.remediate.stores import make_store
    from tests.remediate.test_rewriters import S, item, site_of

    stripe, _ = _secrets()
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      Handler: app.handler\n      Runtime: python3.13\n      Policies: AWSLambdaBasicExecutionRole\n"
        f"      Environment:\n        Variables:\n          KEY: {stripe}\n")
    ws = Workspace(tmp_path)
    ctx = rewrite_all(ws, [item(stripe, [site_of(tmp_path, "template.yaml", stripe)])], S, make_store("secretsmanager", "eu-west-1"))
    text = ws.pending["template.yaml"].decode()
    assert "KEY: \"{{resolve:secretsmanager:shop/prod/api-keys:SecretString:stripe_key}}\"" in text
    assert "Layers" not in text and any("keeps" in n or "became dynamic references" in n for n in ctx.notes)
