"""One rewriter per file type: replace each literal with a run-time lookup, changing nothing else.

Each rewriter gets the workspace, a path and the (site, item) pairs in that file, writes the new
content through the workspace and returns the sites it could not handle (shown in the plan as
manual steps; the value is still stored and flagged). ``REWRITERS`` maps a kind to a function;
:func:`classify` picks the kind from the file name and content.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import shutil
import subprocess
import tokenize
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Callable, Optional

from scanner.remediate import helper_templates as H
from scanner.remediate.plan import Item, Manual, Site, Workspace
from scanner.remediate.settings import Settings

Pairs = list[tuple[Site, Item]]


@dataclass
class Context:
    settings: Settings
    region: str
    manual: list[Manual] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ecs: list[dict] = field(default_factory=list)  # Dockerfile ENV -> ECS task-definition secrets


def _decode(ws: Workspace, path: str) -> Optional[tuple[str, str]]:
    data = ws.read(path)
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    nl = "\r\n" if "\r\n" in text else "\n"
    return text, nl


def _text_or_manual(ws: Workspace, path: str, pairs: "Pairs", ctx: "Context") -> Optional[tuple[str, str]]:
    """The file's text and newline, or None after listing its sites as manual steps."""
    dec = _decode(ws, path)
    if dec is None:
        ctx.manual += [Manual(s, "not UTF-8 text") for s, _ in pairs]
    return dec


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    return starts


def _locate(text: str, starts: list[int], site: Site, item: Item) -> Optional[tuple[int, int]]:
    """Absolute character span of the value at a site, checked against the value itself."""
    if site.line > len(starts):
        return None
    a = starts[site.line - 1] + site.column - 1
    value = item.value.decode("utf-8", "replace")
    b = a + len(value)
    return (a, b) if text[a:b] == value else None


def _splice(text: str, repl: list[tuple[int, int, str]]) -> str:
    for a, b, s in sorted(repl, reverse=True):
        text = text[:a] + s + text[b:]
    return text


def _q(s: str) -> str:
    return json.dumps(s)


def _store_label(settings: Settings) -> str:
    return "SSM parameter" if settings.backend == "ssm" else "Secrets Manager secret"


# -- Python -----------------------------------------------------------------------------------
_STR_PREFIX = re.compile(r"([A-Za-z]*)('''|\"\"\"|'|\")")


def _python_call(item: Item) -> str:
    if item.json_key is None:
        return f"leakstop_parameter({_q(item.secret_name)})"
    return f"leakstop_lookup({_q(item.secret_name)}, {_q(item.json_key)})"


def _uses_caching_lib(ws: Workspace) -> bool:
    for name in ("requirements.txt", "requirements.in", "pyproject.toml", "setup.py", "setup.cfg", "Pipfile"):
        data = ws.read(name)
        if data and re.search(rb"aws[-_]secretsmanager[-_]caching", data, re.I):
            return True
    return False


def rewrite_python(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    dec = _text_or_manual(ws, path, pairs, ctx)
    if dec is None:
        return
    text, nl = dec
    starts = _line_starts(text)
    try:
        toks = [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.STRING]
        tree = ast.parse(text)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        ctx.manual += [Manual(s, "Python file does not parse") for s, _ in pairs]
        return
    spans = [(starts[t.start[0] - 1] + t.start[1], starts[t.end[0] - 1] + t.end[1], t.string) for t in toks]
    by_token: dict[int, list[tuple[int, int, Site, Item]]] = {}
    for site, item in pairs:
        loc = _locate(text, starts, site, item)
        tok = next((i for i, (a, b, _) in enumerate(spans) if loc and a <= loc[0] and loc[1] <= b), None)
        if loc is None or tok is None:
            ctx.manual.append(Manual(site, "value is not inside a plain string literal"))
            continue
        by_token.setdefault(tok, []).append((loc[0], loc[1], site, item))
    repl = []
    used = set()
    for tok, hits in by_token.items():
        a, b, s = spans[tok]
        m = _STR_PREFIX.match(s)
        prefix, quote = m.group(1), m.group(2)
        if set(prefix.lower()) & {"f", "b"}:
            ctx.manual += [Manual(h[2], "f-string or bytes literal: replace by hand") for h in hits]
            continue
        body_a, body_b = a + len(prefix) + len(quote), b - len(quote)
        parts, cur = [], body_a
        for va, vb, site, item in sorted(hits, key=lambda h: h[0]):
            if va > cur:
                parts.append(prefix + quote + text[cur:va] + quote)
            parts.append(_python_call(item))
            used.add("parameter" if item.json_key is None else "lookup")
            cur = vb
        if body_b > cur:
            parts.append(prefix + quote + text[cur:body_b] + quote)
        expr = parts[0] if len(parts) == 1 else "(" + " + ".join(parts) + ")"
        repl.append((a, b, expr))
    if not repl:
        return
    new = _splice(text, repl)
    # The import goes after the module docstring and __future__ imports; nothing else moves.
    names = ", ".join(f"{n} as leakstop_{n}" for n in sorted(used))
    directory = str(PurePosixPath(path).parent)
    in_package = ws.read(os.path.join(directory, "__init__.py")) is not None
    if in_package:
        imp = (f"try:{nl}    from .leakstop_secrets import {names}{nl}"
               f"except ImportError:  # run as a script{nl}    from leakstop_secrets import {names}{nl}")
    else:
        imp = f"from leakstop_secrets import {names}{nl}"
    after = 0
    for node in tree.body:
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                and node is tree.body[0]) or (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            after = node.end_lineno or after
        else:
            break
    if after == 0:  # keep a shebang / encoding cookie first
        lines = text.split("\n")
        while after < min(2, len(lines)) and lines[after].startswith("#") and (
            lines[after].startswith("#!") or "coding" in lines[after]
        ):
            after += 1
    if f"import {names}" not in new:
        # the splice never changes line count before the first replaced literal's line... but it can
        # change later lines' offsets; insert by line number on the new text (replacements are
        # within lines >= the docstring end, so line numbers up to `after` are unchanged).
        new_starts = _line_starts(new)
        pos = new_starts[after] if after < len(new_starts) else len(new)
        if pos == len(new) and new and not new.endswith("\n"):
            imp = nl + imp
        new = new[:pos] + imp + new[pos:]
    try:
        compile(new, path, "exec")
    except SyntaxError:
        ctx.manual += [Manual(h[2], "the rewritten file would not compile: replace by hand")
                       for hits in by_token.values() for h in hits]
        return
    ws.write(path, new.encode("utf-8"), "python", "literal -> leakstop_secrets lookup (boto3, cached)")
    helper = os.path.join(directory, H.PY_HELPER_NAME) if directory != "." else H.PY_HELPER_NAME
    if ws.read(helper) is None:
        caching = _uses_caching_lib(ws)
        ws.write(helper, H.python_helper(ctx.region, ctx.settings.cache_ttl, caching).encode(), "helper",
                 "run-time helper (aws-secretsmanager-caching)" if caching else "run-time helper (boto3, in-process cache)")


# -- JavaScript / TypeScript ------------------------------------------------------------------
def _js_flavour(path: str, text: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext in (".ts", ".tsx", ".mts", ".cts"):
        return "ts"
    if ext == ".mjs" or (ext != ".cjs" and re.search(r"^\s*(import\s.+from\s|import\s*[\"'{*]|export\s)", text, re.M)):
        return "esm"
    return "cjs"


def _node_check(source: str, flavour: str) -> bool:
    """Syntax-check a rewritten JS file when node is installed (otherwise trust the splice).

    The source goes to node on a pipe, never to a file: a site left for manual handling still
    holds its value. (Node's error message quotes the source; it is captured and dropped.)"""
    node = shutil.which("node")
    if node is None or flavour == "ts":
        return True
    kind = "module" if flavour == "esm" else "commonjs"
    try:
        return subprocess.run([node, "--check", f"--input-type={kind}"], input=source.encode("utf-8"),
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return True


def rewrite_js(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    dec = _text_or_manual(ws, path, pairs, ctx)
    if dec is None:
        return
    text, nl = dec
    starts = _line_starts(text)
    flavour = _js_flavour(path, text)
    literals: dict[tuple[int, int], list] = {}
    for site, item in pairs:
        loc = _locate(text, starts, site, item)
        lit = None
        if loc:
            line_a = starts[site.line - 1]
            line_b = text.find("\n", loc[1]) if text.find("\n", loc[1]) != -1 else len(text)
            for i in range(loc[0] - 1, line_a - 1, -1):
                q = text[i]
                if q in "'\"`":
                    j = text.find(q, loc[1], line_b)
                    if j != -1 and q not in text[i + 1 : loc[0]]:
                        lit = (i, j + 1)
                    break
        if lit is None:
            ctx.manual.append(Manual(site, "value is not inside a one-line string literal"))
            continue
        literals.setdefault(lit, []).append((loc[0], loc[1], site, item))
    repl = []
    for (a, b), hits in literals.items():
        q = text[a]
        parts, cur = [], a + 1
        for va, vb, site, item in sorted(hits, key=lambda h: h[0]):
            if va > cur:
                parts.append(q + text[cur:va] + q)
            args = _q(item.secret_name) + (f", {_q(item.json_key)}" if item.json_key else "")
            fn = "leakstopLookup" if item.json_key else "leakstopParameter"
            parts.append(f"(await {fn}({args}))" if flavour != "cjs" else f"{fn}({args})")
            cur = vb
        if b - 1 > cur:
            parts.append(q + text[cur : b - 1] + q)
        repl.append((a, b, parts[0] if len(parts) == 1 else "(" + " + ".join(parts) + ")"))
    if not repl:
        return
    new = _splice(text, repl)
    helper = {"ts": H.TS_HELPER_NAME, "esm": H.JS_HELPER_NAME, "cjs": H.CJS_HELPER_NAME}[flavour]
    spec = "./" + (helper[:-3] if flavour == "ts" else helper)
    if flavour == "cjs":
        imp = f'const {{ leakstopLookup, leakstopParameter }} = require("{spec}");{nl}'
        ctx.notes.append(f"{path}: CommonJS has no top-level await: each lookup is now a Promise; await it where used")
    else:
        imp = f'import {{ leakstopLookup, leakstopParameter }} from "{spec}";{nl}'
    lines = new.split("\n")
    at = 0
    while at < len(lines) and (lines[at].startswith("#!") or re.match(r"""\s*["']use strict["'];?\s*$""", lines[at])):
        at += 1
    if spec not in new:
        pos = _line_starts(new)[at] if at < len(lines) else len(new)
        new = new[:pos] + imp + new[pos:]
    if not _node_check(new, flavour):
        ctx.manual += [Manual(h[2], "await is not allowed at this place: replace by hand") for hs in literals.values() for h in hs]
        return
    ws.write(path, new.encode("utf-8"), "javascript", f"literal -> {helper} lookup (AWS SDK v3 GetSecretValueCommand)")
    directory = str(PurePosixPath(path).parent)
    hpath = os.path.join(directory, helper) if directory != "." else helper
    if ws.read(hpath) is None:
        content = H.ts_helper(ctx.region, ctx.settings.cache_ttl) if flavour == "ts" else H.js_helper(
            ctx.region, ctx.settings.cache_ttl, flavour)
        ws.write(hpath, content.encode(), "helper", "run-time helper (AWS SDK v3, in-process cache)")


# -- Dockerfile -------------------------------------------------------------------------------
_DOCKER_INSTR = re.compile(r"^(\s*)(ENV|ARG)(\s+)(.*?)(\s*)$", re.I)
_PAIR = re.compile(r"""([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)""")


def rewrite_dockerfile(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    dec = _text_or_manual(ws, path, pairs, ctx)
    if dec is None:
        return
    text, nl = dec
    lines = text.split("\n")
    label = _store_label(ctx.settings)
    build_secrets: dict[str, Item] = {}
    changed = False
    for site, item in sorted(pairs, key=lambda p: (p[0].line, -p[0].column)):
        raw = lines[site.line - 1]
        cr = "\r" if raw.endswith("\r") else ""
        line = raw[:-1] if cr else raw
        m = _DOCKER_INSTR.match(line)
        col = site.column - 1
        if not m or line[col : col + len(item.value.decode("utf-8", "replace"))] != item.value.decode("utf-8", "replace"):
            ctx.manual.append(Manual(site, "not a one-line ENV/ARG instruction"))
            continue
        indent, instr, args = m.group(1), m.group(2).upper(), m.group(4)
        args_at = m.start(4)
        kept, name = [], None
        pairs_found = list(_PAIR.finditer(args))
        if pairs_found and "=" in args.split()[0]:
            for p in pairs_found:
                if p.start(2) + args_at <= col < p.end(2) + args_at or (p.start(2) == p.end(2) and False):
                    name = p.group(1)
                else:
                    kept.append(p.group(0))
        else:  # legacy `ENV KEY value`
            name = args.split()[0] if args.split() else None
        if name is None:
            ctx.manual.append(Manual(site, "cannot find the variable name in the instruction"))
            continue
        if instr == "ENV":
            comment = (f"{indent}# leakstop: {name} is no longer baked into the image: inject it at run time from "
                       f"{label} {item.ref} (ECS: {ctx.settings.output_dir}/ecs-task-definition-secrets.json)")
            ctx.ecs.append({"name": name, "secret_name": item.secret_name, "json_key": item.json_key, "dockerfile": path})
        else:
            comment = (f"{indent}# leakstop: build-time secret {name} comes from {label} {item.ref} as a BuildKit "
                       f"secret: docker build --secret id={name},env={name} (RUN --mount=type=secret,id={name},env={name})")
            build_secrets[name] = item
        new = [comment + cr]
        if kept:
            new.append(f"{indent}{instr} {' '.join(kept)}{cr}")
        lines[site.line - 1 : site.line] = new
        changed = True
    if build_secrets:
        for i, raw in enumerate(lines):
            m = re.match(r"^(\s*RUN\s+)(.*)$", raw, re.I)
            if not m:
                continue
            mounts = [f"--mount=type=secret,id={n},env={n}" for n in build_secrets
                      if re.search(r"\$\{?" + n + r"\b", m.group(2)) and f"id={n}" not in m.group(2)]
            if mounts:
                lines[i] = m.group(1) + " ".join(mounts) + " " + m.group(2)
        if not re.match(r"#\s*syntax=", lines[0]):
            ctx.notes.append(f"{path}: RUN --mount=type=secret,...,env= needs BuildKit with Dockerfile syntax >= 1.10")
    if changed:
        ws.write(path, "\n".join(lines).encode("utf-8"), "dockerfile",
                 "ENV -> ECS task-definition secrets (run time); ARG -> BuildKit RUN --mount=type=secret (build time)")


# -- .env -------------------------------------------------------------------------------------
_ENV_LINE = re.compile(r"^(\s*)(export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*)(.*)$")


def _ignored(ws: Workspace, path: str) -> bool:
    """Is ``path`` ignored by git (work tree rules), counting pending .gitignore edits?"""
    import pathspec

    parts = PurePosixPath(path).parts
    for depth in range(len(parts)):
        directory = "/".join(parts[:depth]) or "."
        gi = ws.read(os.path.join(directory, ".gitignore") if directory != "." else ".gitignore")
        if gi:
            spec = pathspec.GitIgnoreSpec.from_lines(gi.decode("utf-8", "replace").splitlines())
            if spec.match_file("/".join(parts[depth:])):
                return True
    return False


def rewrite_env(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    dec = _text_or_manual(ws, path, pairs, ctx)
    if dec is None:
        return
    text, nl = dec
    starts = _line_starts(text)
    lines = text.split("\n")
    label = _store_label(ctx.settings)
    keys = []
    for site, item in sorted(pairs, key=lambda p: -p[0].line):
        raw = lines[site.line - 1]
        cr = "\r" if raw.endswith("\r") else ""
        m = _ENV_LINE.match(raw[:-1] if cr else raw)
        if not m or _locate(text, starts, site, item) is None:
            ctx.manual.append(Manual(site, "not a KEY=value line"))
            continue
        indent, export, key = m.group(1), m.group(2) or "", m.group(3)
        # A multi-line quoted value (a key block) goes whole: the line it starts on to the line it ends on.
        last = site.line + item.value.decode("utf-8", "replace").count("\n")
        lines[site.line - 1 : last] = [
            f"{indent}# leakstop: {key} moved to {label} {item.ref}{cr}",
            f"{indent}{export}{key}={cr}",
        ]
        keys.append(key)
    if not keys:
        return
    ws.write(path, "\n".join(lines).encode("utf-8"), "env", "value removed; comment names the secret")
    directory = str(PurePosixPath(path).parent)
    join = (lambda n: os.path.join(directory, n)) if directory != "." else (lambda n: n)
    example = join(".env.example")
    ex = (ws.read(example) or b"").decode("utf-8", "replace")
    add = [k for k in sorted(set(keys)) if not re.search(r"^\s*(export\s+)?" + re.escape(k) + r"\s*=", ex, re.M)]
    if add:
        if ex and not ex.endswith("\n"):
            ex += "\n"
        ex += "".join(f"{k}=\n" for k in add)
        ws.write(example, ex.encode("utf-8"), "env-example", "keys listed without values")
    if not _ignored(ws, path):
        gi_path = join(".gitignore")
        gi = (ws.read(gi_path) or b"").decode("utf-8", "replace")
        if gi and not gi.endswith("\n"):
            gi += "\n"
        gi += "/" + PurePosixPath(path).name + "\n"
        ws.write(gi_path, gi.encode("utf-8"), "gitignore", f"ignore {PurePosixPath(path).name}")
        ctx.notes.append(f"{path}: if it is tracked, also run `git rm --cached {path}`")


# -- CloudFormation / SAM and other config ------------------------------------------------------
_CFN = re.compile(r"AWSTemplateFormatVersion|Transform:\s*['\"]?AWS::Serverless|\"Transform\"\s*:\s*\"AWS::Serverless|"
                  r"^\s*Type:\s*['\"]?AWS::|\"Type\"\s*:\s*\"AWS::", re.M)


def _replace_values(ws: Workspace, path: str, pairs: Pairs, ctx: Context, placeholder: Callable[[Item], str],
                    kind: str, note: str) -> None:
    dec = _text_or_manual(ws, path, pairs, ctx)
    if dec is None:
        return
    text, nl = dec
    starts = _line_starts(text)
    yaml_like = os.path.splitext(path)[1].lower() in (".yaml", ".yml", ".template", "")
    repl = []
    for site, item in pairs:
        loc = _locate(text, starts, site, item)
        if loc is None:
            ctx.manual.append(Manual(site, "value not found at its position (file changed?)"))
            continue
        a, b = loc
        ph = placeholder(item)
        before = text[starts[site.line - 1] : a]
        quoted = a > 0 and text[a - 1] in "'\"" and b < len(text) and text[b] == text[a - 1]
        # In a YAML block scalar (`key: |` then indented lines, as key blocks are written) any
        # text is literal: the placeholder goes in as is, a quote would become part of the value.
        in_block = yaml_like and not before.strip() and _opens_block_scalar(text, starts, site.line)
        if in_block and "\n" in text[a:b]:
            # The value as found keeps the block's indentation on its later lines, which YAML
            # strips: the lookup would not return what the file meant.
            ctx.manual.append(Manual(site, "a multi-line value in a YAML block scalar: replace the block by hand"))
            continue
        if yaml_like and not quoted and not in_block and re.search(r"(^|:\s|-\s)\s*$", before):
            ph = _q(ph)  # a plain YAML scalar may not start with '{'
        repl.append((a, b, ph))
    if repl:
        ws.write(path, _splice(text, repl).encode("utf-8"), kind, note)


_BLOCK_INDICATOR = re.compile(r"[|>][1-9+-]{0,2}\s*(#.*)?$")


def _opens_block_scalar(text: str, starts: list[int], line: int) -> bool:
    """Does the nearest non-blank line above ``line`` end with a YAML block indicator (| or >)?"""
    for n in range(line - 1, 0, -1):
        prev = text[starts[n - 1] : starts[n]].rstrip("\r\n")
        if prev.strip():
            return bool(_BLOCK_INDICATOR.search(prev))
    return False


def rewrite_cloudformation(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    def ph(item: Item) -> str:
        if item.json_key is None:
            return f"{{{{resolve:ssm-secure:{item.secret_name}}}}}"
        return f"{{{{resolve:secretsmanager:{item.secret_name}:SecretString:{item.json_key}}}}}"

    _replace_values(ws, path, pairs, ctx, ph, "cloudformation", "literal -> {{resolve:...}} dynamic reference")


def placeholder(item: Item) -> str:
    if item.json_key is None:
        return H.PLACEHOLDER_SSM.format(name=item.secret_name)
    return H.PLACEHOLDER_SM.format(name=item.secret_name, key=item.json_key)


def rewrite_config(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    _replace_values(ws, path, pairs, ctx, placeholder, "config",
                    "literal -> {{leakstop:...}} placeholder (resolve with the helper's resolve()/resolve_config())")


REWRITERS: dict[str, Callable[[Workspace, str, Pairs, Context], None]] = {
    "python": rewrite_python,
    "javascript": rewrite_js,
    "dockerfile": rewrite_dockerfile,
    "env": rewrite_env,
    "cloudformation": rewrite_cloudformation,
    "config": rewrite_config,
}

_CONFIG_EXT = (".yaml", ".yml", ".json", ".ini", ".cfg", ".conf", ".toml", ".properties", ".xml", ".template")
_ENV_EXAMPLES = (".env.example", ".env.sample", ".env.template", ".env.dist")


def classify(path: str, data: Optional[bytes]) -> Optional[str]:
    name = PurePosixPath(path).name
    lower = name.lower()
    ext = os.path.splitext(lower)[1]
    if ext in (".py", ".pyw"):
        return "python"
    if ext in (".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".mts", ".cts"):
        return "javascript"
    if lower == "dockerfile" or lower.startswith("dockerfile.") or lower.endswith(".dockerfile") or lower == "containerfile":
        return "dockerfile"
    if (lower == ".env" or lower.startswith(".env.") or lower.endswith(".env")) and lower not in _ENV_EXAMPLES:
        return "env"
    if ext in _CONFIG_EXT:
        if data and ext in (".yaml", ".yml", ".json", ".template") and _CFN.search(data.decode("utf-8", "replace")):
            return "cloudformation"
        return "config"
    return None


def rewrite_all(ws: Workspace, items: list[Item], settings: Settings) -> tuple[list[Manual], list[str], list[dict]]:
    ctx = Context(settings=settings, region=settings.region or "us-east-1")
    by_path: dict[str, Pairs] = {}
    for it in items:
        for s in it.sites:
            by_path.setdefault(s.path, []).append((s, it))
    for path in sorted(by_path):
        kind = classify(path, ws.read(path))
        if kind is None:
            ctx.manual += [Manual(s, "no rewriter for this file type: replace by hand") for s, _ in by_path[path]]
            continue
        REWRITERS[kind](ws, path, by_path[path], ctx)
    return ctx.manual, ctx.notes, ctx.ecs
