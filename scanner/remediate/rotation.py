"""Flagging moved values for rotation: tags, git-history facts, rotation-plan.md/.json, and the
``rotation status`` view. Moving a value does not revoke it; these make the revocation visible."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

if TYPE_CHECKING:  # annotations only
    from scanner.models import Identity
    from scanner.remediate.stores.base import Remote, SecretStore


MAX_COMMITS_PER_PATH = 2000  # bounds the history check on huge repositories
DEFAULT_ROTATION = "Revoke the credential at its provider, issue a new one, and store the new value in the same secret."
_TAG_SAFE = re.compile(r"[^\w .:/=+\-@]")


def tag_value(text: str) -> str:
    return _TAG_SAFE.sub("_", text)[:256]


def _one(values: Sequence[str]) -> str:
    """A readable single tag value: the first of ``values``, and how many more the journal and
    rotation-plan.json list (a tag is no place for a list)."""
    vals = sorted(set(values))
    return tag_value(vals[0] + (f" +{len(vals) - 1} more" if len(vals) > 1 else "")) if vals else ""


HASH_TAG = "leakstop:hash"  # + ":<json key>": the keyed hash of that key's value when flagged
HASH_KEY_TAG = "leakstop:hash-key"  # the fingerprint key id those hashes were made under


def hash_tag(json_key: Optional[str]) -> str:
    return f"{HASH_TAG}:{json_key}" if json_key else HASH_TAG


def tags_for(items: Sequence[dict], flagged_version: str, key_id: str) -> dict:
    """Tags for one secret (all the journal items stored in it): what was found where, and each
    key's keyed value hash, so `rotation status` can tell which key's value changed."""
    in_hist = any(it.get("in_git_history") for it in items)
    tags = {
        "leakstop:rotation": "required",
        "leakstop:rule": _one([r for it in items for r in it.get("rule_ids", [])]),
        "leakstop:source": _one([s for it in items for s in it.get("sources", [])]),
        "leakstop:in-git-history": "true" if in_hist else "false",
        "leakstop:flagged-version": tag_value(flagged_version),
    }
    firsts = sorted({it["first_commit"] for it in items if it.get("first_commit")})
    if firsts:
        tags["leakstop:first-commit"] = tag_value(firsts[0])
    tags[HASH_KEY_TAG] = tag_value(key_id)
    for it in items:
        tags[hash_tag(it.get("json_key"))] = it["value_hash"]
    return tags


def git_history(repo: Optional[Path], rel_paths: Sequence[str], value: bytes) -> tuple[bool, Optional[str]]:
    """Is the value in any commit of any ref, at any of these paths? Returns (found, oldest commit).

    Reads each path's versions with one ``git cat-file --batch`` (bounded per path), comparing
    in memory; nothing is printed.
    """
    if repo is None or not value:
        return False, None
    found_in: list[tuple[int, str]] = []  # (commit time, sha)
    for rel in sorted(set(rel_paths)):
        try:
            out = subprocess.run(["git", "-C", str(repo), "log", "--all", "--format=%H %ct",
                                  f"--max-count={MAX_COMMITS_PER_PATH}", "--", rel],
                                 capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired):
            return False, None
        if out.returncode != 0 or not out.stdout.strip():
            continue
        commits = [(l.split()[0], int(l.split()[1])) for l in out.stdout.splitlines() if l.strip()]
        req = "".join(f"{sha}:{rel}\n" for sha, _ in commits).encode()
        try:
            batch = subprocess.run(["git", "-C", str(repo), "cat-file", "--batch"], input=req,
                                   capture_output=True, timeout=300).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        pos = 0
        for sha, ts in commits:
            nl = batch.find(b"\n", pos)
            if nl < 0:
                break
            header = batch[pos:nl].split()
            pos = nl + 1
            if len(header) < 3 or header[1] == b"missing":
                continue
            size = int(header[2])
            blob = batch[pos : pos + size]
            pos += size + 1
            if value in blob:
                found_in.append((ts, sha))
    if not found_in:
        return False, None
    return True, min(found_in)[1]


def rotation_steps(rule_ids: Sequence[str], rotation_text: dict) -> list[dict]:
    return [{"rule_id": r, "steps": rotation_text.get(r) or DEFAULT_ROTATION} for r in rule_ids]


def rotation_plan(items: Sequence[dict], rotation_text: dict, backend: str) -> dict:
    out = []
    for it in sorted(items, key=lambda m: (m["secret_name"], m["json_key"] or "")):
        out.append({
            "secret_name": it["secret_name"],
            "json_key": it["json_key"],
            "arn": it.get("arn"),
            "masked": it["masked"],
            "value_hash_prefix": it["value_hash"][:12],
            "providers": it["providers"],
            "sources": it["sources"],
            "in_git_history": bool(it.get("in_git_history")),
            "first_commit": it.get("first_commit"),
            "rotation": rotation_steps(it["rule_ids"], rotation_text),
        })
    return {"tool": "leakstop", "backend": backend, "values": out}


def render_plan_md(plan: dict) -> str:
    lines = ["# Rotation plan", "",
             "Moving a value into the secret store does not revoke it: every value below was in source code"
             " and must be rotated at its provider. After rotating, store the new value in the same secret"
             " (a new version); `leakstop rotation status` then shows it as rotated.", ""]
    for v in plan["values"]:
        where = f"{v['secret_name']}" + (f" (key `{v['json_key']}`)" if v["json_key"] else "")
        lines.append(f"## {where}")
        lines.append("")
        lines.append(f"- value: `{v['masked']}` (value hash {v['value_hash_prefix']}…), provider(s): {', '.join(v['providers'])}")
        lines.append(f"- found in: {', '.join(v['sources'])}")
        hist = "yes" + (f", first commit {v['first_commit']}" if v["first_commit"] else "") if v["in_git_history"] else "no"
        lines.append(f"- in git history: {hist}" + (" (rotation is mandatory: history keeps the value)" if v["in_git_history"] else ""))
        if v.get("arn"):
            lines.append(f"- stored at: `{v['arn']}`")
        for r in v["rotation"]:
            lines.append(f"- rotate ({r['rule_id']}):")
            lines.extend("  " + l for l in r["steps"].splitlines())
        lines.append("")
    if plan.get("history_purge"):
        lines += ["## Purging git history (after rotating)", "",
                  "The values marked \"in git history: yes\" stay in every clone of the old commits. Once they"
                  " are rotated, rewrite history:", "", "```sh", *plan["history_purge"], "```", ""]
    return "\n".join(lines)


def render_json(doc: dict) -> bytes:
    return (json.dumps(doc, indent=2, sort_keys=False) + "\n").encode()


def status(store: SecretStore, identity: Identity) -> list[dict]:
    """Each flagged secret: per key, whether its value changed since it was flagged (compared by
    keyed hash: a new version holding the same JSON is not a rotation); rotation versions left
    pending; scheduled rotation; when the value was last read."""
    return [_status_row(store, identity, r) for r in sorted(store.list_flagged(), key=lambda r: r.name)]


def _overdue(rot: dict) -> bool:
    from datetime import datetime, timezone

    nxt = rot.get("next_rotation") if rot.get("enabled") else None
    try:
        when = datetime.fromisoformat(nxt) if nxt else None
    except ValueError:
        return False
    if when is None:
        return False
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)) < datetime.now(timezone.utc)


def _status_row(store: SecretStore, identity: Identity, r: Remote) -> dict:
    hashes = {k[len(HASH_TAG) + 1:]: v for k, v in r.tags.items() if k.startswith(HASH_TAG + ":")}
    if HASH_TAG in r.tags:
        hashes[""] = r.tags[HASH_TAG]
    same_key = r.tags.get(HASH_KEY_TAG) == identity.key_id
    current = store.current_values(r) if hashes and same_key and not r.deleted else {}
    keys = []
    for k, flagged_hash in sorted(hashes.items()):
        now = current.get(k)
        if not same_key:
            state = None  # hashed under another fingerprint key: cannot tell
        else:
            state = now is None or identity.value_hash(str(now).encode("utf-8")) != flagged_hash
        keys.append({"key": k, "rotated": state})
    flagged = r.tags.get("leakstop:flagged-version", "")
    if keys:
        rotated = all(k["rotated"] for k in keys)
    else:  # flagged by an older leakstop: only versions to go by
        rotated = bool(flagged) and r.version_id != flagged
    pending = sorted(v for v, st in r.stages.items() if "AWSPENDING" in st and "AWSCURRENT" not in st)
    return {
        "name": r.name,
        "rotated": rotated,
        "keys": keys,
        "hashes_comparable": same_key or not keys,
        "pending_versions": pending,  # AWSPENDING left behind: a rotation started and did not finish
        "rotation_failed": bool(pending) or _overdue(r.rotation),
        "rotation_overdue": _overdue(r.rotation),  # scheduled, and its next date has passed
        "rotation": r.rotation,
        "last_accessed": r.last_accessed,
        "flagged_version": flagged,
        "current_version": r.version_id,
        "rules": r.tags.get("leakstop:rule", ""),
        "source": r.tags.get("leakstop:source", ""),
        "in_git_history": r.tags.get("leakstop:in-git-history") == "true",
        "deleted": r.deleted,
    }
