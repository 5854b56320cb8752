"""Python: a string literal becomes an environment-first, lazy lookup through the generated
``leakstop_secrets`` helper, so the code keeps its meaning and makes no AWS call it did not need.

- Every lookup is ``env_or_lookup("ENV", name, key)``: the environment variable when it is set, else
  the stored value (``os.environ.get("X", literal)`` becomes ``env_or_lookup("X", …)``: the
  default is no longer computed when X is set).
- Nothing is looked up at import: a module constant ``NAME = literal`` becomes a getter function,
  read through a PEP 562 module ``__getattr__`` (``config.NAME`` is still a ``str``) and called
  where the module itself reads NAME; a class attribute becomes a descriptor read on access
  (``dataclasses.field`` / pydantic ``Field`` default factories for those classes); a literal in a
  function body is looked up when the function runs.
- Where a line would still look a value up at import (a module-level dict of values, a value read
  by other module-level code), the plan says so in a note.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from pathlib import PurePosixPath
from typing import Optional, Union

from scanner.remediate import helper_templates as H
from scanner.remediate.records import Item, Manual, Site, Workspace
from scanner.remediate.rewriters import pyscope
from scanner.remediate.rewriters.base import Context, EnvNames, Pairs, uri_template, Rewriter, line_starts, locate, q, splice, text_or_manual

_STR_PREFIX = re.compile(r"([A-Za-z]*)('''|\"\"\"|'|\")")
_GETATTR_LINE = re.compile(r"^__getattr__, __dir__ = leakstop_lazy_attributes\(__name__\)[ \t]*$", re.M)
_CONTAINERS = (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)
_CLASS_WRAPPER = {"plain": "lazy_attribute", "dataclass": "dataclass_field", "pydantic": "pydantic_field"}


def _lookup_call(env: str, item: Item, used: set[str], read: str) -> str:
    """``leakstop_env_or_<read>(env, name[, key])``: ``read`` is the store's helper function."""
    used.add("env_or_" + read)
    key = f", {q(item.json_key)}" if item.json_key is not None else ""
    return f"leakstop_env_or_{read}({q(env)}, {q(item.secret_name)}{key})"


def _uses_caching_lib(ws: Workspace) -> bool:
    for name in ("requirements.txt", "requirements.in", "pyproject.toml", "setup.py", "setup.cfg", "Pipfile"):
        data = ws.read(name)
        if data and re.search(rb"aws[-_]secretsmanager[-_]caching", data, re.I):
            return True
    return False


class _Source:
    """The file's text with AST positions (UTF-8 byte columns) mapped to character offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = line_starts(text)
        self.lines = text.split("\n")

    def pos(self, lineno: int, col: int) -> int:
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8", "replace"))

    def span(self, node: ast.expr) -> tuple[int, int]:
        # ast.parse gives every expression its end (typeshed allows None for nodes built by hand)
        assert node.end_lineno is not None and node.end_col_offset is not None
        return self.pos(node.lineno, node.col_offset), self.pos(node.end_lineno, node.end_col_offset)


class _Plan:
    """The edits for one file: text replacements, lazy constants, the helper names used."""

    def __init__(self, src: _Source, info: pyscope.ModuleInfo, read: str) -> None:
        self.src, self.info = src, info
        self.read = read  # the store's helper function (lookup, parameter)
        self.repl: list[tuple[int, int, str]] = []
        self.used: set[str] = set()
        self.constants: dict[str, Union[ast.Assign, ast.AnnAssign]] = {}  # module constant name -> its statement
        self.wrapped: set[int] = set()  # id() of class-body statements already wrapped
        self.notes: list[str] = []
        self.tokens: list[tuple[int, int, str]] = []  # every string token's span
        self.joined: set[int] = set()
        self.envs = EnvNames()  # id() of implicitly concatenated literals already joined


def _string_nodes(src: _Source, tree: ast.Module) -> dict[tuple[int, int], ast.Constant]:
    """Character span -> the str Constant node (implicitly concatenated literals share one node)."""
    out = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and hasattr(n, "end_lineno"):
            out[src.span(n)] = n
    return out


def _body(tok: tuple[int, int, str]) -> tuple[int, int, str, str]:
    """A string token's body span, prefix (r, u, f, b…) and quote."""
    a, b, s = tok
    m = _STR_PREFIX.match(s)
    assert m is not None, "a STRING token starts with its prefix and quote"
    prefix, quote = m.group(1), m.group(2)
    return a + len(prefix) + len(quote), b - len(quote), prefix, quote


def _literal_expr(text: str, tok: tuple[int, int, str], hits: list, env: Optional[str], used: set[str],
                  envs: EnvNames, read: str, explicit: bool = False, uri_env: Optional[str] = None) -> Optional[str]:
    """The expression replacing one string token: the lookup, concatenated with the literal's
    other parts; None for f-strings and bytes."""
    body_a, body_b, prefix, quote = _body(tok)
    if set(prefix.lower()) & {"f", "b"}:
        return None
    if len(hits) == 1 and hits[0][3].connection and hits[0][3].json_key:  # a connection URI: rebuilt whole
        va, vb, _, item = hits[0]
        template = uri_template(text[body_a:body_b], va - body_a, vb - body_a)
        if template is not None:
            used.add("env_or_url")
            return (f"leakstop_env_or_url({q(envs.pick(env or uri_env or item.env_name, item, explicit))}, "
                    f"{q(item.secret_name)}, {q(item.json_key)}, {q(template)})")
    parts, cur = [], body_a
    for va, vb, site, item in sorted(hits, key=lambda h: h[0]):
        if va > cur:
            parts.append(prefix + quote + text[cur:va] + quote)
        parts.append(_lookup_call(envs.pick(env or item.env_name, item, explicit), item, used, read))
        cur = vb
    if body_b > cur:
        parts.append(prefix + quote + text[cur:body_b] + quote)
    return parts[0] if len(parts) == 1 else "(" + " + ".join(parts) + ")"


def _place(plan: _Plan, node: ast.Constant, tok: tuple[int, int, str], hits: list) -> Optional[str]:
    """Replace one literal and make its statement lazy; a reason when it cannot be rewritten."""
    where = plan.info.where[id(node)]
    parents = where.parents
    if isinstance(where.statement, ast.Expr) and where.statement.value is node:
        return _unused_string(plan, tok, hits)
    parent = parents[1] if len(parents) > 1 and isinstance(parents[0], ast.keyword) else parents[0]
    env_call = pyscope.env_default_call(node, parent)
    body_a, body_b, _, _ = _body(tok)
    whole = len(hits) == 1 and hits[0][0] == body_a and hits[0][1] == body_b  # the literal is the value
    if env_call and whole:
        expr = _literal_expr(plan.src.text, tok, hits, env_call[1], plan.used, plan.envs, plan.read, explicit=True)
        if expr is not None:
            plan.repl.append((*plan.src.span(env_call[0]), expr))
    else:
        target = pyscope.constant_target(where.statement)
        own = target[0].upper() if target and target[1] is node and plan.src.span(node) == tok[:2] else None
        env = own if whole else None  # NAME = "value": the variable is NAME
        expr = _literal_expr(plan.src.text, tok, hits, env, plan.used, plan.envs, plan.read, uri_env=own)
        if expr is not None:
            plan.repl.append((tok[0], tok[1], expr))
            _join_implicit(plan, node)
    if expr is None:
        return "f-string or bytes literal: replace by hand"
    if not where.in_function:
        _make_lazy(plan, where)
    return None


def _join_implicit(plan: _Plan, node: ast.Constant) -> None:
    """``"a" "b"`` is one literal of several tokens: once a token is an expression, join them with
    ``+`` (inside parentheses, so precedence holds)."""
    a, b = plan.src.span(node)
    inner = [t for t in plan.tokens if a <= t[0] and t[1] <= b]
    if len(inner) < 2 or id(node) in plan.joined:
        return
    plan.joined.add(id(node))
    plan.repl += [(a, a, "("), (b, b, ")")] + [(t[1], t[1], " +") for t in inner[:-1]]


def _unused_string(plan: _Plan, tok: tuple[int, int, str], hits: list) -> Optional[str]:
    """A docstring or a bare string statement: nothing reads it, so the value is only removed."""
    if set(_body(tok)[2].lower()) & {"f", "b"}:
        return "f-string or bytes literal: replace by hand"
    plan.repl += [(va, vb, f"[leakstop: moved to {item.ref}]") for va, vb, _, item in hits]
    return None


def _make_lazy(plan: _Plan, where: pyscope.Where) -> None:
    """The statement holding a looked-up value runs at import: defer it where Python allows."""
    stmt, owner = where.statement, where.owner
    target = pyscope.constant_target(stmt)
    top_level = any(stmt is st for st in plan.info.tree.body)  # not inside an if/try block
    if target and top_level and _constant_ok(plan, target[0]):
        assert isinstance(stmt, (ast.Assign, ast.AnnAssign)), "constant_target found NAME = value"
        plan.constants.setdefault(target[0], stmt)
        return
    if target and isinstance(owner, ast.ClassDef) and not _class_local_reads(owner, target[1]):
        if id(stmt) not in plan.wrapped:
            plan.wrapped.add(id(stmt))
            wrapper = _CLASS_WRAPPER[pyscope.class_kind(owner)]
            if wrapper == "dataclass_field" and not isinstance(stmt, ast.AnnAssign):
                wrapper = "lazy_attribute"  # not a dataclass field: a plain class attribute
            plan.used.add(wrapper)
            a, b = plan.src.span(target[1])
            plan.repl += [(a, a, f"leakstop_{wrapper}(lambda: "), (b, b, ")")]
        return
    plan.notes.append(f"line {stmt.lineno}: looked up when the module is imported (environment first); "
                      "move it into a function to defer it")


def _constant_ok(plan: _Plan, name: str) -> bool:
    """A module constant can become a getter when nothing else binds the name (no reassignment,
    no ``global``, no module ``__getattr__`` of the user's) and every read of it is located."""
    binds = plan.info.module_binds
    text = plan.src.text
    users_getattr = binds.get("__getattr__", 0) and not _GETATTR_LINE.search(text)
    if binds.get(name, 0) != 1 or users_getattr or name.startswith("__"):
        return False
    return all(text[slice(*plan.src.span(n))] == name for n in plan.info.global_loads.get(name, []))


def _class_local_reads(cls: ast.ClassDef, value: ast.expr) -> bool:
    """Does ``value`` read a name the class body binds (a lambda there could not see it)?"""
    bound = {t.id for st in cls.body for t in ast.walk(st)
             if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)}
    bound |= {st.name for st in cls.body if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    return any(isinstance(n, ast.Name) and n.id in bound for n in ast.walk(value))


def _apply_constants(plan: _Plan, nl: str) -> None:
    """Each lazy constant: its statement becomes ``def _leakstop_NAME(): return …``; the module's
    own reads call the getter; ``__getattr__`` serves ``module.NAME``."""
    for name, stmt in sorted(plan.constants.items()):
        value = stmt.value  # what constant_target found
        a = plan.src.pos(stmt.lineno, stmt.col_offset)
        before_eq = stmt.annotation if isinstance(stmt, ast.AnnAssign) else stmt.targets[0]
        b = plan.src.text.index("=", plan.src.span(before_eq)[1]) + 1
        ann = ""
        if isinstance(stmt, ast.AnnAssign):
            ann = " -> " + plan.src.text[slice(*plan.src.span(stmt.annotation))]
        head = f"def _leakstop_{name}(){ann}:  # leakstop: looked up on first use{nl}    return"
        if isinstance(value, _CONTAINERS):  # built once, then kept: it may be changed in place
            plan.used.add("once")
            head = f"@leakstop_once{nl}" + head
        plan.repl.append((a, b, head))
        for load in plan.info.global_loads.get(name, []):
            plan.repl.append((*plan.src.span(load), f"_leakstop_{name}()"))
        if plan.info.import_time_loads.get(name):
            lines = sorted({n.lineno for n in plan.info.import_time_loads[name]})
            plan.notes.append(f"{name} is read at import (line {', '.join(map(str, lines))}): "
                              "that line still looks it up when the module is imported")


def _getattr_hook(text: str, nl: str, used: set[str]) -> str:
    """``text`` with the module ``__getattr__`` that serves every ``_leakstop_NAME`` getter as
    ``NAME`` (once per module: a later rewrite's getters are served by the same line)."""
    if _GETATTR_LINE.search(text):
        return text
    used.add("lazy_attributes")
    tail = "" if text.endswith("\n") or not text else nl
    return (text + tail + nl + nl + "# leakstop: module constants above are looked up on first use, "
            "environment first" + nl + f"__getattr__, __dir__ = leakstop_lazy_attributes(__name__){nl}")


def _add_import(ws: Workspace, path: str, new: str, tree: ast.Module, used: set[str], nl: str) -> str:
    """One import line after the docstring / ``__future__`` imports (or an existing one extended)."""
    directory = str(PurePosixPath(path).parent)
    existing = re.search(r"^(\s*from \.?leakstop_secrets import )(.*)$", new, re.M)
    if existing:  # a file rewritten before: extend every import of the helper with the new names
        have = {p.split(" as ")[0].strip() for p in existing.group(2).split(",")}
        used = used - have
        if not used:
            return new
        extra = "".join(f", {n} as leakstop_{n}" for n in sorted(used))
        return re.sub(r"^(\s*from \.?leakstop_secrets import .*?)[ \t]*$", lambda m: m.group(1) + extra, new, flags=re.M)
    names = ", ".join(f"{n} as leakstop_{n}" for n in sorted(used))
    if ws.read(os.path.join(directory, "__init__.py")) is not None:
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
        lines = new.split("\n")
        while after < min(2, len(lines)) and lines[after].startswith("#") and (
            lines[after].startswith("#!") or "coding" in lines[after]
        ):
            after += 1
    # Replacements never add lines above the docstring / __future__ imports: line numbers hold.
    new_starts = line_starts(new)
    pos = new_starts[after] if after < len(new_starts) else len(new)
    if pos == len(new) and new and not new.endswith("\n"):
        imp = nl + imp
    return new[:pos] + imp + new[pos:]


def _parse(text: str):
    toks = [t for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.STRING]
    return toks, ast.parse(text)


def rewrite_python(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    dec = text_or_manual(ws, path, pairs, ctx)
    if dec is None:
        return
    text, nl = dec
    try:
        toks, tree = _parse(text)
    except (tokenize.TokenError, SyntaxError, IndentationError, ValueError):
        ctx.manual += [Manual(s, "Python file does not parse") for s, _ in pairs]
        return
    src = _Source(text)
    spans = [(src.starts[t.start[0] - 1] + t.start[1], src.starts[t.end[0] - 1] + t.end[1], t.string) for t in toks]
    by_token = _sites_by_token(text, src.starts, spans, pairs, ctx)
    plan = _Plan(src, pyscope.analyse(tree), ctx.store.helper_read)
    plan.tokens = spans
    nodes = _string_nodes(src, tree)
    for tok, hits in by_token.items():
        node = next((n for (a, b), n in nodes.items() if a <= spans[tok][0] and spans[tok][1] <= b), None)
        reason = "value is not inside a plain string literal" if node is None else _place(plan, node, spans[tok], hits)
        if reason:
            ctx.manual += [Manual(h[2], reason) for h in hits]
    if not plan.repl:
        return
    _apply_constants(plan, nl)
    new = splice(text, plan.repl)
    if plan.constants:
        new = _getattr_hook(new, nl, plan.used)
    if plan.used:
        new = _add_import(ws, path, new, tree, plan.used, nl)
    try:
        compile(new, path, "exec")
    except SyntaxError:
        ctx.manual += [Manual(h[2], "the rewritten file would not compile: replace by hand")
                       for hits in by_token.values() for h in hits]
        return
    ctx.notes += [f"{path}: {n}" for n in plan.notes]
    ws.write(path, new.encode("utf-8"), "python", "literal -> leakstop_secrets lookup (environment first, on first use)")
    if plan.used:
        write_helper(ws, path, ctx)


def _sites_by_token(text: str, starts: list[int], spans: list, pairs: Pairs, ctx: Context) -> dict[int, list]:
    by_token: dict[int, list[tuple[int, int, Site, Item]]] = {}
    for site, item in pairs:
        loc = locate(text, starts, site, item)
        tok = next((i for i, (a, b, _) in enumerate(spans) if loc and a <= loc[0] and loc[1] <= b), None)
        if loc is None or tok is None:
            ctx.manual.append(Manual(site, "value is not inside a plain string literal"))
            continue
        by_token.setdefault(tok, []).append((loc[0], loc[1], site, item))
    return by_token


def write_helper(ws: Workspace, path: str, ctx: Context) -> None:
    """leakstop_secrets.py beside ``path`` (written, or refreshed when it is an older one of ours)."""
    directory = str(PurePosixPath(path).parent)
    helper = os.path.join(directory, H.PY_HELPER_NAME) if directory != "." else H.PY_HELPER_NAME
    content = H.python_helper(ctx.region, ctx.settings.cache_ttl, _uses_caching_lib(ws))
    old = ws.read(helper)
    if old is None or (old != content.encode() and old.startswith(H.PY_HELPER_HEADER.encode())):
        ws.write(helper, content.encode(), "helper", "run-time helper (boto3, in-process cache)")


def claims(path: str, data: Optional[bytes]) -> bool:
    return os.path.splitext(path)[1].lower() in (".py", ".pyw")


REWRITER = Rewriter(claims, rewrite_python, rebuilds_uris=True)
