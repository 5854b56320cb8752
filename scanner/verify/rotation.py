"""``rotation status --verify``: is the value that was flagged for rotation now rejected?

A new version in the store says someone stored a new value, not that the old one was revoked.
For each flagged secret the version that held the leaked values (``leakstop:flagged-version``)
is read, its values are recognised by the rules (each written as ``KEY = 'VALUE'``, so rules that
need a key name see it, and the parts of one credential sit in one text) and asked of their
providers like any finding. Nothing is written anywhere; values stay in memory.
"""

from __future__ import annotations

from typing import Optional, Sequence

from scanner.models import Chunk, Finding, Identity
from scanner.verify.base import ERROR, INVALID, UNKNOWN, VERIFIED
from scanner.verify.executor import Settings, verify_findings

# How one secret's old values came out, the worst first.
PRECEDENCE = (VERIFIED, ERROR, UNKNOWN, INVALID)


def _lines(name: str, values: dict) -> list[tuple[str, str]]:
    """(key, ``KEY = 'VALUE'``) per value; a one-value store's value (key "") is named after the
    store's name (``/shop/prod/github_token`` -> ``github_token``)."""
    return [(key, f"{key or name.rsplit('/', 1)[-1]} = '{value}'") for key, value in sorted(values.items())
            if isinstance(value, str)]


def _by_key(engine, name: str, values: dict) -> dict[str, list[Finding]]:
    """The findings in one version's values, by the key that holds each."""
    import bisect

    lines = _lines(name, values)
    starts, n = [], 1  # the line each entry starts on (a value may span lines: a private key)
    for _, line in lines:
        starts.append(n)
        n += line.count("\n") + 1
    text = ("\n".join(line for _, line in lines) + "\n").encode("utf-8")
    out: dict[str, list[Finding]] = {key: [] for key, _ in lines}
    for f in engine.scan(Chunk(path=f"<{name}>", data=text)):
        out[lines[bisect.bisect_right(starts, f.line) - 1][0]].append(f)
    return out


def summarise(found: Sequence[Finding]) -> dict:
    """One status for a set of old values: verified if any of them is still accepted."""
    if not found:
        return {"status": UNKNOWN, "detail": "no value in the flagged version is recognised by a rule"}
    results = [(f, f.verification or {"status": UNKNOWN, "detail": "not verified"}) for f in found]
    status = min((v["status"] for _, v in results), key=PRECEDENCE.index)
    detail = ", ".join(sorted({f"{f.rule_id}: {v['detail']}" for f, v in results if v["status"] == status}))
    return {"status": status, "detail": detail}


GONE = {"status": UNKNOWN, "detail": "the flagged version is no longer stored"}


def check_old_values(store, rows: list[dict], timeout: float, allowed_endpoints: Sequence[str] = ()) -> None:
    """Add ``old_value`` ({status, detail}) and ``still_live`` to each row of ``rotation status``
    and ``old_value`` to each of its keys."""
    from scanner.config import Config
    from scanner.engine import Engine

    engine = Engine(Config(), identity=Identity.ephemeral())
    per_row: list[Optional[dict[str, list[Finding]]]] = []
    for row in rows:
        values = store.version_values(row["name"], row["flagged_version"]) if row["flagged_version"] else None
        per_row.append(None if values is None else _by_key(engine, row["name"], values))
    every = [f for found in per_row if found for fs in found.values() for f in fs]
    if every:
        settings = Settings(timeout=timeout, cache_path=None, allowed_endpoints=tuple(allowed_endpoints))
        verify_findings(every, settings, engine.identity)
    for row, found in zip(rows, per_row):
        row["old_value"] = GONE if found is None else summarise([f for fs in found.values() for f in fs])
        for k in row.get("keys", []):
            k["old_value"] = GONE if found is None else summarise(found.get(k["key"], []))
        row["still_live"] = row["old_value"]["status"] == VERIFIED
