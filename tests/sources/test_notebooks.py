"""Jupyter notebooks: cell sources and outputs scanned as their own text, findings naming the
cell and the line within it; remediation lists a notebook cell as a manual step."""

from __future__ import annotations

import json

from scanner.sources.notebooks import cells
from tests.sources.history_helpers import fake_aws_key


def notebook(key: str) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3"}},
            "cells": [{"cell_type": "markdown", "source": ["# Notes\n", "nothing\n"]},
                      {"cell_type": "code", "source": ["import os\n", "x = 1\n", f"key = '{key}'\n"], "outputs": []},
                      {"cell_type": "code", "source": "print(os.environ)", "outputs": [
                          {"output_type": "stream", "name": "stdout", "text": ["PATH=/bin\n", f"AWS_ACCESS_KEY_ID={key}\n"]},
                          {"output_type": "execute_result", "data": {"text/plain": ["'ok'"], "image/png": "iVBOR"}}]}]}


def test_cells_and_outputs_are_separate_texts():
    parts = dict(cells("n.ipynb", json.dumps(notebook("AKIA-TEST")).encode()))
    assert parts["n.ipynb#cell2"] == b"import os\nx = 1\nkey = 'AKIA-TEST'\n"
    assert parts["n.ipynb#cell3/output1"].endswith(b"AWS_ACCESS_KEY_ID=AKIA-TEST\n")
    assert parts["n.ipynb#cell3/output2"] == b"'ok'"  # images are left out
    assert "n.ipynb#metadata" in parts


def test_not_a_notebook_is_scanned_as_it_is():
    assert cells("x.ipynb", b"{not json") is None and cells("x.json", b"{}") is None
    assert cells("x.ipynb", b'{"cells": 3}') is None


def test_scan_names_cell_and_line(run_cli, tmp_path):
    key = fake_aws_key()
    (tmp_path / "analysis.ipynb").write_text(json.dumps(notebook(key), indent=1))
    r = run_cli("scan", "-f", "json", str(tmp_path))
    where = [(f["path"][len(str(tmp_path)) + 1 :], f["line"], f["column"]) for f in json.loads(r.out)["findings"]]
    assert r.code == 1 and where == [("analysis.ipynb#cell2", 3, 8), ("analysis.ipynb#cell3/output1", 2, 19)]
    assert key not in r.out + r.err


def test_remediation_lists_a_notebook_cell_as_a_manual_step(run_cli, tmp_path, monkeypatch):
    key = fake_aws_key()
    (tmp_path / "analysis.ipynb").write_text(json.dumps(notebook(key), indent=1))
    before = (tmp_path / "analysis.ipynb").read_bytes()
    monkeypatch.chdir(tmp_path)
    r = run_cli("remediate", ".", "--project", "p", "--env", "e")
    assert "manual: analysis.ipynb#cell2:3" in r.out and key not in r.out + r.err
    assert (tmp_path / "analysis.ipynb").read_bytes() == before
