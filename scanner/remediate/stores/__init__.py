"""Where moved values go: every store, by its ``--backend`` name. A new store is one module
(implementing :class:`~scanner.remediate.stores.base.SecretStore`) plus one line here."""

from __future__ import annotations

from typing import Callable, Optional

from scanner.errors import LeakstopError
from scanner.remediate.aws import make_client
from scanner.remediate.stores.base import Remote, SecretStore
from scanner.remediate.stores.secretsmanager import SecretsManagerStore
from scanner.remediate.stores.ssm import SsmStore

STORES: dict[str, type[SecretStore]] = {
    "secretsmanager": SecretsManagerStore,
    "ssm": SsmStore,
}

__all__ = ["STORES", "Remote", "SecretStore", "make_store", "store_class"]


def store_class(kind: str) -> type[SecretStore]:
    cls = STORES.get(kind)
    if cls is None:
        raise LeakstopError(f"unknown backend '{kind}' (choose from {', '.join(sorted(STORES))})")
    return cls


def make_store(kind: str, region: Optional[str], client_factory: Optional[Callable] = None,
               token_key: bytes = b"") -> SecretStore:
    """A store for planning and applying; no AWS call until one is needed. ``token_key`` keys the
    idempotency tokens of stores that send them (a reading or planning store needs none)."""
    return store_class(kind)(region, client_factory or make_client, token_key)
