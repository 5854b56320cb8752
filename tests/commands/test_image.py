"""``leakstop image``: docker-save and OCI layouts built in the test (no daemon), every layer and
the config scanned, each finding attributed to its layer and instruction."""

from __future__ import annotations

import json
import secrets
import string

import pytest

from tests.sources.history_helpers import fake_aws_key, h
from tests.sources.image_builder import config_doc, docker_save, layer_tar, oci_layout


def fake_password() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(14)) + "!9"


@pytest.fixture
def image_parts():
    key, env_key, arg_pw = fake_aws_key(), fake_aws_key(), fake_password()
    base = layer_tar({"etc/os-release": b"NAME=Debian\n"})
    added = layer_tar({"app/settings.py": f"AWS_ACCESS_KEY_ID = '{key}'\n".encode(), "app/main.py": b"print(1)\n"})
    removed = layer_tar({"app/settings.py": None})
    history = ["/bin/sh -c #(nop) ADD file:abc in / ",
               "COPY app/ /app/ # buildkit",
               f"RUN |1 DB_PASSWORD={arg_pw} /bin/sh -c rm /app/settings.py",
               "/bin/sh -c #(nop)  CMD [\"python\"]"]
    # Three layers: the ADD, the COPY, the RUN (the #(nop) CMD makes none).
    history = [history[0].replace("#(nop) ", ""), history[1], history[2], history[3]]
    layers = [base, added, removed]
    config = config_doc(layers, env=["PATH=/usr/bin", f"AWS_ACCESS_KEY_ID={env_key}"], history=history)
    return {"key": key, "env_key": env_key, "arg_pw": arg_pw, "layers": layers, "config": config}


def by_layer(doc: dict) -> dict:
    return {(f["layer"], f["path"], f["rule_id"]): f for f in doc["findings"]}


def check_report(doc: dict, digests: list[str], parts: dict) -> None:
    found = doc["findings"]
    layered = [f for f in found if f["layer"] == digests[1]]
    assert len(layered) == 1 and layered[0]["path"] == "app/settings.py"
    f = layered[0]
    assert f["instruction"] == "COPY app/ /app/ # buildkit" and f["deleted_in_layer"] == digests[2]
    assert f["image"] in ("app:1",)
    config = [f for f in found if f["layer"] == "config"]
    paths = {c["path"] for c in config}
    assert "config/.env" in paths, paths  # the ENV token
    assert "config/Dockerfile" in paths, paths  # the build arg kept in the history
    assert doc["stats"]["layers_scanned"] == 3 and doc["stats"]["images_scanned"] == 1
    text = json.dumps(doc)
    assert all(h(v) not in text and v not in text for v in (parts["key"], parts["env_key"], parts["arg_pw"]))


def test_docker_save_archive(run_cli, tmp_path, image_parts):
    archive = tmp_path / "app.tar"
    digests = docker_save(archive, image_parts["layers"], image_parts["config"])
    r = run_cli("image", "-f", "json", str(archive))
    assert r.code == 1, r.err
    check_report(json.loads(r.out), digests, image_parts)


@pytest.mark.parametrize("as_tar", [False, True])
def test_oci_layout_with_gzip_layers(run_cli, tmp_path, image_parts, as_tar):
    from tests.sources.image_builder import config_doc

    gz = [layer_tar(_files(l), compress=True) for l in image_parts["layers"]]
    config = config_doc(gz, env=json.loads(image_parts["config"])["config"]["Env"],
                        history=[h["created_by"] for h in json.loads(image_parts["config"])["history"]])
    target = tmp_path / ("oci.tar" if as_tar else "oci")
    if not as_tar:
        target.mkdir()
    digests = oci_layout(target, gz, config, as_tar=as_tar)
    r = run_cli("image", "-f", "json", str(target))
    assert r.code == 1, r.err
    check_report(json.loads(r.out), digests, image_parts)


def _files(layer: bytes) -> dict:
    import io
    import tarfile

    out = {}
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        for m in tar:
            base = m.name.rsplit("/", 1)[-1]
            if base.startswith(".wh."):
                out[m.name.replace(".wh.", "")] = None
            else:
                out[m.name] = tar.extractfile(m).read()
    return out


def test_squashed_reads_only_what_a_container_sees(run_cli, tmp_path, image_parts):
    archive = tmp_path / "app.tar"
    docker_save(archive, image_parts["layers"], image_parts["config"])
    doc = json.loads(run_cli("image", "--squashed", "-f", "json", str(archive)).out)
    assert not [f for f in doc["findings"] if f["path"] == "app/settings.py"]
    assert [f for f in doc["findings"] if f["layer"] == "config"]  # the config is still the image's


def test_an_opaque_directory_removes_the_lower_content(run_cli, tmp_path):
    key = fake_aws_key()
    layers = [layer_tar({"srv/keys.env": f"AWS_ACCESS_KEY_ID={key}\n".encode()}),
              layer_tar({"srv/.wh..wh..opq": b"", "srv/other.txt": b"hi\n"})]
    archive = tmp_path / "a.tar"
    digests = docker_save(archive, layers, config_doc(layers, env=[], history=["COPY a", "COPY b"]))
    doc = json.loads(run_cli("image", "-f", "json", str(archive)).out)
    assert [f["deleted_in_layer"] for f in doc["findings"]] == [digests[1]]
    assert json.loads(run_cli("image", "--squashed", "-f", "json", str(archive)).out)["findings"] == []


def test_clean_image_exits_0(run_cli, tmp_path):
    layers = [layer_tar({"etc/hostname": b"box\n"})]
    archive = tmp_path / "a.tar"
    docker_save(archive, layers, config_doc(layers, env=["PATH=/bin"], history=["ADD x"]))
    r = run_cli("image", str(archive))
    assert r.code == 0 and "1 files scanned" in r.err


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("not a tar"), "not an image archive"),
    (lambda p: None, "no such file"),
])
def test_bad_input_is_one_line_exit_2(run_cli, tmp_path, make, message):
    target = tmp_path / "x.tar"
    make(target)
    r = run_cli("image", str(target))
    assert r.code == 2 and message in r.err and "Traceback" not in r.err


def test_a_tar_that_is_not_an_image(run_cli, tmp_path):
    import tarfile

    target = tmp_path / "plain.tar"
    with tarfile.open(target, "w") as tar:
        tar.add(__file__, arcname="x.py")
    r = run_cli("image", str(target))
    assert r.code == 2 and "neither a docker save archive" in r.err


def test_manifest_cannot_point_outside_the_layout(run_cli, tmp_path):
    root = tmp_path / "oci"
    root.mkdir()
    (root / "oci-layout").write_text("{}")
    (root / "index.json").write_text(json.dumps({"manifests": [{"digest": "sha256:../../etc"}]}))
    r = run_cli("image", str(root))
    assert r.code == 2 and "invalid digest" in r.err


def test_min_confidence_applies_to_images(run_cli, tmp_path):
    """A fixture-like password in an image's test file is low: reported only at --min-confidence low."""
    layers = [layer_tar({"app/tests/test_db.py": b"password = 'supersecret1'\n"})]
    archive = tmp_path / "app.tar"
    docker_save(archive, layers, config_doc(layers, env=["PATH=/usr/bin"], history=["COPY app/ /app/"]))
    r = run_cli("image", "-f", "json", str(archive))
    assert r.code == 0 and json.loads(r.out)["stats"]["below_min_confidence"] == 1, r.err
    r = run_cli("image", "-f", "json", "--min-confidence", "low", str(archive))
    assert r.code == 1 and [f["confidence"] for f in json.loads(r.out)["findings"]] == ["low"]
