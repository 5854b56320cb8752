"""Adversarial inputs for the linear-time check: what an attacker (or an unlucky data file) would
write to make the scanner slow.

Each :class:`Case` builds its input at any size, so the same input can be scanned at 256 KB and
at 1 MB and the two costs compared (tests/engine/test_linear.py counts work; bench/linear_bench.py
times it). The inputs come from the rules themselves -- every keyword and every literal prefix of
every rule -- repeated back to back, as keys of many short assignments, and buried in long runs
of value characters; from the words that wake the context detectors, under the file names those
detectors read; and from long runs of each character class (letters, digits, base64, hex), as
one huge line and as many short ones, with an example of every rule in front so that every rule
is a candidate. Values are random, drawn from a generator seeded by the case's name: the same
case is the same bytes every time.
"""

from __future__ import annotations

import random
import re._constants as C
import re._parser as P
import string
import zlib
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from scanner.rules import Rule

B64 = string.ascii_letters + string.digits + "+/"
CLASSES = {
    "letters": string.ascii_letters,
    "digits": string.digits,
    "base64": B64,
    "hex": "0123456789abcdef",
}
# The words the context detectors and the structure-aware rules wake up on, with the file names
# that bring each detector in.
TRIGGERS = (
    "password=", 'password="', "password: ", 'password = "', "Authorization: Bearer ", "Authorization: Basic ",
    "-----BEGIN", "-----BEGIN RSA PRIVATE KEY-----\n", "kind: Secret\n", "ENV ", "ARG ", "export ", "--build-arg ",
    "RUN curl -u ", "curl ", "mysql -p", "- name: ", "value: ", '"password": "', '{"name": "', '"value": "',
    '<add key="password" value="', "<password>", '<a key="', "[db]\n", "machine h login u password ",
    "postgres://u:", "://", "key=", "token:", "Password=", ";Password=", "secret_key_base: ", "data:\n  ",
    'resource "x" "y" {\n', "stringData:\n  ",
)
DETECTOR_PATHS = (
    "adv.txt", ".env", "Dockerfile", "config.yaml", "config.json", "web.config", "app.ini", "main.tf",
    "docker-compose.yml", "build.sh", ".netrc", ".pgpass", "app.properties",
)


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    make: Callable[["Case", int], bytes]  # (case, size) -> ``size`` bytes of the shape, see build
    seed: str = ""

    def build(self, size: int) -> bytes:
        """The input: ``size`` bytes of the shape (a few more when its last unit is whole), after
        the fixed lines some cases put in front (every rule's example), which ``build(0)`` is."""
        return self.make(self, size)


def _rng(case: Case) -> random.Random:
    return random.Random(zlib.crc32(case.name.encode()))


def _fill(unit: Callable[[int], str], size: int) -> bytes:
    """Units back to back up to ``size`` bytes, the last one whole: a unit cut at the end would
    leave a value of a random length that only some sizes have (a 14-character tail that one
    rule matches), and the work of that one rule would be counted as the cost of the size."""
    parts: list[bytes] = []
    total = i = 0
    while total < size:
        part = unit(i).encode("latin-1")
        parts.append(part)
        total += len(part)
        i += 1
    return b"".join(parts)


def _word(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


# -- shapes built from one seed (a keyword, a prefix, a trigger) -----------------------------
def repeated(case: Case, size: int) -> bytes:
    """The seed back to back: one huge line of keyword hits (``password="password="...``)."""
    return _fill(lambda i: case.seed, size)


def assignments(case: Case, size: int) -> bytes:
    """Many short lines, each the seed as (part of) a key with a random value (``k7_secret_key=...``)."""
    rng = _rng(case)
    values = [_word(rng, B64[:62], 32) for _ in range(64)]
    return _fill(lambda i: f"k{i}_{case.seed}={values[i % 64]}\n", size)


def inline(case: Case, size: int) -> bytes:
    """The same assignments on one line, separated by spaces."""
    rng = _rng(case)
    values = [_word(rng, B64[:62], 32) for _ in range(64)]
    return _fill(lambda i: f"{case.seed}{values[i % 64]} ", size)


def buried(case: Case, size: int) -> bytes:
    """The seed every ~1000 bytes inside one endless run of value characters: windows around
    keywords cut into the run, and a match cut at a window's edge is matched again."""
    rng = _rng(case)
    run = _word(rng, B64[:62], 997)
    return _fill(lambda i: case.seed + run, size)


SHAPES = {"repeated": repeated, "assignments": assignments, "inline": inline, "buried": buried}


# -- character classes ------------------------------------------------------------------------
def _class_case(alphabet: str, line: int, same: bool, prefix: bytes) -> Callable[[Case, int], bytes]:
    def make(case: Case, size: int) -> bytes:
        # The run is ``size`` bytes whatever the prefix: cut to the size, a prefix longer than
        # the smaller input (the examples are ~70 KB) would make every rule a candidate only in
        # the larger one.
        rng = _rng(case)
        if same:
            text = alphabet[-1] * size
        else:
            text = "".join(rng.choices(alphabet, k=size))
        if line:
            text = "\n".join(text[i : i + line] for i in range(0, len(text), line + 1))
        return prefix + text.encode()[:size]

    return make


# -- seeds from the rules ---------------------------------------------------------------------
def literal_prefixes(regex: str) -> list[str]:
    """The literal text every match of ``regex`` starts with (one per top-level alternative),
    as the multi-pattern engine would look for it; empty strings are left out."""
    try:
        tree = P.parse(regex)
    except Exception:
        return []
    return [p for p in _prefixes(list(tree)) if p]


def _prefixes(items: list) -> list[str]:
    out = ""
    for i, (op, av) in enumerate(items):
        if op is C.LITERAL:
            out += chr(av)
        elif op is C.AT:
            continue
        elif op is C.SUBPATTERN and not out:
            return [p for p in _prefixes(list(av[3]))]
        elif op is C.BRANCH and not out:
            return [p for branch in av[1][:4] for p in _prefixes(list(branch))]
        else:
            break
    return [out]


def seeds(rules: Sequence[Rule]) -> dict[str, str]:
    """seed text -> where it comes from: every rule's keywords and literal prefixes."""
    found: dict[str, str] = {}
    for rule in rules:
        for kw in rule.keywords:
            found.setdefault(kw, rule.id)
        for p in literal_prefixes(rule.regex):
            found.setdefault(p, rule.id)
    return found


def examples(rules: Sequence[Rule]) -> bytes:
    """One example of every rule, a line each: put in front of a class run, they make every rule
    a candidate for the whole run. ``rules`` must come from :func:`rules_with_examples`."""
    return "".join(r.examples[0] + "\n" for r in rules if r.examples).encode("utf-8")


def rules_with_examples() -> list[Rule]:
    """The built-in rules as their files define them. An engine's rules carry no examples (the
    parsed-rules cache keeps only what scanning needs), so cases built from ``engine.rules``
    would quietly lose every '+examples' input."""
    from scanner.rules import load_rules, rule_files

    rules = load_rules(rule_files())
    assert examples(rules), "the rule files hold no examples"
    return rules


def cases(rules: Sequence[Rule], shapes: Iterable[str] = tuple(SHAPES)) -> list[Case]:
    out: list[Case] = []
    for seed, origin in sorted(seeds(rules).items()):
        for shape in shapes:
            out.append(Case(f"{shape}:{origin}:{seed!r}", "adv.txt", SHAPES[shape], seed))
    for trigger in TRIGGERS:
        for path in DETECTOR_PATHS:
            for shape in ("repeated", "assignments"):
                out.append(Case(f"{shape}:{path}:{trigger!r}", path, SHAPES[shape], trigger))
    every = examples(rules)
    for cls, alphabet in CLASSES.items():
        for line, same in ((0, False), (0, True), (80, False), (4000, False)):
            for prefix, tag in ((b"", ""), (every, "+examples")):
                name = f"class:{cls}:{'same' if same else 'random'}:{'one line' if not line else f'lines of {line}'}{tag}"
                out.append(Case(name, "adv.txt", _class_case(alphabet, line, same, prefix)))
    return out


