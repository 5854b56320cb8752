"""Container images written with tarfile, as `docker save` and OCI layouts store them: test data
built at run time (no daemon, no registry)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path


def layer_tar(files: dict[str, bytes | None], compress: bool = False) -> bytes:
    """A layer: path -> content; ``None`` writes a whiteout for that path (removal)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path, data in files.items():
            if data is None:
                parent, _, base = path.rpartition("/")
                path, data = (f"{parent}/" if parent else "") + f".wh.{base}", b""
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    return gzip.compress(raw, mtime=0) if compress else raw


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def config_doc(layers: list[bytes], env: list[str], history: list[str], labels: dict | None = None) -> bytes:
    """``history``: one created_by per layer, in order (plus ``#(nop)`` entries without layers)."""
    hist = [{"created_by": h, **({"empty_layer": True} if "#(nop)" in h else {})} for h in history]
    return json.dumps({"architecture": "amd64", "os": "linux",
                       "config": {"Env": env, "Labels": labels or {}},
                       "rootfs": {"type": "layers", "diff_ids": [sha(l) for l in layers]},
                       "history": hist}).encode()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def docker_save(path: Path, layers: list[bytes], config: bytes, tag: str = "app:1") -> list[str]:
    """The classic `docker save` layout (ID/layer.tar, manifest.json); returns the layer digests
    leakstop reports (the diff ids)."""
    cfg_name = hashlib.sha256(config).hexdigest() + ".json"
    names = [f"{hashlib.sha256(l).hexdigest()[:12]}/layer.tar" for l in layers]
    with tarfile.open(path, "w") as tar:
        _add(tar, cfg_name, config)
        for name, data in zip(names, layers):
            _add(tar, name, data)
        _add(tar, "manifest.json", json.dumps([{"Config": cfg_name, "RepoTags": [tag], "Layers": names}]).encode())
    return [sha(l) for l in layers]


def oci_layout(root: Path, layers: list[bytes], config: bytes, as_tar: bool = False) -> list[str]:
    """An OCI image layout (gzip layers given as they are); a directory, or a tar of one."""
    blobs = {sha(config): config, **{sha(l): l for l in layers}}
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config), "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(l), "size": len(l)} for l in layers]}).encode()
    blobs[sha(manifest)] = manifest
    index = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": sha(manifest), "size": len(manifest),
                        "annotations": {"org.opencontainers.image.ref.name": "app:1"}}]}).encode()
    files = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}', "index.json": index,
             **{f"blobs/sha256/{d.split(':')[1]}": b for d, b in blobs.items()}}
    if as_tar:
        with tarfile.open(root, "w") as tar:
            for name, data in files.items():
                _add(tar, name, data)
    else:
        for name, data in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
    return [sha(l) for l in layers]
