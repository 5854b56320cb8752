"""What the JavaScript/TypeScript rewriter needs to know about the project around a file: the
module system it runs under (file extension, ``type`` in package.json, tsconfig ``module`` /
``moduleResolution``), the import specifier the helper needs there, and the package's entry point
(where ``await loadSecrets()`` belongs)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Optional

from scanner.remediate.records import Workspace

_ESM_SYNTAX = re.compile(r"^\s*(import\s.+\sfrom\s|import\s*[\"'{*]|export\s)", re.M)
_TLA_MODULES = {"es2022", "esnext", "node16", "node18", "nodenext", "preserve", "system", ""}
_NODE_MODULES = {"node16", "node18", "nodenext"}
_ENTRY_NAMES = ("index", "server", "app", "main")
_ENTRY_DIRS = ("", "src")
_ENTRY_EXTS = (".ts", ".mts", ".cts", ".js", ".mjs", ".cjs")
_RUNNER = re.compile(r"(?:^|[\s;&|])(?:node|tsx|ts-node|ts-node-dev|nodemon|bun)\s+(?:-{1,2}\S+\s+)*([\w@./-]+\.[cm]?[jt]sx?)\b")


@dataclass(frozen=True)
class ModuleKind:
    """How one file runs."""

    esm: bool  # the file runs as an ES module (else CommonJS)
    typescript: bool
    top_level_await: bool  # allowed in this file
    helper: str  # the helper's file name for this kind
    spec_ext: str  # extension the relative import of the helper needs ("" where resolution allows none)


def _dirs_up(path: str):
    d = PurePosixPath(path).parent
    while True:
        yield "" if str(d) == "." else str(d)
        if str(d) in (".", "", "/"):
            return
        d = d.parent


def _join(d: str, name: str) -> str:
    return f"{d}/{name}" if d else name


def read_json(ws: Workspace, path: str) -> Optional[dict]:
    """A JSON file (tsconfig style comments and trailing commas allowed), or None."""
    data = ws.read(path)
    if data is None:
        return None
    text = data.decode("utf-8", "replace")
    text = re.sub(r'("(?:[^"\\]|\\.)*")|//[^\n]*|/\*.*?\*/', lambda m: m.group(1) or "", text, flags=re.S)
    text = re.sub(r",(\s*[}\]])", r"\1", text)
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def package_root(ws: Workspace, path: str) -> tuple[str, dict]:
    """The directory of the nearest package.json above ``path`` and its content ("" and {} when none)."""
    for d in _dirs_up(path):
        doc = read_json(ws, _join(d, "package.json"))
        if doc is not None:
            return d, doc
    return "", {}


def compiler_options(ws: Workspace, path: str) -> dict:
    """The nearest tsconfig.json's compilerOptions (one level of a relative ``extends`` merged)."""
    for d in _dirs_up(path):
        doc = read_json(ws, _join(d, "tsconfig.json"))
        if doc is None:
            continue
        opts = dict(doc.get("compilerOptions") or {})
        base = doc.get("extends")
        if isinstance(base, str) and base.startswith("."):
            parent = read_json(ws, os.path.normpath(_join(d, base if base.endswith(".json") else base + ".json")))
            opts = {**((parent or {}).get("compilerOptions") or {}), **opts}
        return {k.lower(): str(v).lower() if isinstance(v, str) else v for k, v in opts.items()}
    return {}


def module_kind(ws: Workspace, path: str, text: str) -> ModuleKind:
    ext = os.path.splitext(path)[1].lower()
    _, pkg = package_root(ws, path)
    typed_module = pkg.get("type") == "module"
    if ext == ".mjs":
        return ModuleKind(True, False, True, "leakstop-secrets.mjs", ".mjs")
    if ext == ".cjs":
        return ModuleKind(False, False, False, "leakstop-secrets.cjs", ".cjs")
    if ext in (".js", ".jsx"):
        if typed_module:
            return ModuleKind(True, False, True, "leakstop-secrets.mjs", ".mjs")
        if _ESM_SYNTAX.search(text):  # module syntax in a CommonJS package: a bundler or Babel builds it
            return ModuleKind(True, False, False, "leakstop-secrets.mjs", ".mjs")
        return ModuleKind(False, False, False, "leakstop-secrets.cjs", ".cjs")
    if ext == ".mts":
        return ModuleKind(True, True, True, "leakstop-secrets.mts", ".mjs")
    if ext == ".cts":
        return ModuleKind(False, True, False, "leakstop-secrets.cts", ".cjs")
    opts = compiler_options(ws, path)
    module = str(opts.get("module", ""))
    resolution = str(opts.get("moduleresolution", ""))
    if module in _NODE_MODULES:
        esm = typed_module
        spec = ".js"  # node16/nodenext: relative imports name their extension
    elif module.startswith("es") or module == "preserve":
        esm = True
        spec = "" if resolution == "bundler" or module == "preserve" else ".js"
    elif module:
        esm, spec = False, ""  # commonjs, amd, umd, system
    else:
        esm = typed_module  # no tsconfig module: tsx / node decide by package.json type
        spec = ".js" if esm else ""
    if resolution in _NODE_MODULES:
        spec = ".js"
    return ModuleKind(esm, True, esm and module in _TLA_MODULES, "leakstop-secrets.ts", spec)


def entry_point(ws: Workspace, path: str) -> Optional[str]:
    """The package's start-up file: scripts.start/dev (``node X``, ``tsx X``), ``main`` (a built
    ``dist/X.js`` mapped back to ``src/X.ts``), ``bin``, else index/server/app/main in the package
    or its src/ (in the file's own directory when there is no package.json). None when there is
    no such file."""
    root, pkg = package_root(ws, path)
    cands: list[str] = []
    scripts = pkg.get("scripts")
    if not isinstance(scripts, dict):
        scripts = {}
    for name in ("start", "dev", "serve"):
        m = _RUNNER.search(str(scripts.get(name, "")))
        if m:
            cands.append(m.group(1))
    main = pkg.get("main")
    if isinstance(main, str):
        cands.append(main)
        m = re.match(r"(?:\./)?(?:dist|build|out|lib)/(.+)\.[cm]?js$", main)
        if m:
            cands += [f"src/{m.group(1)}{e}" for e in (".ts", ".mts", ".cts")]
    binv = pkg.get("bin")
    cands += [binv] if isinstance(binv, str) else list(binv.values()) if isinstance(binv, dict) else []
    cands += [_join(d, n + e) for d in _ENTRY_DIRS for n in _ENTRY_NAMES for e in _ENTRY_EXTS]
    own = str(PurePosixPath(path).parent)  # an app without package.json: its own directory
    if not pkg and own not in (".", root):
        cands += [os.path.relpath(_join(own, n + e), root or ".") for n in _ENTRY_NAMES for e in _ENTRY_EXTS]
    for c in cands:
        if not isinstance(c, str):
            continue
        rel = os.path.normpath(_join(root, c.removeprefix("./")))
        if os.path.splitext(rel)[1].lower() in _ENTRY_EXTS + (".js", ".jsx") and ws.read(rel) is not None:
            return rel
    return None


def relative_spec(from_path: str, to_path: str, ext: str) -> str:
    """The import specifier of ``to_path`` (a helper file) from ``from_path``, with ``ext``."""
    rel = os.path.relpath(to_path, str(PurePosixPath(from_path).parent) or ".")
    rel = rel if rel.startswith(".") else "./" + rel
    return os.path.splitext(rel)[0] + ext
