"""The bypass suite's harness: plant a fresh secret with an attacker's trick, then check that every
way leakstop guards a repository still finds it.

A :class:`Scenario` is a base commit (``base`` files) and an ``attack``: a function that, given an
:class:`Attack` (the repository, with helpers to write files, commit, branch and merge) and the
secret, leaves the change that plants the secret uncommitted in the work tree (a merge may be in
progress). The harness then stages everything and runs each mode:

- ``staged``:  ``leakstop diff --staged`` (the pre-commit hook), before the final commit;
- ``range``:   action.yml's scan step itself (its bash script, env and input defaults read from
  action.yml), after the final commit, with base = the pull request's base (``Attack.pr_base``,
  default: the base commit) and head = HEAD;
- ``commit``:  ``leakstop diff HEAD`` (the final commit alone);
- ``scan``:    ``leakstop scan .`` at the repository's top (HEAD checked out);
- ``history``: ``leakstop history`` of the repository.

Each mode must exit 1 and report a finding at the scenario's ``path``; no output may hold the raw
value. A mode can be left out with a reason (``skip``): e.g. a configuration trick is out of
scope for ``scan``, which audits with the repository's own configuration by design.

Adding a scenario: write a ``tests/bypass/test_<topic>.py`` with a list of scenarios and::

    @pytest.mark.parametrize("scenario, mode", cases(SCENARIOS))
    def test_bypass(bypass, scenario, mode):
        bypass(scenario, mode)

Secrets come from :func:`fresh_secret` (random at run time, never a literal in the suite).
"""

from __future__ import annotations

import json
import os
import re
import secrets as _random
import shlex
import string
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence, Union

import pytest

from tests.fakes import aws_key_id, checksummed

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
MODES = ("staged", "range", "commit", "scan", "history")
Content = Union[str, bytes]

_ALNUM = string.ascii_letters + string.digits
_B64 = _ALNUM + "+/"


# -- secrets ---------------------------------------------------------------------------------
def _pick(alphabet: str, n: int) -> str:
    return "".join(_random.choice(alphabet) for _ in range(n))


def _private_key() -> str:
    body = "\n".join(_pick(_B64, 64) for _ in range(6))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"


# kind -> generator of a random value of that shape (fake: random, never a live credential)
SECRET_KINDS: dict[str, Callable[[], str]] = {
    "github": lambda: checksummed("ghp_", _random.choice),  # a valid checksum, as issued tokens have
    "aws": aws_key_id,  # structure-valid: never dropped as filler by chance
    "private-key": _private_key,
}


def fresh_secret(kind: str = "github") -> str:
    return SECRET_KINDS[kind]()


def leak_probes(secret: str) -> list[str]:
    """What must never appear in any output: the value, or (for a multi-line value) any of its
    long lines."""
    lines = [ln for ln in secret.splitlines() if len(ln) >= 16 and not ln.startswith("-----")]
    return [secret] + lines


# -- repositories ----------------------------------------------------------------------------
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Dev One", "GIT_AUTHOR_EMAIL": "dev@example.com",
    "GIT_COMMITTER_NAME": "Dev One", "GIT_COMMITTER_EMAIL": "dev@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env={**os.environ, **_GIT_ENV}
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args[:2])} failed: {proc.stderr.strip()[:300]}")
    return proc.stdout


class Attack:
    """The repository as the attacker sees it, after the base commit, on branch ``main``."""

    def __init__(self, repo: Path, base: str) -> None:
        self.repo = repo
        self.base = base
        self.pr_base = base  # what action.yml gets as the base revision

    def write(self, files: dict[str, Optional[Content]]) -> None:
        """Write (or, for None, delete) files in the work tree."""
        for rel, content in files.items():
            path = self.repo / rel
            if content is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")

    def git(self, *args: str, check: bool = True) -> str:
        return git(self.repo, *args, check=check)

    def commit(self, files: Optional[dict[str, Optional[Content]]] = None, msg: str = "change") -> str:
        if files:
            self.write(files)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", msg)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def branch(self, name: str, start: str = "HEAD") -> None:
        self.git("checkout", "-q", "-b", name, start)

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)

    def leakstop(self, *args: str) -> str:
        """Run the leakstop CLI in the repository (e.g. ``baseline create``), as the attacker would."""
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([sys.executable, "-m", "scanner", *args], cwd=self.repo, env=env,
                              capture_output=True, text=True)
        assert proc.returncode in (0, 1), f"leakstop {args[0]} failed: {proc.stderr.strip()[-300:]}"
        return proc.stdout

    def merge(self, other: str) -> bool:
        """Start merging ``other`` without committing; True when it stopped on conflicts."""
        out = self.git("merge", "--no-ff", "--no-commit", other, check=False)
        return "CONFLICT" in out


@dataclass(frozen=True)
class Scenario:
    name: str
    base: dict[str, Content]
    attack: Callable[[Attack, str], None]
    path: str  # where the planted secret is reported (repository-relative)
    kind: str = "github"
    skip: dict[str, str] = field(default_factory=dict)  # mode -> why it does not apply
    action_inputs: dict[str, str] = field(default_factory=dict)  # action.yml inputs (by name)
    diff_args: tuple[str, ...] = ()  # extra options for the staged and commit modes (e.g. --baseline)
    check: Optional[Callable[[str, list[dict], "Prepared"], None]] = None  # extra assertions per mode

    def __repr__(self) -> str:  # pytest ids and messages: never the attack's contents
        return self.name


@dataclass
class Prepared:
    repo: Path
    secret: str
    base: str  # the pull request's base commit
    head: Optional[str]  # None: staged, not committed
    staged_lines: dict[str, set[int]] = field(default_factory=dict)


def cases(scenarios: Iterable[Scenario], modes: Sequence[str] = MODES) -> list:
    """pytest parameters (scenario, mode); modes a scenario skips are marked skip with the reason."""
    out = []
    for sc in scenarios:
        for mode in modes:
            marks = [pytest.mark.skip(reason=sc.skip[mode])] if mode in sc.skip else []
            out.append(pytest.param(sc, mode, id=f"{sc.name}-{mode}", marks=marks))
    return out


def prepare(sc: Scenario, root: Path, commit: bool) -> Prepared:
    repo = root / "repo"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    for key, value in (("user.name", "Dev One"), ("user.email", "dev@example.com"), ("commit.gpgsign", "false")):
        git(repo, "config", key, value)
    attack = Attack(repo, "")
    attack.write(dict(sc.base))
    attack.base = attack.pr_base = attack.commit(msg="base")
    secret = fresh_secret(sc.kind)
    sc.attack(attack, secret)
    attack.git("add", "-A")
    head = None
    if commit:
        # Concludes a merge in progress too (a merge commit with both parents).
        attack.git("commit", "-q", "--no-edit", "--allow-empty", "-m", "attack")
        head = attack.head()
    return Prepared(repo, secret, attack.pr_base, head)


# -- running the modes -------------------------------------------------------------------------
@dataclass
class Outcome:
    code: int
    findings: list[dict]  # each with at least rule_id, path, line
    outputs: list[str]  # everything written, searched for the raw value


def _from_json(report: Path) -> list[dict]:
    return json.loads(report.read_text(encoding="utf-8"))["findings"]


def run_leakstop(run_cli, sc: Scenario, prep: Prepared, mode: str, work: Path) -> Outcome:
    """``staged``, ``commit``, ``scan`` or ``history`` in-process, JSON report to a file."""
    report = work / f"{mode}.json"
    args = {
        "staged": ["diff", "--staged", *sc.diff_args],
        "commit": ["diff", "HEAD", *sc.diff_args],
        "scan": ["scan", "."],
        "history": ["history", "."],
    }[mode]
    r = run_cli(*args, "-f", "json", "-o", str(report), cwd=prep.repo)
    text = report.read_text(encoding="utf-8") if report.exists() else ""
    findings = _from_json(report) if r.code in (0, 1) and text else []
    return Outcome(r.code, findings, [r.out, r.err, text])


_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _action_value(expr: str, inputs: dict[str, str], base: str, head: str) -> str:
    """Evaluate one ``${{ a || b }}`` env expression of the scan step, as a pull_request event."""
    context = {
        "github.event.pull_request.base.sha": base,
        "github.event.pull_request.head.sha": head,
        "github.event.before": base,
        "github.sha": head,
    }
    for operand in (o.strip() for o in expr.split("||")):
        if operand.startswith("inputs."):
            value = inputs.get(operand[len("inputs."):], "")
        elif operand in context:
            value = context[operand]
        else:
            raise AssertionError(f"action.yml: the harness does not know {operand!r}; teach _action_value")
        if value:
            return value
    return ""


def _action_step() -> tuple[str, dict[str, str], dict[str, str]]:
    """action.yml's scan step: its script, its env (unevaluated) and the inputs' defaults."""
    import yaml

    doc = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    step = next(s for s in doc["runs"]["steps"] if s.get("id") == "scan")
    defaults = {name: str(spec.get("default", "")) for name, spec in doc.get("inputs", {}).items()}
    return step["run"], dict(step.get("env", {})), defaults


def _shims(work: Path) -> Path:
    """A bin directory where ``leakstop`` and ``python`` are this interpreter (the action installs
    leakstop with pip; the suite tests the checkout it runs from)."""
    bin_dir = work / "bin"
    bin_dir.mkdir(exist_ok=True)
    py = shlex.quote(sys.executable)
    for name, body in (("leakstop", f'exec {py} -m scanner "$@"'), ("python", f'exec {py} "$@"')):
        shim = bin_dir / name
        shim.write_text(f"#!/bin/sh\nPYTHONPATH={shlex.quote(str(ROOT))}${{PYTHONPATH:+:$PYTHONPATH}} {body}\n")
        shim.chmod(0o755)
    return bin_dir


def run_action(prep: Prepared, work: Path, inputs: dict[str, str]) -> Outcome:
    """Run action.yml's scan step (as GitHub runs a bash step) for a pull request base..HEAD."""
    script, env_spec, defaults = _action_step()
    values = {**defaults, **inputs}
    assert prep.head is not None
    env = {k: _EXPR.sub(lambda m: _action_value(m.group(1), values, prep.base, prep.head), str(v))
           for k, v in env_spec.items()}
    sarif = work / "leakstop.sarif"
    out_file, env_file = work / "github_output", work / "github_env"
    out_file.write_text("")
    env_file.write_text("")
    if "SARIF" in env:
        env["SARIF"] = str(sarif) if not os.path.isabs(env["SARIF"]) else env["SARIF"]
    full_env = {**os.environ, **_GIT_ENV, **env, "PATH": f"{_shims(work)}{os.pathsep}{os.environ['PATH']}",
                "GITHUB_OUTPUT": str(out_file), "GITHUB_ENV": str(env_file), "GITHUB_WORKSPACE": str(prep.repo)}
    (work / "step.sh").write_text(script)
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(work / "step.sh")],
                          cwd=prep.repo, env=full_env, capture_output=True, text=True)
    sarif_text = sarif.read_text(encoding="utf-8") if sarif.exists() else ""
    outputs = [proc.stdout, proc.stderr, sarif_text, out_file.read_text(), env_file.read_text()]
    if proc.returncode != 0:
        return Outcome(2, [], outputs)
    rc = re.search(r"^LEAKSTOP_RC=(\d+)$", env_file.read_text(), re.M)
    findings = []
    for res in json.loads(sarif_text)["runs"][0]["results"] if sarif_text else []:
        loc = res["locations"][0]["physicalLocation"]
        if res.get("properties", {}).get("kind") == "notice":
            continue  # a warning about the scan (e.g. the change modifies the configuration)
        findings.append({"rule_id": res["ruleId"], "path": loc["artifactLocation"]["uri"],
                         "line": loc["region"]["startLine"], "level": res.get("level")})
    annotated = {m.group(1) for m in re.finditer(r"^::(?:error|warning|notice) file=([^,]*),", proc.stdout, re.M)}
    for f in findings:
        f["annotated"] = f["path"] in annotated
    return Outcome(int(rc.group(1)) if rc else 2, findings, outputs)


def found(outcome: Outcome, path: str) -> list[dict]:
    """The findings reported at ``path`` (reports may prefix ``./``)."""
    return [f for f in outcome.findings if f["path"].removeprefix("./") == path]


def check_mode(run_cli, sc: Scenario, mode: str, root: Path) -> Outcome:
    """Build the scenario's repository for ``mode`` under ``root``, run the mode, assert that the
    secret is reported (exit 1, a finding at ``sc.path``) and that no output holds it."""
    prep = prepare(sc, root, commit=mode != "staged")
    work = root / "work"
    work.mkdir()
    if mode == "range":
        outcome = run_action(prep, work, sc.action_inputs)
    else:
        outcome = run_leakstop(run_cli, sc, prep, mode, work)
    probes = leak_probes(prep.secret)
    # Checked first, and without printing anything of the value.
    assert not any(p in out for out in outcome.outputs for p in probes), f"{sc.name}/{mode}: a raw value was written"
    hits = found(outcome, sc.path)
    assert outcome.code == 1 and hits, (
        f"{sc.name}: {mode} missed the planted secret (exit {outcome.code}; "
        f"findings at {sorted({f['path'] for f in outcome.findings})})"
    )
    if mode == "range":
        assert all(f["annotated"] for f in hits), f"{sc.name}: no GitHub annotation for {sc.path}"
    if sc.check is not None:
        sc.check(mode, hits, prep)
    return outcome
