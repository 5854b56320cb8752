"""JUnit XML for CI systems that show test results (Jenkins, GitLab, Azure Pipelines, CircleCI):
one test suite per command, one failing test case per finding, a passing case when clean."""

from __future__ import annotations

import re
from typing import Sequence
from xml.sax.saxutils import escape, quoteattr

from scanner.display import display_path
from scanner.models import Finding

# XML 1.0 cannot carry most control characters, even escaped: a file name holding one would make
# the whole report unreadable, so they are shown as \xNN.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _attr(text: str) -> str:
    return quoteattr(_clean(text))


def case(f: Finding) -> str:
    where = f"{display_path(f.path)}:{f.line}:{f.column}"
    detail = [f"{where}: {f.description}: {f.masked}"]
    if f.key:
        detail.append(f"key: {f.key}")
    detail.append(f"confidence: {f.confidence}")
    if f.commit:
        detail.append(f"commit {f.commit.sha} by {f.commit.author} on {f.commit.date}")
    body = escape(_clean("\n".join(detail)))
    return (f'    <testcase classname={_attr(display_path(f.path))} name={_attr(f"{f.rule_id} at line {f.line}")}>\n'
            f'      <failure type={_attr(f.rule_id)} message={_attr(f"{f.description} ({f.severity})")}>{body}</failure>\n'
            f"    </testcase>\n")


def render(findings: Sequence[Finding], ctx) -> str:
    name = f"leakstop {ctx.command}"
    cases = "".join(case(f) for f in findings) or '    <testcase classname="leakstop" name="no secrets found"/>\n'
    tests = max(len(findings), 1)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name={_attr(name)} tests="{tests}" failures="{len(findings)}">\n'
            f'  <testsuite name={_attr(name)} tests="{tests}" failures="{len(findings)}" errors="0" skipped="0">\n'
            f"{cases}  </testsuite>\n</testsuites>\n")
