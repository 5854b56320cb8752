"""CloudFormation / SAM templates, applied against moto: the rewritten template is cfn-lint clean
and every dynamic reference names a stored secret and key."""

from __future__ import annotations

import json
import random
import re
import string
import subprocess
import sys
from pathlib import Path

import boto3

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
"""


def test_rewritten_template_is_cfn_lint_clean(remediate, make_repo, git_commit):
    rng = random.SystemRandom()
    stripe = "sk_" + "live_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24))
    token = "ghp_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(36))
    repo = make_repo("sam")
    (repo / "template.yaml").write_text(TEMPLATE.format(stripe=stripe, token=token))
    git_commit(repo, "sam")
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    text = (repo / "template.yaml").read_text()
    assert stripe not in text and token not in text
    lint = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), "--regions", "us-east-1", "--",
                           str(repo / "template.yaml")], capture_output=True, text=True, timeout=300)
    assert lint.returncode == 0, lint.stdout[-2000:] + lint.stderr[-500:]
    refs = re.findall(r"\{\{resolve:secretsmanager:([^:}]+):SecretString:([^:}]+)\}\}", text)
    assert len(refs) == 2
    sm = boto3.client("secretsmanager")
    for name, key in refs:
        assert key in json.loads(sm.get_secret_value(SecretId=name)["SecretString"])
    assert "Description: billing   # keep me\n" in text and "          MODE: prod\n" in text
