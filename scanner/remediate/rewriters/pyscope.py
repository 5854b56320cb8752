"""What the Python rewriter needs to know about where a string literal sits, from the AST alone:
does the line run at import or when a function is called, which statement and class hold it,
which module-level names it may turn into lazily looked-up constants, and where the module reads
such a name (scopes resolved as Python does: a function's own names hide the module's)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Optional, Union

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
# A node that opens a scope of its own: one of _FUNCS or _COMPS.
_Scope = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
               ast.GeneratorExp]


@dataclass
class Where:
    """The context of one node."""

    in_function: bool  # runs when a function is called (else at import, or class creation)
    statement: ast.stmt
    owner: Optional[ast.AST]  # the ClassDef / Module whose body holds ``statement`` (None inside a function)
    parents: list[ast.AST] = field(default_factory=list)  # innermost first


@dataclass
class ModuleInfo:
    tree: ast.Module
    where: dict[int, Where]  # id(node) -> context, for every expression node
    module_binds: dict[str, int]  # name -> how many times the module scope binds it
    global_loads: dict[str, list[ast.Name]]  # name -> loads that read the module's global
    import_time_loads: dict[str, list[ast.Name]]  # the subset read at import (not inside a function)


def _bound_in(node: _Scope) -> set[str]:
    """Names a function / lambda / comprehension scope binds itself (params, stores, imports),
    minus those it declares global; nested scopes are not entered."""
    names: set[str] = set()
    declared_global: set[str] = set()
    if isinstance(node, _FUNCS):
        a = node.args
        for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
            if arg is not None:
                names.add(arg.arg)
        body = node.body if isinstance(node.body, list) else [node.body]
    else:  # a comprehension: its targets
        body = [g.target for g in node.generators]
    stack = list(body)
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Global):
            declared_global.update(n.names)
        elif isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in n.names)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
            continue  # its body is its own scope
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
        if isinstance(n, _FUNCS + _COMPS + (ast.ClassDef,)) and n not in body:
            continue
        stack.extend(ast.iter_child_nodes(n))
    return names - declared_global


def _outer_parts(node: ast.AST) -> list[ast.AST]:
    """The parts of a def/lambda/class evaluated in the enclosing scope (decorators, defaults,
    annotations, bases)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        a = node.args
        return [*node.decorator_list, *a.defaults, *[d for d in a.kw_defaults if d is not None],
                *[x.annotation for x in a.posonlyargs + a.args + a.kwonlyargs if x.annotation is not None],
                *([node.returns] if node.returns else [])]
    if isinstance(node, ast.Lambda):
        return [*node.args.defaults, *[d for d in node.args.kw_defaults if d is not None]]
    if isinstance(node, ast.ClassDef):
        return [*node.decorator_list, *node.bases, *node.keywords]
    return []


def analyse(tree: ast.Module) -> ModuleInfo:
    info = ModuleInfo(tree, {}, {}, {}, {})
    _module_bindings(tree, info)
    # (node, in_function, statement, owner, shadowed names, parents)
    stack: list[tuple] = [(child, False, None, tree, frozenset(), [tree]) for child in tree.body]
    while stack:
        node, in_fn, stmt, owner, shadowed, parents = stack.pop()
        if isinstance(node, ast.stmt):
            stmt = node
        info.where[id(node)] = Where(in_fn, stmt, None if in_fn else owner, parents[::-1])
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in shadowed:
            info.global_loads.setdefault(node.id, []).append(node)
            if not in_fn:
                info.import_time_loads.setdefault(node.id, []).append(node)
        kids = list(ast.iter_child_nodes(node))
        outer = _outer_parts(node)
        inner_parents = parents + [node]
        if isinstance(node, _FUNCS + _COMPS):
            inner = shadowed | _bound_in(node)
            inner_fn = in_fn or isinstance(node, _FUNCS)
            for k in kids:
                if any(k is o for o in outer):
                    stack.append((k, in_fn, stmt, owner, shadowed, inner_parents))
                else:
                    stack.append((k, inner_fn, stmt, owner, inner, inner_parents))
        elif isinstance(node, ast.ClassDef):
            for k in kids:
                body_owner = owner if any(k is o for o in outer) else node
                stack.append((k, in_fn, stmt, body_owner, shadowed, inner_parents))
        else:
            stack.extend((k, in_fn, stmt, owner, shadowed, inner_parents) for k in kids)
    return info


def _module_bindings(tree: ast.Module, info: ModuleInfo) -> None:
    """How often the module scope binds each name: at top level, or through ``global`` in a function."""
    counts = info.module_binds
    stack: list[tuple[ast.AST, bool]] = [(n, True) for n in tree.body]
    while stack:
        n, top = stack.pop()
        if isinstance(n, ast.Global):
            for name in n.names:
                counts[name] = counts.get(name, 0) + 1  # assigned from inside a function
        if top:
            if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
                counts[n.id] = counts.get(n.id, 0) + 1
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                for a in n.names:
                    name = (a.asname or a.name).split(".")[0]
                    counts[name] = counts.get(name, 0) + 1
            elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                counts[n.name] = counts.get(n.name, 0) + 1
        still_top = top and not isinstance(n, _FUNCS + _COMPS + (ast.ClassDef,))
        stack.extend((k, still_top) for k in ast.iter_child_nodes(n))


def constant_target(stmt: ast.stmt) -> Optional[tuple[str, ast.expr]]:
    """``NAME = value`` / ``NAME: T = value`` with one plain name: (NAME, value)."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id, stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
        return stmt.target.id, stmt.value
    return None


def env_default_call(node: ast.AST, parent: Optional[ast.AST]) -> Optional[tuple[ast.Call, str]]:
    """When ``node`` is the default of ``os.environ.get("X", node)`` / ``os.getenv("X", node)``:
    the call and X."""
    if not isinstance(parent, ast.Call) or not parent.args:
        return None
    f = parent.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
    if name == "get":
        base = f.value if isinstance(f, ast.Attribute) else None
        if not (isinstance(base, ast.Attribute) and base.attr == "environ" or isinstance(base, ast.Name) and base.id == "environ"):
            return None
    elif name != "getenv":
        return None
    first = parent.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    default = parent.args[1] if len(parent.args) > 1 else next(
        (k.value for k in parent.keywords if k.arg == "default"), None)
    return (parent, first.value) if default is node else None


def class_kind(cls: ast.ClassDef) -> str:
    """"dataclass", "pydantic" (a BaseModel / BaseSettings subclass) or "plain"."""
    def dotted(e: ast.AST) -> str:
        e = e.func if isinstance(e, ast.Call) else e
        return e.attr if isinstance(e, ast.Attribute) else e.id if isinstance(e, ast.Name) else ""

    if any(dotted(d) == "dataclass" for d in cls.decorator_list):
        return "dataclass"
    if any(dotted(b) in ("BaseSettings", "BaseModel") for b in cls.bases):
        return "pydantic"
    return "plain"
