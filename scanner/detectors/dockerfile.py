"""Dockerfiles (``Dockerfile``, ``*.dockerfile``, ``Containerfile``) and ``--build-arg`` in scripts.

``ENV``/``ARG`` in every syntax (``K=V`` pairs, the legacy ``ENV K V``, line continuations) are
judged by key; ``RUN`` lines are searched for credentials typed inline (``curl -u user:pass``,
``mysql -pPASS``, ``https://user:token@host``, npm/.npmrc auth tokens, ``docker login -p``,
``echo PASS | docker login --password-stdin``, ``KEY=value`` assignments) by commands.py, which
does the same for scripts and CI files.
"""

from __future__ import annotations

import re
from typing import Iterator, Sequence

from scanner.detectors._common import assignment, decode, is_template_name
from scanner.detectors.commands import logical_lines, run_credentials, value_matches
from scanner.detectors.keys import SPACE
from scanner.detectors.names import basename, wants_build_args
from scanner.detectors.names import wants_dockerfile as wants

ENV_RULE = "dockerfile-env-credential"
RUN_RULE = "dockerfile-run-credential"
BUILD_ARG_RULE = "docker-build-arg-credential"

_INSTR = re.compile(r"^\s*(?P<op>[A-Za-z]+)\s+", re.ASCII)
# A key is tried only where a run of key characters starts (inside a long run, every try re-read
# the rest of it: quadratic); a leading digit, dot or dash is skipped as before.
_PAIR = re.compile(r"""(?<![A-Za-z0-9_.-])[0-9.-]*(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)=(?P<val>"(?:[^"\\]|\\.)*"|'[^']*'|(?:[^\s"'\\]|\\.)*)""", re.ASCII)
_BUILD_ARG = re.compile(
    r"""--build-arg(?:\s+|=)(?P<q>['"]?)(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?P<val>[^\s'"\\]*)(?P=q)""", re.ASCII
)


def detect(chunk, em) -> Iterator:
    if not wants(chunk.path):
        return
    text = decode(chunk.data)
    strict = is_template_name(basename(chunk.path).lower())
    for line, offs in logical_lines(text):
        m = _INSTR.match(line)
        if not m:
            continue
        op = m.group("op").upper()
        args_at = m.end()
        if op in ("ENV", "ARG"):
            yield from _env(line, offs, args_at, em, strict)
        elif op == "RUN":
            yield from run_credentials(line, offs, args_at, em, RUN_RULE)


def _env(line: str, offs: Sequence[int], at: int, em, strict: bool) -> Iterator:
    args = line[at:]
    m = re.match(r"[^ \t\r\n\x0b\x0c]*", args.lstrip(SPACE))
    first = m.group() if m else ""  # (it matches the empty string: there is always a match)
    if "=" in first:
        for p in _PAIR.finditer(line, at):
            s, e = p.span("val")
            if e > s and line[s] in "\"'":
                s, e = s + 1, e - 1
            yield from value_matches(line, offs, em, ENV_RULE, p.group("key"), s, e, strict)
    elif first:
        # Legacy form: ENV KEY the rest of the line
        s = at + len(args) - len(args.lstrip(SPACE)) + len(first)
        while s < len(line) and line[s] in " \t":
            s += 1
        e = len(line.rstrip(SPACE))
        if e > s and line[s] in "\"'" and line[e - 1] == line[s]:
            s, e = s + 1, e - 1
        yield from value_matches(line, offs, em, ENV_RULE, first, s, e, strict)


# -- --build-arg in build scripts, Makefiles and CI files (see names.wants_build_args) --------------
def detect_build_args(chunk, em) -> Iterator:
    if b"--build-arg" not in chunk.data or not wants_build_args(chunk.path):
        return
    text = decode(chunk.data)
    for m in _BUILD_ARG.finditer(text):
        s, e = m.span("val")
        yield from assignment(em, BUILD_ARG_RULE, text, m.group("key"), s, e)
