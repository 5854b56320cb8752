"""Other configuration files (YAML, JSON, INI, TOML, properties, XML): a literal becomes a
``{{leakstop:...}}`` placeholder that the generated helpers' ``resolve()`` / ``resolve_config()``
replace at run time. The fallback for structured files no platform rewriter claims."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Optional

from scanner.remediate import helper_templates as H
from scanner.remediate.records import Item, Workspace
from scanner.remediate.rewriters.base import Context, Pairs, Rewriter, replace_values

if TYPE_CHECKING:  # annotations only
    from scanner.remediate.stores.base import SecretStore

_CONFIG_EXT = (".yaml", ".yml", ".json", ".ini", ".cfg", ".conf", ".toml", ".properties", ".xml", ".template")


def placeholder(store: SecretStore, item: Item) -> str:
    return H.placeholder(store.kind, item.secret_name, item.json_key)


def rewrite_config(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    replace_values(ws, path, pairs, ctx, lambda it: placeholder(ctx.store, it), "config",
                   "literal -> {{leakstop:...}} placeholder (resolve with the helper's resolve()/resolve_config())")


def claims(path: str, data: Optional[bytes]) -> bool:
    return os.path.splitext(path.lower())[1] in _CONFIG_EXT


REWRITER = Rewriter(claims, rewrite_config)
