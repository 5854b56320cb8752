"""The apply journal: what an interrupted ``--apply`` needs to resume without a duplicate or a
lost value. It holds secret names, JSON keys, value hashes, ARNs, file paths and hashes and the
steps done; never a value. Written atomically after every step.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

from scanner.errors import LeakstopError
from scanner.fsutil import atomic_write, read_json

JOURNAL_NAME = "journal.json"


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict = {"version": 1, "items": {}, "ecs": [], "run": {"status": "complete"}}
        if os.path.isfile(path):
            try:
                doc = read_json(path)
            except (OSError, ValueError):
                raise LeakstopError(f"{path}: journal is unreadable; move it away to start over") from None
            if not isinstance(doc, dict) or doc.get("version") != 1:
                raise LeakstopError(f"{path}: not a leakstop journal (version 1)")
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
        atomic_write(self.path, (json.dumps(self.data, indent=2, sort_keys=True) + "\n").encode())
