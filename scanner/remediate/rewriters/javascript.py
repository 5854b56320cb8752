"""JavaScript / TypeScript: a string literal becomes a synchronous ``leakstopValue(…)`` read of
the generated ``leakstop-secrets`` helper, loaded once by ``await loadSecrets()`` at start-up.

Never a Promise where a string was. The helper and the import follow the module system the file
runs under (:mod:`jsproject`). Where a value would be read while modules load (before start-up
code can run ``loadSecrets()``) it is deferred: an object literal property becomes a getter, a
top-level ``const NAME = "…"`` a ``let`` assigned when the secrets are loaded (``leakstopOnLoad``;
ES module bindings are live, so importers see it). CommonJS entry points run their whole body
after ``loadSecrets()``, so CommonJS modules read values directly.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import PurePosixPath
from typing import Optional

from scanner.remediate import helper_templates as H
from scanner.remediate.records import Item, Manual, Site, Workspace
from scanner.remediate.rewriters import jslex, jsproject
from scanner.remediate.rewriters.base import Context, EnvNames, Pairs, uri_template, Rewriter, line_starts, locate, q, splice, text_or_manual

_PROP_BEFORE = re.compile(r"(?:^|(?<=[{,]))[ \t]*(?P<key>[A-Za-z_$][\w$]*|\"[^\"\n]*\"|'[^'\n]*')[ \t]*:[ \t]*$")
_AFTER_VALUE = re.compile(r"[ \t]*(?:[,}\n]|//|/\*|$)")  # the value ends the property
_DECL_BEFORE = re.compile(r"^(?P<export>export[ \t]+)?(?:const|let|var)[ \t]+(?P<name>[A-Za-z_$][\w$]*)[ \t]*"
                          r"(?P<ann>:[^=\n]*)?=[ \t]*$")
_DECL_AFTER = re.compile(r"[ \t]*(?:;[ \t]*)?(?://[^\n]*)?(?=\n|$)")
_ENV_BEFORE = re.compile(r"process\.env(?:\.([A-Za-z_]\w*)|\[[\"']([A-Za-z_]\w*)[\"']\])\s*(?:\|\||\?\?)\s*$")
_SPEC = r"(?P<spec>\.{1,2}/(?:\.\./)*(?:[\w-][\w.-]*/)*leakstop-secrets(?:\.[cm]?[jt]s)?)"
_HELPER_IMPORT = re.compile(r"^(import[ \t]*\{)([^}]*)(\}[ \t]*from[ \t]*[\"']" + _SPEC + r"[\"'];?)", re.M)
_HELPER_REQUIRE = re.compile(r"^(const[ \t]*\{)([^}]*)(\}[ \t]*=[ \t]*require\([\"']" + _SPEC + r"[\"']\);?)", re.M)


def _env_name(raw: str) -> str:
    """``githubToken`` / ``"api-key"`` -> GITHUB_TOKEN / API_KEY."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", raw.strip("'\""))
    return re.sub(r"[^A-Za-z0-9_]", "_", words).upper()


def _value_call(item: Item, env: str) -> str:
    key = f", {q(item.json_key)}" if item.json_key is not None else ", undefined"
    return f"leakstopValue({q(item.secret_name)}{key}, {{ env: {q(env)} }})"


def _literal_of(lits: list[jslex.Literal], a: int, b: int) -> Optional[jslex.Literal]:
    return next((lit for lit in lits if lit.start < a and b < lit.end), None)


def _expr(text: str, lit: jslex.Literal, hits: list, env_of) -> str:
    """The literal with its values replaced: template parts get ``${…}``, quoted strings a
    concatenation."""
    body_a, body_b = lit.start + 1, lit.end - 1
    if len(hits) == 1 and hits[0][3].connection and hits[0][3].json_key and text[lit.start] == text[lit.end - 1]:
        va, vb, _, item = hits[0]  # a connection URI: rebuilt whole from the secret
        template = uri_template(text[body_a:body_b], va - body_a, vb - body_a)
        if template is not None and "${" not in template:
            return (f"leakstopUrl({q(item.secret_name)}, {q(item.json_key)}, {q(template)}, "
                    f"{{ env: {q(env_of(item))} }})")
    if lit.quote == "`":
        out, cur = [], lit.start
        for va, vb, _, item in sorted(hits, key=lambda h: h[0]):
            out += [text[cur:va], "${" + _value_call(item, env_of(item)) + "}"]
            cur = vb
        return "".join(out) + text[cur : lit.end]
    parts, cur = [], lit.start + 1
    for va, vb, _, item in sorted(hits, key=lambda h: h[0]):
        if va > cur:
            parts.append(lit.quote + text[cur:va] + lit.quote)
        parts.append(_value_call(item, env_of(item)))
        cur = vb
    if lit.end - 1 > cur:
        parts.append(lit.quote + text[cur : lit.end - 1] + lit.quote)
    return parts[0] if len(parts) == 1 else "(" + " + ".join(parts) + ")"


class _File:
    """One file's rewrite in progress."""

    def __init__(self, path: str, text: str, kind: jsproject.ModuleKind) -> None:
        self.path, self.text, self.kind = path, text, kind
        self.starts = line_starts(text)
        self.repl: list[tuple[int, int, str]] = []
        self.names: set[str] = {"leakstopValue"}
        self.notes: list[str] = []
        self.deferred_names: list[str] = []
        self.envs = EnvNames()  # top-level bindings now assigned by loadSecrets()

    def line_start(self, pos: int) -> int:
        return self.text.rfind("\n", 0, pos) + 1


def _place(f: _File, lit: jslex.Literal, hits: list) -> None:
    text = f.text
    ls = f.line_start(lit.start)
    before, after = text[ls : lit.start], text[lit.end :]
    whole = lit.quote != "`" or (text[lit.start] == "`" and text[lit.end - 1] == "`")  # no substitutions
    env_m = _ENV_BEFORE.search(before)
    default_env = (env_m.group(1) or env_m.group(2)) if env_m else None
    deferred = f.kind.esm or f.kind.typescript  # modules load before start-up code runs
    prop = _PROP_BEFORE.search(before) if whole and not lit.in_function and lit.enclosing[-1:] == ("obj",) else None
    decl = _DECL_BEFORE.match(before) if whole and not lit.enclosing else None
    if deferred and prop and _AFTER_VALUE.match(after):
        env = default_env or _env_name(prop.group("key"))
        expr = _expr(text, lit, hits, lambda it: f.envs.pick(env, it, bool(default_env)))
        f.repl.append((ls + prop.start("key"), lit.end, f"get {prop.group('key')}() {{ return {expr}; }}"))
        return
    if deferred and decl and (tail := _DECL_AFTER.match(after)):
        name = decl.group("name")
        expr = _expr(text, lit, hits, lambda it: f.envs.pick(default_env or _env_name(name), it, bool(default_env)))
        ann = decl.group("ann") or (": string" if f.kind.typescript else "")
        bang = "!" if f.kind.typescript else ""
        end = lit.end + tail.end()
        comment = re.search(r"//[^\n]*$", text[lit.end : end])
        f.names.add("leakstopOnLoad")
        f.deferred_names.append(name)
        f.repl.append((ls, end, f"{decl.group('export') or ''}let {name}{bang}{ann.rstrip()}; "
                                 f"leakstopOnLoad(() => {{ {name} = {expr}; }});"
                                 + (" " + comment.group(0) if comment else "")))
        return
    env_of = lambda it: f.envs.pick(default_env or it.env_name, it, bool(default_env))  # noqa: E731
    f.repl.append((lit.start, lit.end, _expr(text, lit, hits, env_of)))
    if deferred and not lit.in_function:
        line = text.count("\n", 0, lit.start) + 1
        f.notes.append(f"line {line}: read while the module loads, before loadSecrets() can run: "
                       "move it into a function (or set its environment variable)")


def _note_load_time_reads(f: _File, lits: list[jslex.Literal]) -> None:
    """A deferred binding read by other top-level code is read before loadSecrets() ran."""
    blocks = jslex.blocks(f.text)
    for name in f.deferred_names:
        lines = []
        for m in re.finditer(rf"(?<![\w$.]){re.escape(name)}(?![\w$])", f.text):
            inside_literal = any(lit.start <= m.start() < lit.end for lit in lits)
            at_load = not any(a < m.start() < b and kind == "fn" for a, b, kind in blocks)
            declaration = re.match(r"[ \t]*(?:=|:|!)", f.text[m.end():]) is not None
            if at_load and not inside_literal and not declaration:
                lines.append(f.text.count("\n", 0, m.start()) + 1)
        if lines:
            f.notes.append(f"{name} is read while the module loads (line {', '.join(map(str, lines))}), before "
                           "loadSecrets() assigns it: move that code into a function")


def _add_import(f: _File, new: str, spec: str, nl: str) -> str:
    """One import of the helper (an existing one extended with the names now used)."""
    pattern = _HELPER_REQUIRE if not (f.kind.esm or f.kind.typescript) else _HELPER_IMPORT
    m = pattern.search(new)
    if m:
        have = {n.strip() for n in m.group(2).split(",") if n.strip()}
        names = ", ".join(sorted(have | f.names))
        return new[: m.start(2)] + f" {names} " + new[m.end(2) :]
    names = ", ".join(sorted(f.names))
    if f.kind.esm or f.kind.typescript:
        imp = f"import {{ {names} }} from {q(spec)};{nl}"
    else:
        imp = f"const {{ {names} }} = require({q(spec)});{nl}"
    pos = _prologue_end(new)
    return new[:pos] + imp + new[pos:]


def _prologue_end(text: str) -> int:
    """After a shebang and a "use strict" directive: where an import line may go."""
    pos = 0
    for line in text.splitlines(keepends=True):
        if line.startswith("#!") or re.match(r"""\s*["']use strict["'];?\s*$""", line):
            pos += len(line)
        else:
            break
    return pos


def _node_check(source: str, kind: jsproject.ModuleKind) -> bool:
    """Syntax-check a rewritten JS file when node is installed (otherwise trust the splice).

    The source goes to node on a pipe, never to a file: a site left for manual handling still
    holds its value. (Node's error message quotes the source; it is captured and dropped.)"""
    node = shutil.which("node")
    if node is None or kind.typescript:
        return True
    mode = "module" if kind.esm else "commonjs"
    try:
        return subprocess.run([node, "--check", f"--input-type={mode}"], input=source.encode("utf-8"),
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return True


def _helper_path(ws: Workspace, path: str, kind: jsproject.ModuleKind) -> tuple[str, Optional[str]]:
    """Where this file's helper goes and the package's entry point: one helper beside the entry
    when the entry runs under the same kind, else one per directory."""
    entry = jsproject.entry_point(ws, path)
    if entry is not None:
        etext = (ws.read(entry) or b"").decode("utf-8", "replace")
        if jsproject.module_kind(ws, entry, etext).helper == kind.helper:
            return str(PurePosixPath(entry).parent / kind.helper).removeprefix("./"), entry
    directory = str(PurePosixPath(path).parent)
    return (f"{directory}/{kind.helper}" if directory != "." else kind.helper), None


def _write_helper(ws: Workspace, hpath: str, kind: jsproject.ModuleKind, entries: list, ctx: Context) -> None:
    old = ws.read(hpath)
    if old is not None and not old.startswith(H.JS_HELPER_HEADER.encode()) and not old.startswith(b"// @ts-nocheck"):
        ctx.notes.append(f"{hpath}: exists and was not written by leakstop: left as it is")
        return
    known = H.js_secret_entries(old.decode("utf-8", "replace")) if old else []
    flavour = "ts" if kind.typescript else "esm" if kind.esm else "cjs"
    content = H.js_helper(ctx.region, ctx.settings.cache_ttl, flavour, known + entries)
    ws.write(hpath, content.encode(), "helper", "run-time helper (AWS SDK v3; loadSecrets() at start-up)")


def rewrite_js(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    dec = text_or_manual(ws, path, pairs, ctx)
    if dec is None:
        return
    text, nl = dec
    f = _File(path, text, jsproject.module_kind(ws, path, text))
    lits = jslex.literals(text)
    by_lit: dict[int, list] = {}
    for site, item in pairs:
        loc = locate(text, f.starts, site, item)
        lit = _literal_of(lits, *loc) if loc else None
        if loc is None or lit is None:
            ctx.manual.append(Manual(site, "value is not inside a string literal"))
            continue
        by_lit.setdefault(lits.index(lit), []).append((loc[0], loc[1], site, item))
    for i, hits in by_lit.items():
        _place(f, lits[i], hits)
    _note_load_time_reads(f, lits)
    if not f.repl:
        return
    hpath, entry = _helper_path(ws, path, f.kind)
    spec = jsproject.relative_spec(path, hpath, f.kind.spec_ext)
    spliced = splice(text, f.repl)
    if "leakstopUrl(" in spliced:
        f.names.add("leakstopUrl")
    new = _add_import(f, spliced, spec, nl)
    if not _node_check(new, f.kind):
        ctx.manual += [Manual(h[2], "the rewritten file does not parse: replace by hand") for hs in by_lit.values() for h in hs]
        return
    ws.write(path, new.encode("utf-8"), "javascript", f"literal -> {PurePosixPath(hpath).name} leakstopValue()")
    ctx.notes += [f"{path}: {n}" for n in f.notes]
    entries = [(it.secret_name, it.json_key, _env_of(new, it)) for _, it in pairs]
    _write_helper(ws, hpath, f.kind, entries, ctx)
    first = pairs[0][0]
    if entry is None:
        ctx.finish.setdefault(f"js-entry:{hpath}", lambda: _no_entry(ctx, first, hpath))
    else:
        ctx.finish.setdefault(f"js-entry:{entry}", lambda: _load_at_entry(ws, entry, hpath, ctx, first, nl))


def _env_of(new: str, item: Item) -> str:
    """The environment variable the rewritten code names for ``item``'s value."""
    m = re.search(r"leakstopValue\(" + re.escape(q(item.secret_name)) + r", "
                  + re.escape(q(item.json_key) if item.json_key is not None else "undefined")
                  + r", \{ env: (\"[^\"]*\") \}\)", new)
    return json.loads(m.group(1)) if m else item.env_name


def _no_entry(ctx: Context, site: Site, hpath: str) -> None:
    ctx.manual.append(Manual(site, f"call `await loadSecrets()` (exported by {hpath}) once at start-up, before any "
                                   "moved value is read: no entry point found (package.json scripts.start / main / "
                                   "bin, or index/server/app/main)"))


def _load_at_entry(ws: Workspace, entry: str, hpath: str, ctx: Context, site: Site, nl: str) -> None:
    """Make the entry point load the secrets before the application reads them."""
    text = (ws.read(entry) or b"").decode("utf-8", "replace")
    if re.search(r"\bloadSecrets\(\)", text):
        return
    kind = jsproject.module_kind(ws, entry, text)
    spec = jsproject.relative_spec(entry, hpath, kind.spec_ext)
    new = _entry_text(text, kind, spec, nl)
    if new is None or not _node_check(new, kind):
        _no_entry(ctx, site, hpath)
        return
    ws.write(entry, new.encode("utf-8"), "javascript", "entry point: await loadSecrets() at start-up")
    ctx.notes.append(f"{entry}: loads the secrets at start-up (loadSecrets() from {hpath})")


def _imports_end(text: str) -> int:
    """After the last top-level import statement (0 when there is none)."""
    end = 0
    for m in re.finditer(r"^import(?!\s*\()\b[^;]*?(?:from\s*)?[\"'][^\"'\n]+[\"'][ \t]*;?[ \t]*\n?", text, re.M | re.S):
        end = m.end()
    return end


def _entry_text(text: str, kind: jsproject.ModuleKind, spec: str, nl: str) -> Optional[str]:
    fail = "(err) => { console.error(err); process.exit(1); }"
    if not (kind.esm or kind.typescript):  # CommonJS: the whole module body runs after the load
        pos = _prologue_end(text)
        body = text[pos:]
        tail = "" if body.endswith("\n") or not body else nl
        return (text[:pos] + f"require({q(spec)}).loadSecrets().then(() => {{{nl}" + body + tail
                + f"}}, {fail});{nl}")
    m = _HELPER_IMPORT.search(text)
    if m:
        names = {n.strip() for n in m.group(2).split(",") if n.strip()} | {"loadSecrets"}
        text = text[: m.start(2)] + " " + ", ".join(sorted(names)) + " " + text[m.end(2) :]
    else:
        pos = _prologue_end(text)
        text = text[:pos] + f"import {{ loadSecrets }} from {q(spec)};{nl}" + text[pos:]
    pos = _imports_end(text)
    if kind.top_level_await:
        return text[:pos] + f"await loadSecrets();{nl}" + text[pos:]
    rest = text[pos:]
    if re.search(r"^export\b", rest, re.M):
        return None  # exports cannot move into a callback: the user places the call
    tail = "" if rest.endswith("\n") or not rest else nl
    return text[:pos] + f"loadSecrets().then(() => {{{nl}" + rest + tail + f"}}, {fail});{nl}"


def claims(path: str, data: Optional[bytes]) -> bool:
    return os.path.splitext(path)[1].lower() in (".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".mts", ".cts")


REWRITER = Rewriter(claims, rewrite_js, rebuilds_uris=True)
