"""The least-privilege policy the application's runtime role needs to read what was moved."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Optional, Sequence

if TYPE_CHECKING:  # annotations only
    from scanner.remediate.stores.base import SecretStore


def runtime_policy(store: SecretStore, arns: Sequence[str], region: str, kms_key_arn: Optional[str]) -> dict:
    """Read access to exactly these ARNs, and kms:Decrypt on the customer key only through the
    store's service (the statements come from the store)."""
    return {"Version": "2012-10-17", "Statement": store.read_statements(list(arns), region, kms_key_arn)}


def render(policy: dict) -> bytes:
    return (json.dumps(policy, indent=2) + "\n").encode()
