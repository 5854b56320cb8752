"""The frozen configuration object passed down the pipeline (no global settings).

Sources, in order: built-in defaults, then ``--config FILE`` or ``.leakstop.yaml`` at the
repository root, then command-line options.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

from scanner.errors import LeakstopError
from scanner.sources.git import find_work_tree

CONFIG_NAME = ".leakstop.yaml"
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024


@dataclass(frozen=True)
class Allowlist:
    paths: tuple[str, ...] = ()  # gitignore-style globs
    regexes: tuple[str, ...] = ()  # matched against the secret value
    stopwords: tuple[str, ...] = ()  # a value containing one is ignored


@dataclass(frozen=True)
class Config:
    rule_files: tuple[Path, ...] = ()  # extra packs, added to the built-in ones
    inline_rules: tuple[dict, ...] = ()  # rules written directly in .leakstop.yaml
    disabled_rules: frozenset[str] = frozenset()
    allowlist: Allowlist = field(default_factory=Allowlist)
    exclude: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    backend: str = "auto"
    source: Optional[Path] = None  # where it was read from, for messages
    remediation: tuple[tuple[str, Any], ...] = ()  # raw section, validated by scanner.remediate
    fingerprint_salt: Optional[str] = None  # the key of fingerprints and value hashes (scanner.identity)
    verify_endpoints: tuple[str, ...] = ()  # verify.allowed_endpoints: AWS endpoints --verify may use
    min_confidence: str = "medium"  # findings below this level are not reported (engine.confidence)

    def with_options(self, **changes: Any) -> "Config":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_TOP_KEYS = ("rules", "rule_files", "disabled_rules", "allowlist", "exclude", "max_file_size", "min_confidence",
             "remediation", "fingerprint_salt", "verify")
_VERIFY_KEYS = ("allowed_endpoints",)
CONFIDENCE_LEVELS = ("low", "medium", "high")  # scanner.engine.confidence.LEVELS, without importing the engine
_ALLOW_KEYS = ("paths", "regexes", "stopwords")


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise LeakstopError(f"{where} must be a list of non-empty strings")
    return tuple(value)


def parse_config(doc: Any, path: Path) -> Config:
    """Validate a parsed .leakstop.yaml; every error names the file and the key."""
    if doc is None:
        return Config(source=path)
    if not isinstance(doc, dict):
        raise LeakstopError(f"{path}: the configuration must be a mapping")
    for key in doc:
        if key not in _TOP_KEYS:
            raise LeakstopError(f"{path}: unknown key '{key}' (known: {', '.join(_TOP_KEYS)})")
    allow = doc.get("allowlist") or {}
    if not isinstance(allow, dict):
        raise LeakstopError(f"{path}: 'allowlist' must be a mapping")
    for key in allow:
        if key not in _ALLOW_KEYS:
            raise LeakstopError(f"{path}: unknown key 'allowlist.{key}' (known: {', '.join(_ALLOW_KEYS)})")
    regexes = _str_list(allow.get("regexes"), f"{path}: 'allowlist.regexes'")
    if regexes:
        from scanner.rules import compile_pattern

        for rx in regexes:
            compile_pattern(rx, f"{path}: 'allowlist.regexes': invalid regex {rx!r}")
    rules = doc.get("rules") or []
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise LeakstopError(f"{path}: 'rules' must be a list of rule mappings")
    if rules:
        from scanner.rules import parse_rule

        for r in rules:  # validate now, so errors name this file
            parse_rule(r, f"{path}: 'rules'")
    size = doc.get("max_file_size", DEFAULT_MAX_FILE_SIZE)
    if isinstance(size, str):
        size = parse_size(size, f"{path}: 'max_file_size'")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise LeakstopError(f"{path}: 'max_file_size' must be a positive number of bytes (or like 10MB)")
    min_confidence = doc.get("min_confidence", "medium")
    if min_confidence not in CONFIDENCE_LEVELS:
        raise LeakstopError(f"{path}: 'min_confidence' must be one of {', '.join(CONFIDENCE_LEVELS)}")
    remediation = doc.get("remediation") or {}
    if not isinstance(remediation, dict):
        raise LeakstopError(f"{path}: 'remediation' must be a mapping")
    salt = doc.get("fingerprint_salt")
    if salt is not None and (not isinstance(salt, str) or len(salt.strip()) < 16):
        raise LeakstopError(f"{path}: 'fingerprint_salt' must be a string of 16+ characters (e.g. 32 random hex digits)")
    base = path.parent
    return Config(
        verify_endpoints=_verify_section(doc.get("verify"), path),
        rule_files=tuple((base / p) for p in _str_list(doc.get("rule_files"), f"{path}: 'rule_files'")),
        inline_rules=tuple(rules),
        disabled_rules=frozenset(_str_list(doc.get("disabled_rules"), f"{path}: 'disabled_rules'")),
        allowlist=Allowlist(
            paths=_str_list(allow.get("paths"), f"{path}: 'allowlist.paths'"),
            regexes=regexes,
            stopwords=tuple(s.lower() for s in _str_list(allow.get("stopwords"), f"{path}: 'allowlist.stopwords'")),
        ),
        exclude=_str_list(doc.get("exclude"), f"{path}: 'exclude'"),
        max_file_size=size,
        min_confidence=min_confidence,
        source=path,
        remediation=tuple(sorted(remediation.items(), key=lambda kv: str(kv[0]))),  # keys checked by remediate
        fingerprint_salt=salt.strip() if salt else None,
    )


def _verify_section(section: Any, path: Path) -> tuple[str, ...]:
    if section is None:
        return ()
    if not isinstance(section, dict):
        raise LeakstopError(f"{path}: 'verify' must be a mapping")
    for key in section:
        if key not in _VERIFY_KEYS:
            raise LeakstopError(f"{path}: unknown key 'verify.{key}' (known: {', '.join(_VERIFY_KEYS)})")
    return _str_list(section.get("allowed_endpoints"), f"{path}: 'verify.allowed_endpoints'")


def parse_size(text: str, where: str = "size") -> int:
    # At most 15 digits: int() refuses numbers past 4,300 digits, and no file is 10**15 bytes.
    m = re.fullmatch(r"\s*(\d{1,15})\s*([kmg]?i?b?)?\s*", text, re.IGNORECASE)
    if not m:
        raise LeakstopError(f"{where}: invalid size {text!r} (use e.g. 500000, 512KB, 10MB)")
    unit = (m.group(2) or "").lower().rstrip("b").rstrip("i")
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]


def format_size(n: int) -> str:
    """A size as parse_size reads it: 10MB, 512KB, 1000 bytes."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale and n % scale == 0:
            return f"{n // scale}{unit}"
    return f"{n} bytes"


def load_config(explicit: Optional[Path], start: Path) -> Config:
    """Read ``--config FILE`` if given, else ``.leakstop.yaml`` at the repository root."""
    if explicit is not None:
        path = Path(explicit)
        if not os.path.isfile(path):
            raise LeakstopError(f"{path}: configuration file not found")
    else:
        root = find_work_tree(start if start.is_dir() else start.parent) or (start if start.is_dir() else start.parent)
        path = root / CONFIG_NAME
        if not os.path.isfile(path):
            return Config()
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise LeakstopError(f"{path}: cannot read configuration: {exc}") from None
    return read_config(text, path)


def read_config(data: bytes, path: Path) -> Config:
    """Parse a configuration's bytes; ``path`` is where it lives in the work tree (messages name
    it; ``rule_files`` are relative to its folder), whether it was read there or from a commit."""
    import yaml

    try:
        doc = yaml.safe_load(data.decode("utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise LeakstopError(f"{path}: invalid YAML" + (f" at line {mark.line + 1}" if mark else "")) from None
    except UnicodeDecodeError as exc:
        raise LeakstopError(f"{path}: cannot read configuration: {exc}") from None
    except RecursionError:
        raise LeakstopError(f"{path}: invalid YAML (nested too deeply)") from None
    return parse_config(doc, path)
