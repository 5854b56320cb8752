"""Archives inside a scan: members scanned as ``outer!inner``, nested to a limit, with bombs,
traversal names and links skipped and counted."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile

from scanner.sources.archives import Limits, expand, members
from tests.sources.history_helpers import fake_aws_key

MB = 1 << 20


def zip_of(files: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def tar_of(files: dict[str, bytes], mode: str = "w:gz", links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            t.addfile(info)
    return buf.getvalue()


def listed(data: bytes, limits: Limits = Limits(10 * MB)) -> tuple[dict, list]:
    skipped: list[str] = []
    return dict(members(data, limits, skipped.append)), skipped


def test_nested_members_are_named_through_every_level():
    jar = zip_of({"conf/app.properties": b"k=v\n"})
    got, skipped = listed(tar_of({"lib/app.jar": jar, "README": b"hi\n"}))
    assert got == {"lib/app.jar!conf/app.properties": b"k=v\n", "README": b"hi\n"} and skipped == []


def test_compressed_single_files_are_their_content():
    for data in (gzip.compress(b"dump\n"), bz2.compress(b"dump\n"), lzma.compress(b"dump\n")):
        assert listed(data)[0] == {"": b"dump\n"}
    assert list(expand("db.sql.gz", gzip.compress(b"dump\n"), Limits(MB), print)) == [("db.sql.gz", b"dump\n", True)]


def test_a_zip_bomb_is_skipped_and_counted():
    bomb = zip_of({"zeros.txt": b"\0" * (50 * MB)})
    assert len(bomb) < MB  # highly compressible
    got, skipped = listed(bomb, Limits(100 * MB))
    assert got == {} and skipped == ["archive member over the compression ratio limit"]


def test_members_over_the_size_limit_and_the_expansion_budget():
    big = zip_of({"big.txt": b"x" * 2000, "small.txt": b"y"}, zipfile.ZIP_STORED)
    got, skipped = listed(big, Limits(1000))
    assert got == {"small.txt": b"y"} and skipped == ["archive member too large"]
    got, skipped = listed(tar_of({f"f{i}": b"z" * 600 for i in range(3)}), Limits(1000, total=1000))
    assert len(got) == 1 and skipped == ["archive expansion limit reached"] * 2


def test_gzip_that_claims_little_but_expands_past_the_limit():
    got, skipped = listed(gzip.compress(b"a" * 5000), Limits(1000))
    assert got == {} and skipped == ["archive member too large"]


def test_traversal_names_and_links_are_skipped():
    got, skipped = listed(tar_of({"../../etc/cron.d/x": b"evil", "/abs": b"evil", "ok.txt": b"fine"},
                                 links={"link": "/etc/shadow"}))
    assert got == {"ok.txt": b"fine"}
    assert sorted(skipped) == ["archive link"] + ["archive member with an unsafe name"] * 2


def test_nesting_past_the_depth_limit_is_counted():
    data = b"deep\n"
    for _ in range(4):
        data = zip_of({"inner.zip": data})
    got, skipped = listed(data, Limits(MB, depth=3))
    assert got == {} and skipped == ["archive nested too deep"]


def test_a_corrupt_archive_is_scanned_as_its_bytes():
    data = b"PK\x03\x04" + b"garbage AKIA" * 10
    out = list(expand("x.zip", data, Limits(MB), lambda r: None))
    assert out == [("x.zip", data, False)]


def test_scan_reports_members_and_the_summary_counts(run_cli, tmp_path):
    key = fake_aws_key()
    (tmp_path / "dist.tar.gz").write_bytes(tar_of({"lib/app.jar": zip_of({"conf/app.properties": f"aws.key={key}\n".encode()}),
                                                   "../escape.env": f"K={key}\n".encode()}))
    r = run_cli("scan", "-f", "json", str(tmp_path))
    import json

    doc = json.loads(r.out)
    assert r.code == 1 and [f["path"] for f in doc["findings"]] == [f"{tmp_path}/dist.tar.gz!lib/app.jar!conf/app.properties"]
    assert doc["stats"]["skipped"] == {"archive member with an unsafe name": 1}
    assert key not in r.out + r.err and "1 archive(s) expanded" in r.err


def test_image_layers_expand_archives(run_cli, tmp_path):
    from tests.sources.image_builder import config_doc, docker_save, layer_tar

    key = fake_aws_key()
    layers = [layer_tar({"app/lib.jar": zip_of({"creds.env": f"AWS_ACCESS_KEY_ID={key}\n".encode()})})]
    docker_save(tmp_path / "i.tar", layers, config_doc(layers, env=[], history=["COPY lib /app"]))
    import json

    doc = json.loads(run_cli("image", "-f", "json", str(tmp_path / "i.tar")).out)
    assert [f["path"] for f in doc["findings"]] == ["app/lib.jar!creds.env"]
