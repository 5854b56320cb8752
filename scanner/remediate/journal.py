"""The apply journal: what an interrupted ``--apply`` needs to resume without a duplicate or a
lost value. It holds secret names, JSON keys, value hashes, ARNs, file paths and hashes and the
steps done; never a value. Written atomically after every step.

Value hashes are keyed (:class:`scanner.models.Identity`): the journal records the key's id and
is refused under another key, whose hashes would match nothing it holds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional, TypeGuard, TypeVar

from scanner.errors import LeakstopError
from scanner.fsutil import atomic_write, read_json

JOURNAL_NAME = "journal.json"
# Version 1 held unkeyed SHA-256 value hashes.
VERSION = 2
_C = TypeVar("_C", list, dict)  # the containers a journal holds


def _is(value: object, kind: type[_C], of: Optional[type] = None) -> TypeGuard[_C]:
    """``value`` is a ``kind`` (list or dict) whose elements (values) are all ``of``."""
    if not isinstance(value, kind):
        return False
    return of is None or all(isinstance(v, of) for v in (value.values() if isinstance(value, dict) else value))


def _malformed(doc: dict) -> str:
    """What is wrong with a journal's structure, or "": the shapes every method below relies on."""
    items, run = doc.get("items"), doc.get("run")
    if not _is(items, dict, dict) or not all(
        isinstance(m.get("secret_name"), str) and isinstance(m.get("value_hash"), str)
        and isinstance(m.get("json_key"), (str, type(None))) for m in items.values()
    ):
        return "'items' must map to entries with secret_name, json_key and value_hash"
    if not _is(doc.get("ecs"), list, dict) or not all(
        isinstance(e.get("dockerfile"), str) and isinstance(e.get("name"), str) for e in doc["ecs"]
    ):
        return "'ecs' must be a list of entries with dockerfile and name"
    if not _is(run, dict) or not isinstance(run.get("status"), str):
        return "'run' must be a mapping with a status"
    if run["status"] == "running" and not (
        _is(run.get("steps_done"), list, str) and _is(run.get("secrets"), list, str) and _is(run.get("files"), dict)
        and _is(run.get("side_files"), list, dict)
        and all(isinstance(c.get(k), str) for c in run["side_files"] for k in ("path", "after", "kind"))
    ):
        return "an interrupted run must list steps_done, secrets, files and side_files"
    return ""


class Journal:
    def __init__(self, path: Path, key_id: str) -> None:
        self.path = path
        self.data: dict = {"version": VERSION, "key_id": key_id, "items": {}, "ecs": [], "run": {"status": "complete"}}
        if os.path.isfile(path):
            try:
                doc = read_json(path)
            except (OSError, ValueError):
                raise LeakstopError(f"{path}: journal is unreadable; move it away to start over") from None
            if isinstance(doc, dict) and doc.get("version") == 1:
                raise LeakstopError(f"{path}: written by an older leakstop with unkeyed value hashes; "
                                    f"move it away to start over")
            if not isinstance(doc, dict) or doc.get("version") != VERSION:
                raise LeakstopError(f"{path}: not a leakstop journal (version {VERSION})")
            if doc.get("key_id") != key_id:
                raise LeakstopError(f"{path}: written under another fingerprint key (key id {doc.get('key_id')}, "
                                    f"now {key_id}); set the same LEAKSTOP_FINGERPRINT_KEY or fingerprint_salt, "
                                    f"or move it away to start over")
            problem = _malformed(doc)
            if problem:
                raise LeakstopError(f"{path}: not a leakstop journal ({problem}); move it away to start over")
            self.data = doc

    @property
    def incomplete(self) -> bool:
        return self.data.get("run", {}).get("status") == "running"

    @property
    def items(self) -> dict:
        return self.data["items"]

    def known_names(self, backend: str) -> dict[str, tuple[str, Optional[str]]]:
        """value hash -> (name, json key) already assigned in an earlier run with this backend."""
        return {m["value_hash"]: (m["secret_name"], m["json_key"]) for m in self.items.values()
                if m.get("backend", "secretsmanager") == backend}

    def start(self, plan_id: str) -> dict:
        """Begin (or resume) a run; returns what an interrupted run left to do: the secret names
        to flag and the side files (value-free) to write."""
        prev = self.data["run"] if self.incomplete else {}
        carried = {"secrets": list(prev.get("secrets", [])), "side_files": list(prev.get("side_files", []))}
        self.data["run"] = {"status": "running", "plan_id": plan_id, "steps_done": [],
                            "secrets": sorted(set(carried["secrets"])), "files": {},
                            "side_files": carried["side_files"]}
        return carried

    def set_side_files(self, entries: list[dict]) -> None:
        self.data["run"]["side_files"] = sorted(entries, key=lambda e: e["path"])
        self.save()

    def add_secrets(self, names) -> None:
        self.data["run"]["secrets"] = sorted(set(self.data["run"]["secrets"]) | set(names))

    def merge_item(self, meta: dict) -> None:
        ref = f"{meta['secret_name']}#{meta['json_key'] or ''}"
        old = self.items.get(ref) or {}
        # Lists sorted always, so a resumed run records exactly what an uninterrupted one does.
        for k in ("rule_ids", "providers", "sources", "sites"):
            meta[k] = sorted(set(old.get(k, [])) | set(meta.get(k, [])))
        for k, v in old.items():
            meta.setdefault(k, v)
        self.items[ref] = meta

    def add_ecs(self, entries: list[dict]) -> None:
        seen = {json.dumps(e, sort_keys=True) for e in self.data["ecs"]}
        for e in entries:
            if json.dumps(e, sort_keys=True) not in seen:
                self.data["ecs"].append(e)
        self.data["ecs"].sort(key=lambda e: (e["dockerfile"], e["name"]))

    def done(self, step: str) -> bool:
        return step in self.data["run"].get("steps_done", [])

    def mark(self, step: str, **info) -> None:
        run = self.data["run"]
        if step not in run["steps_done"]:
            run["steps_done"].append(step)
        if info.get("file"):
            run["files"][info["file"]] = {"before": info.get("before"), "after": info.get("after")}
        self.save()

    def finish(self) -> None:
        self.data["run"] = {"status": "complete"}
        self.save()

    def save(self) -> None:
        atomic_write(self.path, (json.dumps(self.data, indent=2, sort_keys=True) + "\n").encode(), parents=True)
