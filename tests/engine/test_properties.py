"""Property tests of the whole engine: a provider token planted in random text (unicode, CRLF,
NULs, punctuation) is found at its line and its column (in characters), and every finding's
line and columns point at the value it reports."""

from __future__ import annotations

import random
import string

from hypothesis import given
from hypothesis import strategies as st

from scanner.config import Config
from scanner.engine import Engine
from scanner.models import Chunk
from tests import strategies as S
from tests.detectors.test_properties import check_findings
from tests.fakes import with_crc32

_ENGINE: dict = {}


def engine() -> Engine:
    if "e" not in _ENGINE:
        _ENGINE["e"] = Engine(Config())
    return _ENGINE["e"]


# rule id -> a fresh token of its documented shape, from a seed (nothing real-looking is stored)
def _token(rule: str, seed: int) -> str:
    rnd = random.Random(seed)
    pick = lambda alphabet, n: "".join(rnd.choice(alphabet) for _ in range(n))  # noqa: E731
    alnum = string.ascii_letters + string.digits
    if rule == "github-pat-classic":
        return with_crc32("ghp_", S.fake_secret(seed, 30))
    if rule == "aws-access-key-id":
        return "AKIA" + pick(string.ascii_uppercase + "234567", 16)
    return "glpat-" + S.fake_secret(seed, 20, alnum)


TOKEN_RULES = ["github-pat-classic", "aws-access-key-id", "gitlab-pat"]
# Filler that cannot glue onto the token: no word characters or hyphens next to it.
filler_lines = st.lists(S.words.filter(lambda w: "\n" not in w), max_size=8)
sides = st.sampled_from([" ", "\t", " = '", '"', ": ", "(", "="])


@given(rule=st.sampled_from(TOKEN_RULES), seed=S.seeds, before=filler_lines, after=filler_lines,
       prefix=S.words, suffix=S.words, left=sides, nl=S.newlines, path=st.sampled_from(["src/app.py", "notes.txt", "x"]))
def test_planted_token_is_found_at_its_line_and_column(rule, seed, before, after, prefix, suffix, left, nl, path):
    token = _token(rule, seed)
    prefix = prefix.replace("\n", " ") + left
    line = prefix + token + " " + suffix.replace("\n", " ")
    text = nl.join([*before, line, *after])
    data = text.encode("utf-8")
    findings = engine().scan(Chunk(path=path, data=data))
    check_findings(data, findings)
    if any(p in line.lower() for p in ("leakstop:allow", "pragma: allowlist secret", "gitleaks:allow")):
        return
    column = len(prefix) + 1
    hits = [(f.line, f.column, f.end_column) for f in findings if f.rule_id == rule]
    assert (len(before) + 1, column, column + len(token)) in hits, hits
