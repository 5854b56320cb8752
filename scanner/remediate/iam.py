"""The least-privilege policy the application's runtime role needs to read what was moved."""

from __future__ import annotations

import json
from typing import Optional, Sequence


def runtime_policy(backend: str, arns: Sequence[str], region: str, kms_key_arn: Optional[str]) -> dict:
    """GetSecretValue + DescribeSecret (or ssm:GetParameter) on exactly these ARNs, and
    kms:Decrypt on the customer key only through that service."""
    arns = sorted(set(arns))
    if backend == "ssm":
        statements = [{"Sid": "LeakstopReadParameters", "Effect": "Allow",
                       "Action": ["ssm:GetParameter"], "Resource": arns}]
        service = f"ssm.{region}.amazonaws.com"
    else:
        statements = [{"Sid": "LeakstopReadSecrets", "Effect": "Allow",
                       "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                       "Resource": arns}]
        service = f"secretsmanager.{region}.amazonaws.com"
    if kms_key_arn:
        statements.append({"Sid": "LeakstopDecryptViaService", "Effect": "Allow", "Action": "kms:Decrypt",
                           "Resource": kms_key_arn, "Condition": {"StringEquals": {"kms:ViaService": service}}})
    return {"Version": "2012-10-17", "Statement": statements}


def render(policy: dict) -> bytes:
    return (json.dumps(policy, indent=2) + "\n").encode()
