"""``leakstop audit``: many repositories' histories in one report, locally and on a real Dask
cluster (a scheduler and two worker processes on 127.0.0.1, started here)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, git
from tests.fakes import aws_key_id

N_REPOS = 20


def fake_key() -> str:
    return aws_key_id()


def make_repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    for name, text in files.items():
        (path / name).write_text(text)
        git(path, "add", name)
        git(path, "commit", "-qm", f"add {name}")
    return path


@pytest.fixture(scope="module")
def org(tmp_path_factory) -> tuple[list[Path], set[str]]:
    """Twenty repositories with planted (fake) keys, and one missing a blob it needs."""
    root = tmp_path_factory.mktemp("org")
    repos, keys = [], set()
    for i in range(N_REPOS):
        key = fake_key()
        keys.add(key)
        repos.append(make_repo(root / f"repo{i:02d}", {"README.md": f"# repo {i}\n", "app.py": f"KEY = '{key}'\n"}))
    broken = make_repo(root / "broken", {"a.py": f"KEY = '{fake_key()}'\n", "b.txt": "hello\n"})
    blob = git(broken, "rev-parse", "HEAD:b.txt").strip()
    (broken / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    return repos + [broken], keys


@pytest.fixture(scope="module")
def monorepo(tmp_path_factory) -> tuple[Path, set[str]]:
    """One repository of many blobs over several commits: keys in files, a file edited several
    times, a key removed later, and a file named after its key (its path is shown masked)."""
    path = tmp_path_factory.mktemp("mono") / "mono"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    keys = {fake_key() for _ in range(4)}
    k1, k2, k3, k4 = sorted(keys)
    for c in range(6):
        for i in range(20):
            (path / f"pkg{i % 5}").mkdir(exist_ok=True)
            (path / f"pkg{i % 5}" / f"m{i}.py").write_text(f"x = {c * i}\n" + "y = 1\n" * i)
        if c == 1:
            (path / "pkg0" / "settings.py").write_text(f"AWS = '{k1}'\n")
            (path / f"{k2}.txt").write_text(f"key {k2}\n")
        if c == 3:
            (path / "pkg0" / "settings.py").write_text("AWS = None\n")
            (path / "pkg3" / "cfg.env").write_text(f"A={k3}\nB={k4}\n")
        git(path, "add", "-A")
        git(path, "commit", "-qm", f"c{c}")
    return path, keys


def test_a_large_repository_split_into_blob_ranges_reports_what_one_unit_does(monorepo, tmp_path):
    """Past --split-blobs the repository is enumerated here and its blobs scanned by several
    workers in ranges: the same findings (first commits, paths shown masked, removals, counts)."""
    path, keys = monorepo
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    whole = audit("-f", "json", "--full", "--split-blobs", "0", str(path), cwd=tmp_path / "a")
    split = audit("-f", "json", "--full", "--split-blobs", "30", "-j", "2", str(path), cwd=tmp_path / "b")
    assert whole.returncode == split.returncode == 1, split.stderr[-800:]
    a, b = json.loads(whole.stdout), json.loads(split.stdout)
    assert a["findings"] == b["findings"] and len(a["findings"]) == 4
    assert a["stats"]["blobs_scanned"] == b["stats"]["blobs_scanned"] > 60
    assert any(f.get("removed_commit") for f in b["findings"]) and any(f["path"].endswith(".txt") for f in b["findings"])
    assert not any(k in split.stdout + split.stderr for k in keys)  # the path named after a key is masked too


def audit(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(cwd / "cache")}
    return subprocess.run([sys.executable, "-m", "scanner", "audit", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=600)


def findings_of(out: str) -> list[tuple]:
    doc = json.loads(out)
    return [(f["repository"], f["path"], f["line"], f["fingerprint"], f["commit"]["sha"]) for f in doc["findings"]]


def test_local_audit_merges_every_repository_and_reports_the_broken_one(org, tmp_path):
    repos, keys = org
    r = audit("-f", "json", "-j", "2", *map(str, repos), cwd=tmp_path)
    assert r.returncode == 1, r.stderr[-500:]
    found = findings_of(r.stdout)
    doc = json.loads(r.stdout)
    # (stderr, masked like every output, says why a repository is missing: seen once in CI)
    assert len({f[0] for f in found}) == N_REPOS + 1, r.stderr[-3000:]  # the broken one reports what it read
    assert "broken: 1 blob(s) missing" in r.stderr
    assert doc["stats"]["repositories"] == N_REPOS + 1 and doc["stats"]["repositories_failed"] == 0, r.stderr[-3000:]
    assert not any(k in r.stdout + r.stderr for k in keys)


def test_a_rerun_reads_only_what_changed(org, tmp_path):
    repos, _ = org
    first = audit("-f", "json", "-j", "1", *map(str, repos[:3]), cwd=tmp_path)
    again = audit("-f", "json", "-j", "1", *map(str, repos[:3]), cwd=tmp_path)
    assert findings_of(again.stdout) == findings_of(first.stdout)
    assert json.loads(again.stdout)["stats"]["blobs_scanned"] == 0


def test_git_urls_are_cloned_once_and_fetched_after(org, tmp_path):
    repos, _ = org
    url = f"file://{repos[0]}"
    r = audit("-f", "json", url, cwd=tmp_path)
    assert r.returncode == 1 and findings_of(r.stdout)[0][0] == url
    clones = list((tmp_path / "cache" / "leakstop" / "audit").iterdir())
    assert len(clones) == 1
    assert audit("-f", "json", url, cwd=tmp_path).returncode == 1


def test_nothing_scannable_is_exit_2_and_a_repos_file(tmp_path):
    (tmp_path / "list.txt").write_text("# repositories\n" + str(tmp_path / "nope") + "\n\n")
    r = audit("--repos-file", str(tmp_path / "list.txt"), cwd=tmp_path)
    assert r.returncode == 2 and "no repository could be scanned" in r.stderr and "Traceback" not in r.stderr
    assert audit(cwd=tmp_path).returncode == 2


def test_sarif_has_one_run_per_repository_and_html_ranks_them(org, tmp_path):
    repos, _ = org
    r = audit("-f", "sarif", "-j", "2", *map(str, repos[:3]), cwd=tmp_path)
    runs = json.loads(r.stdout)["runs"]
    assert [run["properties"]["repository"] for run in runs] == [str(p) for p in repos[:3]]
    html = audit("-f", "html", "-j", "2", *map(str, repos[:3]), cwd=tmp_path).stdout
    assert "Repositories by live secrets" in html


# -- on a real cluster ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask() -> str:
    pytest.importorskip("distributed", reason="Dask distributed is not installed (pip install -e '.[test]')")
    exe = Path(sys.executable).with_name("dask")
    if not exe.exists():
        pytest.skip("the dask command is not installed beside this Python")
    return str(exe)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """`dask scheduler` and two `dask worker` processes on loopback; yields (address, workers)."""
    dask = _dask()
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    log = tmp_path_factory.mktemp("dask")
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              env=env, stdout=open(log / "scheduler.log", "w"), stderr=subprocess.STDOUT,
                              start_new_session=True)]
    workers = []
    for i in range(2):
        workers.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-nanny",
                                         "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{i}"],
                                        env=env, stdout=open(log / f"worker{i}.log", "w"), stderr=subprocess.STDOUT,
                                        start_new_session=True))
    procs += workers
    from distributed import Client

    deadline = time.monotonic() + 120
    while True:
        try:
            with Client(address, timeout="5s") as c:
                if len(c.scheduler_info()["workers"]) == 2:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the Dask cluster did not start: {(log / 'scheduler.log').read_text()[-500:]}")
        time.sleep(0.5)
    yield address, workers
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def test_cluster_run_equals_the_local_run(org, cluster, tmp_path):
    repos, keys = org
    address, _ = cluster
    (tmp_path / "l").mkdir()
    (tmp_path / "r").mkdir()
    local = audit("-f", "json", "-j", "2", *map(str, repos), cwd=tmp_path / "l")
    remote = audit("-f", "json", "--cluster", address, *map(str, repos), cwd=tmp_path / "r")
    assert remote.returncode == 1, remote.stderr[-800:]
    assert findings_of(remote.stdout) == findings_of(local.stdout)
    assert "broken: 1 blob(s) missing" in remote.stderr
    assert not any(k in remote.stdout + remote.stderr for k in keys)


def test_a_worker_killed_mid_run_changes_nothing(org, cluster, tmp_path):
    repos, _ = org
    address, workers = cluster
    expected = audit("-f", "json", "-j", "2", *map(str, repos), cwd=tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(run_dir / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "scanner", "audit", "-f", "json", "--cluster", address,
                             *map(str, repos)], cwd=run_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    time.sleep(3)  # the units are spread over both workers by now
    os.killpg(workers[0].pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 1, err[-800:]
    assert findings_of(out) == findings_of(expected.stdout)


def test_min_confidence_judges_the_merged_report(tmp_path):
    """A fixture-like password in one repository's tests is low (left out by default, counted) and
    reported with --min-confidence low; a key in application code is reported either way."""
    key = fake_key()
    one = make_repo(tmp_path / "one", {"app.py": f"KEY = '{key}'\n"})
    two = make_repo(tmp_path / "two", {"test_db.py": "password = 'supersecret1'\n"})
    r = audit("-f", "json", "-j", "1", str(one), str(two), cwd=tmp_path)
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and [f["confidence"] for f in doc["findings"]] == ["high"], r.stderr[-500:]
    assert doc["stats"]["below_min_confidence"] == 1
    r = audit("-f", "json", "-j", "1", "--min-confidence", "low", str(one), str(two), cwd=tmp_path)
    assert sorted(f["confidence"] for f in json.loads(r.stdout)["findings"]) == ["high", "low"]


def test_a_large_repository_spreads_over_the_cluster(monorepo, cluster, tmp_path):
    """Blob ranges as units on the cluster: the report equals the local run's."""
    path, keys = monorepo
    address, _ = cluster
    (tmp_path / "l").mkdir()
    (tmp_path / "r").mkdir()
    local = audit("-f", "json", "--full", "--split-blobs", "0", str(path), cwd=tmp_path / "l")
    remote = audit("-f", "json", "--full", "--split-blobs", "30", "--cluster", address, str(path), cwd=tmp_path / "r")
    assert remote.returncode == 1, remote.stderr[-800:]
    assert json.loads(remote.stdout)["findings"] == json.loads(local.stdout)["findings"]
    assert not any(k in remote.stdout + remote.stderr for k in keys)
