"""Credentials typed into shell commands: in scripts, Makefiles and CI files (this module's
detector), and in Dockerfile ``RUN`` instructions (dockerfile.py uses the same functions).

Known commands' password options (``curl -u user:pass``, ``mysql -pPASS``, ``mongo -p``,
``redis-cli -a``, ``docker login -p``, ``sshpass -p``, ``openssl -passin pass:``,
``aws ssm put-parameter --value``), any command's credential-named option (``--password X``,
``--api-key=X``, ``-storepass X``, ``helm --set db.password=X``), passwords in URIs, and
``KEY=value`` assignments (``PGPASSWORD=... psql``) judged by key.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Iterator, Optional, Sequence

from scanner.detectors._common import assignment, decode
from scanner.detectors.keys import SPACE, is_literal, judge, uri_passwords
from scanner.detectors.names import wants_commands
from scanner.models import Match
from scanner.spans import Spans

RULE = "command-line-credential"

# Inline credentials in a shell command: (command, option, key name); the group "pw" of the option
# is the credential. With no key name the option names its value (group "key") and both are judged
# like an assignment. An option counts after its command in the same shell command (no ; & | or newline
# between); options without a command count anywhere. Looking for the option from each command
# word with one lazy pattern (``curl[^;&|]*?-u...``) scanned the rest of the command again for
# every word: the square of a long command's length.
_RUN_TABLE: list[tuple[Optional[str], str, Optional[str]]] = [
    (r"\bcurl\b", r"""\s(?:-u|--user)(?:\s+|=)?(?P<q>['"]?)[^\s:'"]*:(?P<pw>[^\s'"]+)(?P=q)""", "CURL_PASSWORD"),
    (r"\bwget\b", r"""\s--(?:http-|ftp-)?password(?:=|\s+)(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""", "WGET_PASSWORD"),
    (r"\bmysql(?:dump|admin|import|sh)?\b", r"""\s-p(?P<q>['"]?)(?P<pw>[^\s'"-][^\s'"]*)(?P=q)""", "MYSQL_PASSWORD"),
    (r"\bmysql(?:dump|admin|import|sh)?\b", r"""\s--password=(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""", "MYSQL_PASSWORD"),
    (r"\bdocker\s+login\b", r"""\s(?:-p|--password)(?:\s+|=)(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""", "DOCKER_PASSWORD"),
    (None, r"""\becho\s+(?:-n\s+)?(?P<q>['"]?)(?P<pw>[^\s'"|]+)(?P=q)\s*\|\s*docker\s+login\b""", "DOCKER_PASSWORD"),
    # "=" or a space between the name and the value, with any other blanks around it
    (None, r"""[:\s"']_authToken(?:\s*=\s*|[^\S ]*[ ]\s*)(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""", "NPM_TOKEN"),
    (None, r"""(?:^|[:\s"'])_auth(?:\s*=\s*|[^\S ]*[ ]\s*)(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""", "NPM_AUTH"),
    (None, r"""[:\s"']_password(?:\s*=\s*|[^\S ]*[ ]\s*)(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""", "NPM_PASSWORD"),
    (None, r"""\bmachine\s+\S+\s+login\s+\S+\s+password\s+(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""", "NETRC_PASSWORD"),
    (None, r"""\b(?:sshpass|htpasswd\s+-[^\Wb]*b\w*\s+\S+\s+\S+)\s+-p\s*(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""", "SSH_PASSWORD"),
    (r"\bmongo(?:sh|dump|restore|export|import|stat|top|files)?\b",
     r"""\s(?:-p|--password)(?:\s+|=)(?P<q>['"]?)(?P<pw>[^\s'"-][^\s'"]*)(?P=q)""", "MONGO_PASSWORD"),
    (r"\bredis-cli\b", r"""\s(?:-a|--pass)\s+(?P<q>['"]?)(?P<pw>[^\s'"-][^\s'"]*)(?P=q)""", "REDIS_PASSWORD"),
    (r"\b(?:podman|buildah|nerdctl|skopeo|oras|helm\s+registry|az\s+acr)\s+login\b",
     r"""\s(?:-p|--password)(?:\s+|=)(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""", "REGISTRY_PASSWORD"),
    (r"\bopenssl\b", r"""\s-pass(?:in|out)?\s+(?P<q>['"]?)pass:(?P<pw>[^\s'"]+)(?P=q)""", "OPENSSL_PASSPHRASE"),
    (r"\bput-parameter\b", r"""\s--value(?:\s+|=)(?P<q>['"]?)(?P<pw>[^\s'"]+)(?P=q)""", "SSM_PARAMETER_VALUE"),
    (r"\bsecretsmanager\b", r"""\s--secret-string(?:\s+|=)(?P<q>['"]?)(?P<pw>[^\s'"{]+)(?P=q)""", "SECRET_STRING"),
    # Any command's credential-named option (--password, --db-password, --api-key, -storepass,
    # --set db.password=...): the option's name is the key, judged like any assigned name. Not
    # openssl's pass:/env:/file: sources nor specs such as docker build --secret id=npm,src=...
    (None, r"""\s--?(?P<key>(?:[A-Za-z0-9]+-){0,4}[A-Za-z]{0,8}(?:password|passwd|passphrase|pass|pwd|token|secret|api-?key|access-key|secret-key|storepass|keypass))(?:\s+|=)(?P<q>['"]?)(?!(?:pass|env|file|fd):|\w+=)(?P<pw>[^\s'"-][^\s'"]*)(?P=q)""", None),
    (None, r"""\s--set(?:-string)?(?:\s+|=)(?P<q>['"]?)(?P<key>[\w.\[\]-]{1,100})=(?P<pw>[^\s'",]+)(?P=q)""", None),
]
_RUN_PATTERNS: list[tuple[Optional["re.Pattern[str]"], "re.Pattern[str]", Optional[str]]] = [
    (re.compile(cmd, re.ASCII) if cmd else None, re.compile(opt, re.ASCII), key) for cmd, opt, key in _RUN_TABLE
]
_COMMAND_END = re.compile(r"[;&|\n]")
URI_REACH = 2048  # how far before its password a URI's scheme is looked for
_RUN_ASSIGN = re.compile(
    r"""(?:^|(?<=[\s;&|(]))(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?P<val>"(?:[^"\\]|\\.)*"|'[^']*'|[^\s'";&|)]+)""", re.ASCII
)


def logical_lines(text: str) -> Iterator[tuple[str, Sequence[int]]]:
    """Instructions with continuations joined; each with the text offset of every character."""
    escape = "\\"
    head = re.match(r"(?:\s*#\s*\w+\s*=.*\n)*", text, re.ASCII)
    if head and re.search(r"(?im)^\s*#\s*escape\s*=\s*`", head.group(0)):
        escape = "`"
    buf: list[str] = []
    offs: list[int] = []
    pos = 0
    n = len(text)
    while pos <= n:
        nl = text.find("\n", pos)
        end = n if nl < 0 else nl
        line = text[pos:end]
        if line.endswith("\r"):
            line = line[:-1]
        stripped = line.strip(SPACE)
        if buf and stripped.startswith("#"):
            pass  # comment lines inside a continued instruction are dropped by Docker
        elif line.rstrip(SPACE).endswith(escape) and not (not buf and stripped.startswith("#")):
            body = line.rstrip(SPACE)[:-1]
            buf.append(body)
            offs.extend(range(pos, pos + len(body)))
        elif not buf:  # one physical line (most): its offsets as a range, not a list
            yield line, range(pos, pos + len(line))
        else:
            buf.append(line)
            offs.extend(range(pos, pos + len(line)))
            yield "".join(buf), offs
            buf, offs = [], []
        if nl < 0:
            break
        pos = nl + 1
    if buf:
        yield "".join(buf), offs


def value_matches(line: str, offs: Sequence[int], em, rule_id: str, key, s: int, e: int, strict: bool) -> Iterator:
    """Judge line[s:e] as the value of ``key`` and map any match back to text offsets."""
    for m in assignment(em, rule_id, line, key, s, e, strict):
        mapped = _map(m, offs)
        if mapped is not None:
            yield mapped


def _map(m, offs: Sequence[int]):
    if m.end - 1 >= len(offs):
        return None
    # A value split by a continuation maps to the span from its first to its last character.
    return Match(m.rule, offs[m.start], offs[m.end - 1] + 1, m.key)


def run_credentials(line: str, offs: Sequence[int], at: int, em, rule_id: str) -> Iterator:
    """Credentials typed inline in a shell command. A line's matches depend on its text alone:
    they are remembered by it (``Emitter.remembered``), so a history audit judges a script's line
    once, not in every version of the script."""
    found = em.remembered((rule_id, at, line), lambda: tuple(_line_credentials(line, at, em, rule_id)))
    for m in found:
        mapped = _map(m, offs)
        if mapped:
            yield mapped


def _line_credentials(line: str, at: int, em, rule_id: str) -> Iterator:
    """:func:`run_credentials` on ``line[at:]``, as offsets into ``line``."""
    if em.work is not None:
        em.work["command lines"] += 1
    seen: set[tuple[int, int]] = set()
    for s, e in uri_passwords(line[at:]):
        seen.add((at + s, at + e))
        m = em.match("connection-uri-password", line, at + s, at + e, _uri_key(line, at + s))
        if m:
            yield m
    for cmd, opt, key in _RUN_PATTERNS:
        for r in _options(cmd, opt, line, at) if cmd else opt.finditer(line, at):
            s, e = r.span("pw")
            if (s, e) in seen or not (is_literal(line[s:e]) if key else judge(line[s:e], r.group("key"))):
                continue
            seen.add((s, e))
            m = em.match(rule_id, line, s, e, key or r.group("key"))
            if m:
                yield m
    claimed = Spans(seen)
    for a in _RUN_ASSIGN.finditer(line, at):
        s, e = a.span("val")
        if e > s and line[s] in "\"'":
            s, e = s + 1, e - 1
        if claimed.overlapping(s, e) is not None:
            continue
        yield from assignment(em, rule_id, line, a.group("key"), s, e, False)


def _options(cmd: "re.Pattern[str]", opt: "re.Pattern[str]", line: str, at: int) -> Iterator["re.Match[str]"]:
    """Matches of ``opt`` that start after a match of ``cmd`` in the same shell command, in
    order: the first option after a command word, then the first after the next command word
    past it. Each search goes on from where the last one stopped: a search from a later point
    finds the same next option, so it is not repeated."""
    pos, seg_end = at, -1
    o: "Optional[re.Match[str]]" = None
    searched = len(line) + 1  # where ``o`` was searched from
    while (c := cmd.search(line, pos)) is not None:
        if c.end() > seg_end:
            end = _COMMAND_END.search(line, c.end())
            seg_end = end.start() if end else len(line)
            if line[seg_end : seg_end + 1] == "\n":
                seg_end += 1  # the option's leading blank may be that newline
        if not (searched <= c.end() and (o is None or o.start() >= c.end())):
            o, searched = opt.search(line, c.end()), c.end()
        if o is None:
            return
        if o.start() >= seg_end:
            pos = seg_end
            continue
        yield o
        pos = o.end()


def _uri_key(line: str, pw_start: int) -> str:
    # The URI's scheme is a little before its password (not searched for from the line's start:
    # a line of many URIs would cost the square of its length); tried only where a run of scheme
    # characters starts, not from inside it (the square of a long user name).
    window = line[max(0, pw_start - URI_REACH) : pw_start]
    m = re.search(r"(?<![a-z0-9+.-])[0-9+.-]*([a-z][a-z0-9+.-]*)://[^\s]*$", window, re.I | re.ASCII)
    scheme = m.group(1).split("+")[0].upper() if m else "URL"
    return f"{scheme}_PASSWORD"


# Comment lines of shell, YAML, Makefiles, PowerShell, Groovy (Jenkinsfile) and batch files: a
# password-like word in a comment is not enough (engine.context judges comments the same way).
_COMMENT = re.compile(r"\s*(?:#|//|::|rem\s)", re.ASCII | re.IGNORECASE)


# A line ending in an escape character (then blanks) may continue on the next one.
_CONTINUED = re.compile(r"[\\`][ \t\r\x0b\x0c]*$", re.MULTILINE)


def detect(chunk, em) -> Iterator:
    if not wants_commands(chunk.path):
        return
    text = decode(chunk.data)
    if _CONTINUED.search(text) is None:
        yield from _single_lines(text, em)
        return
    for line, offs in logical_lines(text):
        if not _COMMENT.match(line):
            yield from run_credentials(line, offs, 0, em, RULE)


def _single_lines(text: str, em) -> Iterator:
    """:func:`detect` for a text none of whose lines continues (each line is a command): the
    lines known to hold nothing (``Emitter.nothing_in``) are passed over in bulk, so that each
    version of a script in a history audit costs about its new lines."""
    lines = text.split("\n")
    quiet = em.nothing_in(RULE)
    todo = [i for i, raw in enumerate(lines) if raw not in quiet]
    if not todo:
        return
    ends = list(accumulate(map(len, lines)))  # line i starts at ends[i] - len(line i) + i
    for i in todo:
        raw = lines[i]
        start = ends[i] - len(raw) + i
        line = raw[:-1] if raw.endswith("\r") else raw
        found = () if _COMMENT.match(line) else tuple(run_credentials(line, range(start, start + len(line)), 0, em, RULE))
        if not found:
            em.holds_nothing(RULE, raw)
        yield from found
