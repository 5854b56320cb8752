"""Container images without a daemon or a registry: a ``docker save`` archive or an OCI image
layout (a directory, or a tar of one).

What ships is the image, not the Dockerfile: a secret ``COPY``ed in and removed by a later step
still sits in the earlier layer, and a ``--build-arg`` value is kept in the config's history.
So every layer is read, in order, and every regular file in it scanned; the image config's
``Env``, ``Labels`` and ``history[].created_by`` are scanned too (the history as Dockerfile lines,
so the Dockerfile detectors judge ``ENV``/``ARG``/``RUN`` there as they do in a Dockerfile).

Each unit names its layer (the digest of the layer as stored) and the instruction that created
the layer (the history entries that made a layer, matched in order; ``empty_layer`` entries make
none). A file removed by a later layer (an AUFS whiteout ``.wh.NAME``, an opaque directory
``.wh..wh..opq``) or replaced by one is still scanned, and its findings say where it was deleted:
that is the point of scanning layers. ``squashed`` reads only what a container would see.
"""

from __future__ import annotations

import json
import posixpath
import tarfile
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from itertools import chain
from typing import Iterator, Optional, Sequence

from scanner.errors import LeakstopError
from scanner.models import Chunk, Finding
from scanner.sources.archives import Limits, expand
from scanner.sources.base import Plain, ScanStats
from scanner.sources.textify import BINARY, textify

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_JSON = 64 * 1024 * 1024  # manifest, index or config larger than this is not an image's


@dataclass(frozen=True)
class Layer:
    digest: str  # "sha256:…" of the layer blob (docker save: of its diff id when no blob digest)
    member: str  # where its tar is, inside the image archive or directory
    instruction: str  # history created_by that produced it ("" when the history does not say)


@dataclass(frozen=True)
class ImageRef:
    """One image of the archive (an archive may hold several)."""

    name: str  # its tag when the archive names one, else the config digest
    config: dict
    layers: tuple[Layer, ...]


@dataclass(frozen=True)
class Unit:
    """Something to scan and where it came from in the image."""

    chunk: Chunk
    image: str
    layer: str  # the layer digest, or "config"
    instruction: str
    index: int = -1  # the layer's position (-1: the config)


# -- reading the archive or directory -----------------------------------------------------------


class _Store:
    """Named files of the image: members of a tar, or files under a directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tar: Optional[tarfile.TarFile] = None
        if path.is_dir():
            return
        try:
            self.tar = tarfile.open(path, mode="r:*")
        except (OSError, tarfile.TarError) as exc:
            raise LeakstopError(f"{path}: not an image archive (docker save or OCI tar): {exc}") from None
        self.members = {_norm(m.name): m for m in self.tar.getmembers() if m.isfile()}

    def has(self, name: str) -> bool:
        if self.tar is None:
            return (self.path / name).is_file()
        return _norm(name) in self.members

    def open(self, name: str):
        if self.tar is None:
            target = (self.path / name).resolve()
            if self.path.resolve() not in target.parents:  # a manifest naming ../ is not followed
                raise LeakstopError(f"{self.path}: {name}: outside the image layout")
            return open(target, "rb")
        member = self.members.get(_norm(name))
        if member is None:
            raise LeakstopError(f"{self.path}: {name}: named by the manifest but not in the archive")
        return self.tar.extractfile(member)

    def json(self, name: str):
        with self.open(name) as fh:
            data = fh.read(MAX_JSON + 1)
        if len(data) > MAX_JSON:
            raise LeakstopError(f"{self.path}: {name}: too large for an image manifest or config")
        try:
            return json.loads(data)
        except ValueError:
            raise LeakstopError(f"{self.path}: {name}: not valid JSON") from None

    def close(self) -> None:
        if self.tar is not None:
            self.tar.close()


def _norm(name: str) -> str:
    """A member name as a path in the image: no leading ``./`` or ``/``, no ``..`` above the root."""
    return posixpath.normpath("/" + name).lstrip("/") or "."


def _blob(digest: str) -> str:
    algo, _, hexpart = digest.partition(":")
    if not hexpart or "/" in hexpart or ".." in hexpart:
        raise LeakstopError(f"invalid digest in the image index: {digest[:80]}")
    return f"blobs/{algo}/{hexpart}"


def _instructions(config: dict, count: int) -> list[str]:
    """The created_by of each layer-making history entry, in layer order."""
    history = [h for h in config.get("history") or [] if isinstance(h, dict) and not h.get("empty_layer")]
    made = [str(h.get("created_by", "")) for h in history]
    # A history shorter than the layers (squashed or hand-made images) attributes nothing wrongly.
    return made if len(made) == count else [""] * count


def _docker_save(store: _Store) -> list[ImageRef]:
    images = []
    for entry in store.json("manifest.json"):
        config = store.json(entry["Config"])
        members = list(entry.get("Layers") or [])
        diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
        made = _instructions(config, len(members))
        layers = []
        for i, member in enumerate(members):
            # Newer docker saves blobs/sha256/HEX; older ones ID/layer.tar with the diff id in the config.
            digest = ("sha256:" + PurePosixPath(member).name if member.startswith("blobs/sha256/")
                      else diff_ids[i] if i < len(diff_ids) else member)
            layers.append(Layer(digest, member, made[i]))
        tags = entry.get("RepoTags") or []
        images.append(ImageRef(tags[0] if tags else str(entry["Config"]), config, tuple(layers)))
    return images


def _oci(store: _Store) -> list[ImageRef]:
    images, queue, seen = [], list(store.json("index.json").get("manifests") or []), set()
    while queue:
        desc = queue.pop(0)
        digest = desc.get("digest", "")
        if digest in seen:
            continue
        seen.add(digest)
        doc = store.json(_blob(digest))
        if "manifests" in doc:  # a nested index: one manifest per platform
            queue.extend(doc["manifests"])
            continue
        config = store.json(_blob(doc["config"]["digest"]))
        descs = [d for d in doc.get("layers") or []]
        made = _instructions(config, len(descs))
        layers = tuple(Layer(d["digest"], _blob(d["digest"]), made[i]) for i, d in enumerate(descs))
        name = (desc.get("annotations") or {}).get("org.opencontainers.image.ref.name") or digest
        images.append(ImageRef(name, config, layers))
    return images


def open_image(path: Path) -> tuple[_Store, list[ImageRef]]:
    """The images of a docker-save archive or an OCI layout (directory or tar)."""
    if not path.exists():
        raise LeakstopError(f"{path}: no such file or directory")
    store = _Store(path)
    try:
        if store.has("index.json") and store.has("oci-layout"):
            images = _oci(store)
        elif store.has("manifest.json"):
            images = _docker_save(store)
        else:
            raise LeakstopError(f"{path}: neither a docker save archive (manifest.json) nor an OCI layout (index.json, oci-layout)")
    except (KeyError, TypeError, AttributeError):
        store.close()
        raise LeakstopError(f"{path}: the image manifest or index is not in the documented shape") from None
    except LeakstopError:
        store.close()
        raise
    return store, images


# -- layers ---------------------------------------------------------------------------------------


def _layer_tar(store: _Store, layer: Layer) -> tarfile.TarFile:
    fh = store.open(layer.member)
    head = fh.read(4)
    fh.seek(0)
    if head == b"\x28\xb5\x2f\xfd":
        raise LeakstopError(f"{layer.digest[:19]}: zstd-compressed layer (not supported; re-save with gzip)")
    try:
        return tarfile.open(fileobj=fh, mode="r:*")
    except tarfile.TarError as exc:
        raise LeakstopError(f"{layer.digest[:19]}: not a layer tar: {exc}") from None


def _removals(name: str) -> Optional[tuple[str, bool]]:
    """(path removed, whether the whole directory's lower content goes) for a whiteout entry."""
    base = posixpath.basename(name)
    parent = posixpath.dirname(name)
    if base == OPAQUE:
        return (parent, True)
    if base.startswith(WHITEOUT):
        return (posixpath.join(parent, base[len(WHITEOUT):]), False)
    return None


def _under(path: str, directory: str) -> bool:
    return directory in ("", ".") or path == directory or path.startswith(directory + "/")


@dataclass
class Listing:
    """Per layer read so far: the regular files it adds and what it removes (names only), to say
    which later layer removed or replaced a file."""

    files: list[set[str]] = field(default_factory=list)
    removed: list[list[str]] = field(default_factory=list)

    def add(self, files: set[str], removed: list[str]) -> None:
        self.files.append(files)
        self.removed.append(removed)

    def gone_after(self, index: int, path: str) -> Optional[int]:
        """The first layer after ``index`` that removes or replaces ``path``."""
        for j in range(index + 1, len(self.files)):
            if path in self.files[j] or any(_under(path, gone) for gone in self.removed[j]):
                return j
        return None


def _removed(name: str) -> Optional[str]:
    """What a whiteout entry removes from the layers below: a path (and all under it), or for an
    opaque marker the directory's whole lower content."""
    base, parent = posixpath.basename(name), posixpath.dirname(name)
    if base == OPAQUE:
        return parent
    if base.startswith(WHITEOUT):
        return posixpath.join(parent, base[len(WHITEOUT):])
    return None


def list_layers(store: _Store, image: ImageRef) -> Listing:
    """Names only (each layer decompressed once more): what ``squashed`` needs before reading."""
    listing = Listing()
    for layer in image.layers:
        files, removed = set(), []
        try:
            with _layer_tar(store, layer) as tar:
                for m in tar:
                    name = _norm(m.name)
                    gone = _removed(name)
                    if gone is not None:
                        removed.append(gone)
                    elif m.isfile():
                        files.add(name)
        except (LeakstopError, OSError, EOFError, tarfile.TarError):
            pass  # counted when the layer is read
        listing.add(files, removed)
    return listing


def layer_units(store: _Store, image: ImageRef, max_file_size: int, stats: ScanStats, listing: Listing,
                final: Optional[Listing] = None) -> Iterator[Unit]:
    """Every regular file of every layer, in order, filling ``listing`` as it goes (so that once
    exhausted, ``listing.gone_after`` says which later layer removed a file). With ``final`` (the
    whole image's listing, read first) only the files a container sees: ``--squashed``."""
    for i, layer in enumerate(image.layers):
        files, removed = set(), []
        try:
            with _layer_tar(store, layer) as tar:
                stats.layers += 1
                for m in tar:
                    name = _norm(m.name)
                    gone = _removed(name)
                    if gone is not None:
                        removed.append(gone)
                        continue
                    if not m.isfile():
                        if m.issym() or m.islnk():
                            stats.skip("link")
                        continue
                    files.add(name)
                    if final is not None and final.gone_after(i, name) is not None:
                        continue
                    if m.size > max_file_size:
                        stats.skip("too large")
                        continue
                    member = tar.extractfile(m)
                    if member is None:  # not a regular file after all
                        continue
                    data = member.read()
                    for path, body, _ in expand(name, data, Limits(max_file_size), stats.skip):
                        yield _unit(body, path, image, layer, i, stats)
        except (LeakstopError, OSError, EOFError, tarfile.TarError):
            stats.skip("unreadable layer")
        listing.add(files, removed)


def _unit(data: bytes, name: str, image: ImageRef, layer: Layer, index: int, stats: ScanStats) -> Unit:
    text, kind = textify(data)
    stats.count(kind, len(data))
    return Unit(Chunk(path=name, data=text, binary=kind == BINARY), image.name, layer.digest, layer.instruction, index)


# -- the image config -------------------------------------------------------------------------------


def _history_as_dockerfile(config: dict) -> str:
    """history[].created_by as Dockerfile lines: ``/bin/sh -c #(nop) ENV A=b`` is ``ENV A=b``, and
    a RUN that had build args (``|2 A=x B=y /bin/sh -c cmd``, how docker records them) becomes
    ``ARG A=x`` lines before ``RUN cmd``, so the Dockerfile detectors judge them."""
    lines = []
    for h in config.get("history") or []:
        made = str(h.get("created_by", "")) if isinstance(h, dict) else ""
        made = made.replace("/bin/sh -c #(nop) ", "").strip()
        if made.startswith("RUN |") or made.startswith("|"):
            words = made.split(" ")
            start = 1 if words[0] == "RUN" else 0
            try:
                count = int(words[start][1:])
            except ValueError:
                count = 0
            lines += [f"ARG {w}" for w in words[start + 1 : start + 1 + count]]
            rest = " ".join(words[start + 1 + count :]).replace("/bin/sh -c ", "", 1)
            lines.append(f"RUN {rest}")
        elif made.startswith("/bin/sh -c "):
            lines.append("RUN " + made[len("/bin/sh -c "):])
        elif made:
            lines.append(made)
    return "\n".join(line.replace("\n", " ") for line in lines) + "\n"


def config_units(image: ImageRef) -> Iterator[Unit]:
    """The config's environment (as a .env file), labels and build history (as a Dockerfile)."""
    cfg = image.config.get("config") or image.config.get("container_config") or {}
    env = "\n".join(str(e) for e in cfg.get("Env") or []) + "\n"
    labels = "\n".join(f"{k}={v}" for k, v in (cfg.get("Labels") or {}).items()) + "\n"
    for name, text in ((".env", env), ("labels.properties", labels), ("Dockerfile", _history_as_dockerfile(image.config))):
        if text.strip():
            yield Unit(Chunk(path=f"config/{name}", data=text.encode("utf-8", "surrogateescape")), image.name,
                       "config", "image config")


# -- the source ------------------------------------------------------------------------------------


Origin = tuple[str, int, str, str, str]  # (image, layer index, path, layer digest, instruction)


class ImageSource(Plain):
    """An image archive as a source (scanner.sources.base): a unit is a file of a layer or a part
    of the config, read in layer order; a finding is attributed to its image, layer and the
    instruction that made the layer, and to the later layer that deleted its file, if one did."""

    def __init__(self, path: Path, max_file_size: int, squashed: bool = False) -> None:
        self.path, self.max_file_size, self.squashed = path, max_file_size, squashed
        self.stats = ScanStats("image")
        self._images: dict[str, tuple[ImageRef, Listing]] = {}  # filled as the layers are read

    def units(self) -> Iterator[Unit]:
        store, images = open_image(self.path)
        try:
            for img in images:
                self.stats.images += 1
                listing = Listing()
                self._images[img.name] = (img, listing)
                final = list_layers(store, img) if self.squashed else None
                yield from chain(config_units(img), layer_units(store, img, self.max_file_size, self.stats, listing,
                                                                final))
        finally:
            store.close()

    def load(self, unit: Unit) -> Iterator[Chunk]:
        yield unit.chunk

    @staticmethod
    def origin(unit: Unit) -> Origin:
        return unit.image, unit.index, unit.chunk.path, unit.layer, unit.instruction

    def attribute(self, results: Sequence[tuple[Origin, Optional[list[Finding]]]]) -> list[Finding]:
        """Each finding with its image, layer and instruction; deletions are known once every
        layer is read."""
        out = []
        for (image, index, path, layer, instruction), found in results:
            where = {"image": image, "layer": layer, "instruction": instruction}
            img, listing = self._images[image]
            gone = listing.gone_after(index, path.split("!")[0]) if index >= 0 else None
            if gone is not None:
                where["deleted_in_layer"] = img.layers[gone].digest
            out += [replace(f, extra={**f.extra, **where}) for f in found or ()]
        return out
