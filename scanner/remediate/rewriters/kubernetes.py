"""Kubernetes manifests: no value stays in a manifest, and no placeholder either (a Secret's
``data`` must be base64, and nothing in a cluster would resolve a placeholder).

The External Secrets Operator (``external-secrets.io/v1``) syncs a Kubernetes Secret from the
store; leakstop writes its objects:

* a ``Secret`` holding a moved value is replaced, in place, by an ``ExternalSecret`` of the same
  name and namespace whose target is a Secret of that name with the same keys, so every consumer
  (``envFrom``, ``secretKeyRef``, volumes) keeps working. Keys that held no flagged value stay as
  they were (through the ExternalSecret's template);
* a container ``env`` entry with a literal ``value`` becomes ``valueFrom.secretKeyRef`` to the
  Secret ``<workload>-leakstop``, synced by a new ExternalSecret appended to the file (a value
  inside a longer string, such as a URL, is rebuilt by the template);
* the ``ClusterSecretStore`` the ExternalSecrets name is written once to the output directory.

Every other document, and every byte around the edited spans, stays as it was. A ``Secret.data``
value is base64: the decoded value is what gets stored (:func:`stored_value`).
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import re
from dataclasses import dataclass, field
from typing import Optional, Union

import yaml

from scanner.remediate.records import Item, Manual, Site, Workspace
from scanner.remediate.rewriters import k8s_csi
from scanner.remediate.rewriters.base import Context, Pairs, Rewriter, line_starts, locate, splice, text_or_manual
from scanner.remediate.rewriters.yamlpos import Doc, documents, get, in_scalar, path_to, text_of

ESO_API = "external-secrets.io/v1"
POD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
             "ReplicationController")
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
_KIND = re.compile(r"^kind:[ \t]*['\"]?[A-Za-z]+", re.M)
_API = re.compile(r"^apiVersion:[ \t]*\S", re.M)
_DNS = re.compile(r"[^a-z0-9.-]+")

Part = Union[str, Item]  # a literal piece of a value, or a moved value


@dataclass
class Target:
    """One key of a synced Secret: its text as pieces (literals and moved values)."""

    key: str
    parts: list[Part]
    sites: list[Site] = field(default_factory=list)


def _dns_name(name: str) -> str:
    return _DNS.sub("-", name.lower()).strip("-.")[:253] or "app"


# -- what is stored -------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _parsed(path: str, data: bytes) -> Optional[tuple[str, list[Doc], list[int]]]:
    """A manifest's text, documents and line starts (cached: asked once per finding)."""
    if not claims(path, data):
        return None
    try:
        text = data.decode("utf-8")
        return text, documents(text), line_starts(text)
    except (UnicodeDecodeError, yaml.YAMLError):
        return None


def stored_value(path: str, data: Optional[bytes], site: Site, literal: bytes) -> Optional[bytes]:
    """The value to store for a finding in a Secret's ``data`` (base64): the decoded bytes, when
    they are valid base64 of UTF-8 text; None elsewhere (the literal itself is stored)."""
    parsed = _parsed(path, data) if data else None
    if parsed is None:
        return None
    text, docs, starts = parsed
    if site.line > len(starts):
        return None
    a = starts[site.line - 1] + site.column - 1
    b = a + len(literal.decode("utf-8", "replace"))
    for d in docs:
        if d.node is None or not d.a <= a < d.b or text_of(d.node, "kind") != "Secret":
            continue
        steps = path_to(d.node, a - d.a, b - d.a)
        if len(steps) == 2 and steps[0][1] == "data" and steps[1][2].value.encode() == literal:
            return _b64(literal)
    return None


def _b64(literal: bytes) -> Optional[bytes]:
    try:
        raw = base64.b64decode(literal, validate=True)
        raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return raw if raw else None


# -- the generated objects --------------------------------------------------------------------
def store_ref(ctx: Context) -> dict:
    return {"kind": "ClusterSecretStore", "name": f"aws-{ctx.store.eso_service.lower()}"}


def remote_ref(ctx: Context, item: Item) -> dict:
    ref = {"key": item.secret_name}
    if item.json_key is not None:
        ref["property"] = item.json_key
    return ref


def _go_literal(s: str) -> str:
    return s.replace("{{", '{{ "{{" }}')


def external_secret(ctx: Context, name: str, namespace: Optional[str], targets: list[Target],
                    secret_type: Optional[str] = None) -> dict:
    """An ExternalSecret syncing the Secret ``name`` with ``targets`` as its keys. Whole moved
    values map straight to a key; anything else (kept literals, a value inside a URL) goes
    through the template, which then defines every key."""
    plain = all(len(t.parts) == 1 and isinstance(t.parts[0], Item) for t in targets) and not secret_type
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    spec: dict = {"refreshInterval": "1h", "secretStoreRef": store_ref(ctx),
                  "target": {"name": name, "creationPolicy": "Owner"}}
    if plain:
        spec["data"] = [{"secretKey": t.key, "remoteRef": remote_ref(ctx, p)}
                        for t in targets for p in t.parts if isinstance(p, Item)]  # plain: one Item each
    else:
        refs: dict[str, str] = {}  # value hash -> internal key
        data = []
        for t in targets:
            for p in t.parts:
                if isinstance(p, Item) and p.value_hash not in refs:
                    refs[p.value_hash] = f"leakstop_{len(refs) + 1}"
                    data.append({"secretKey": refs[p.value_hash], "remoteRef": remote_ref(ctx, p)})
        tmpl = {t.key: "".join("{{ .%s }}" % refs[p.value_hash] if isinstance(p, Item) else _go_literal(p)
                               for p in t.parts) for t in targets}
        spec["data"] = data
        spec["target"]["template"] = {"engineVersion": "v2", **({"type": secret_type} if secret_type else {}),
                                      "data": tmpl}
    return {"apiVersion": ESO_API, "kind": "ExternalSecret", "metadata": meta, "spec": spec}


def cluster_secret_store(ctx: Context) -> dict:
    return {"apiVersion": ESO_API, "kind": "ClusterSecretStore", "metadata": {"name": store_ref(ctx)["name"]},
            "spec": {"provider": {"aws": {"service": ctx.store.eso_service, "region": ctx.region}}}}


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the CSI provider's ``objects``) as literal blocks, as they are written by hand."""


_Dumper.add_representer(str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else None))


def dump(doc: dict, nl: str) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000).replace("\n", nl)


# -- the rewrite ----------------------------------------------------------------------------
def _parts(scalar: str, hits: list[tuple[int, int, Item]]) -> list[Part]:
    """A scalar's text split around the moved values in it (offsets within the scalar)."""
    out: list[Part] = []
    cur = 0
    for a, b, it in sorted(hits, key=lambda h: h[0]):
        if a > cur:
            out.append(scalar[cur:a])
        out.append(it)
        cur = b
    if cur < len(scalar):
        out.append(scalar[cur:])
    return out


def _secret_targets(text: str, d: Doc, hits: list) -> Optional[list[Target]]:
    """A Secret document's keys as targets (moved values and kept literals), or None when it
    cannot be carried over (its sites become manual steps)."""
    by_node: dict[int, list] = {}
    for site, item, a, b, steps in hits:
        if len(steps) != 2 or steps[0][1] not in ("data", "stringData"):
            return None
        by_node.setdefault(id(steps[1][2]), []).append((site, item, a, b, steps))
    targets = []
    for section in ("data", "stringData"):
        sec = get(d.node, section)
        for k, v in (sec.value if isinstance(sec, yaml.MappingNode) else []):
            mine = by_node.get(id(v), [])
            if not isinstance(v, yaml.ScalarNode):
                return None
            if section == "data" and mine:
                if len(mine) != 1 or mine[0][1].value != _b64(v.value.encode()):
                    return None  # the stored value must be the decoded one (see stored_value)
                targets.append(Target(k.value, [mine[0][1]], [mine[0][0]]))
                continue
            value = v.value if section == "stringData" else (_b64(v.value.encode()) or b"").decode()
            if section == "data" and not value and v.value:
                return None  # binary data cannot be kept through a text template
            spans = _spans_in(text, v, d, mine)
            if spans is None:
                return None
            targets.append(Target(k.value, _parts(value, spans), [m[0] for m in mine]))
    return targets


def _secret_doc(ctx: Context, text: str, d: Doc, hits: list, nl: str) -> Optional[str]:
    """The ExternalSecret (or SecretProviderClass) replacing a Secret document, or None (its sites
    become manual steps)."""
    targets = _secret_targets(text, d, hits)
    name, ns = text_of(d.node, "metadata", "name"), text_of(d.node, "metadata", "namespace")
    if targets is None or not name:
        return None
    stype = text_of(d.node, "type")
    stype = stype if stype and stype != "Opaque" else None
    if ctx.settings.kubernetes == "csi":
        if not k8s_csi.whole_values(targets):
            return None
        head = (f"# leakstop: Secret {name} -> SecretProviderClass: values in {ctx.store.title}, synced by the "
                f"Secrets Store CSI driver while a pod mounts it{nl}")
        return head + dump(k8s_csi.provider_class(ctx, name, ns, targets, stype), nl)
    doc = external_secret(ctx, name, ns, targets, stype)
    head = f"# leakstop: Secret {name} -> ExternalSecret: values in {ctx.store.title}, synced by the External Secrets Operator{nl}"
    return head + dump(doc, nl)


def _spans_in(text: str, scalar: yaml.Node, d: Doc, hits: list) -> Optional[list[tuple[int, int, Item]]]:
    """Where each hit's value lies inside ``scalar``'s value, with its item; None when one of them
    cannot be placed there (the whole entry is then left to the user)."""
    spans = [(s[0], s[1], it) for _, it, a, b, _ in hits if (s := in_scalar(text, scalar, d.a, a, b)) is not None]
    return spans if len(spans) == len(hits) else None


def _env_entries(text: str, d: Doc, hits: list) -> Optional[list[tuple[int, int, str, list[Part], list[Site], yaml.Node]]]:
    """For a workload: (key span of `value: ...`, env name, parts, sites, container) per env entry."""
    by_entry: dict[int, list] = {}
    for site, item, a, b, steps in hits:
        keys = [s[1] for s in steps]
        if len(keys) < 5 or keys[-1] != "value" or keys[-3] != "env" or keys[-5] not in _CONTAINER_LISTS:
            return None
        by_entry.setdefault(id(steps[-1][0]), []).append((site, item, a, b, steps))
    out = []
    for group in by_entry.values():
        entry, scalar = group[0][4][-1][0], group[0][4][-1][2]
        name = text_of(entry, "name")
        key_node = next(k for k, v in entry.value if v is scalar)
        spans = _spans_in(text, scalar, d, group)
        if not name or spans is None:
            return None
        parts = _parts(scalar.value, spans)
        out.append((d.a + key_node.start_mark.index, d.a + scalar.end_mark.index, name, parts, [g[0] for g in group],
                    group[0][4][-4][2]))
    return out


def rewrite_kubernetes(ws: Workspace, path: str, pairs: Pairs, ctx: Context) -> None:
    dec = text_or_manual(ws, path, pairs, ctx)
    if dec is None:
        return
    text, nl = dec
    try:
        docs = documents(text)
    except yaml.YAMLError:
        ctx.manual += [Manual(s, "the manifest does not parse as YAML: replace by hand") for s, _ in pairs]
        return
    starts = line_starts(text)
    per_doc: dict[int, list] = {}
    for site, item in pairs:
        loc = locate(text, starts, site, item)
        d = next((i for i, d in enumerate(docs) if loc and d.node is not None and d.a <= loc[0] < d.b), None)
        steps = path_to(docs[d].node, loc[0] - docs[d].a, loc[1] - docs[d].a) if loc and d is not None else []
        if loc is None or d is None or not steps:
            ctx.manual.append(Manual(site, "value not found in a manifest's YAML values (file changed?)"))
            continue
        per_doc.setdefault(d, []).append((site, item, loc[0], loc[1], steps))
    repl: list[tuple[int, int, str]] = []
    extra: list[dict] = []  # documents to append
    moved: list[Item] = []
    mounts: dict[int, dict[int, list[str]]] = {}
    replaced: list[str] = []  # the Secrets' names
    for i, hits in sorted(per_doc.items()):
        done = _rewrite_doc(ctx, text, docs[i], hits, nl, repl, extra, mounts)
        if done:
            moved += [h[1] for h in hits]
            if text_of(docs[i].node, "kind") == "Secret":
                name = text_of(docs[i].node, "metadata", "name")
                assert name, "a Secret is rewritten only when it has a name (_secret_doc)"
                replaced.append(name)
        else:
            kind = text_of(docs[i].node, "kind") or "document"
            csi = " (with the CSI driver: whole values only, no kept literal keys)" if ctx.settings.kubernetes == "csi" else ""
            ctx.manual += [Manual(h[0], f"Kubernetes {kind}: not a Secret's data/stringData or a container env "
                                        f"value{csi}: move it to the secret store by hand") for h in hits]
    if not repl:
        return
    if ctx.settings.kubernetes == "csi":
        repl += _csi_mounts(text, docs, replaced, mounts, nl, ctx, path)
    new = splice(text, repl)
    for doc in extra:
        new += ("" if new.endswith(("\n", nl)) else nl) + "---" + nl + dump(doc, nl)
    if ctx.settings.kubernetes == "csi":
        ws.write(path, new.encode("utf-8"), "kubernetes", "Secret -> SecretProviderClass (Secrets Store CSI driver, "
                 "AWS provider); env value -> valueFrom.secretKeyRef; CSI volume mounted")
        ctx.grant(path, "the pods' service account role (IRSA / Pod Identity), read by the CSI driver's AWS provider",
                  moved)
        return
    ws.write(path, new.encode("utf-8"), "kubernetes",
             "Secret -> ExternalSecret (External Secrets Operator); env value -> valueFrom.secretKeyRef")
    _write_store(ws, ctx)
    ctx.grant(path, "the External Secrets Operator's IAM role (IRSA / Pod Identity)", moved)


def _rewrite_doc(ctx: Context, text: str, d: Doc, hits: list, nl: str, repl: list[tuple[int, int, str]],
                 extra: list[dict], mounts: dict[int, dict[int, list[str]]]) -> bool:
    """One document's edits (``repl``), new documents (``extra``) and, for the CSI driver, the
    classes its containers now read (``mounts``: document start -> container id -> classes)."""
    kind = text_of(d.node, "kind")
    if kind == "Secret":
        new = _secret_doc(ctx, text, d, hits, nl)
        if new is None:
            return False
        repl.append((d.a, d.b, new))
        return True
    if kind not in POD_KINDS:
        return False
    entries = _env_entries(text, d, hits)
    name = text_of(d.node, "metadata", "name")
    if not entries or not name:
        return False
    synced = _dns_name(name) + "-leakstop"
    targets = [Target(env, parts, sites) for _, _, env, parts, sites, _ in entries]
    ns = text_of(d.node, "metadata", "namespace")
    if ctx.settings.kubernetes == "csi":
        if not k8s_csi.whole_values(targets):
            return False
        extra.append(k8s_csi.provider_class(ctx, synced, ns, targets))
        for *_, container in entries:
            mounts.setdefault(d.a, {}).setdefault(id(container), [synced])
    else:
        extra.append(external_secret(ctx, synced, ns, targets))
    for a, b, env, _, _, _ in entries:
        repl.append((a, b, "valueFrom: {secretKeyRef: {name: %s, key: %s}}" % (synced, env)))
    return True


def _csi_mounts(text: str, docs: list[Doc], replaced: list[str], mounts: dict[int, dict[int, list[str]]], nl: str,
                ctx: Context, path: str) -> list[tuple[int, int, str]]:
    """The CSI volumes and mounts every workload of the file needs: for the Secrets replaced by a
    SecretProviderClass, and for its own rewritten env entries."""
    out, served = [], set()
    for d in docs:
        if d.node is None or text_of(d.node, "kind") not in POD_KINDS:
            continue
        edits, mounted = k8s_csi.mount_edits(text[d.a : d.b], d.node, replaced, nl, mounts.get(d.a))
        if edits is None:
            ctx.notes.append(f"{path}: {text_of(d.node, 'metadata', 'name')}: add the CSI volume (driver "
                             f"{k8s_csi.DRIVER}) and its mounts by hand: its pod spec is not block YAML")
            continue
        out += [(d.a + a, d.a + b, s) for a, b, s in edits]
        served |= set(mounted)
    for k in sorted(set(replaced) - served):
        ctx.notes.append(f"{path}: the CSI driver creates Secret {k} only while a pod mounts a CSI volume of "
                         f"SecretProviderClass {k}: add that volume to the pods that read it")
    return out


def _write_store(ws: Workspace, ctx: Context) -> None:
    path = os.path.join(ctx.settings.output_dir, "kubernetes", "cluster-secret-store.yaml")
    if ws.read(path) is None:
        body = ("# leakstop: install once per cluster, with the External Secrets Operator (>= 0.17, API v1).\n"
                "# No auth block: the operator uses its own AWS identity (IRSA or EKS Pod Identity);\n"
                "# give that role the statements in iam-policy.json.\n")
        ws.write(path, (body + dump(cluster_secret_store(ctx), "\n")).encode(), "helper",
                 "ClusterSecretStore for the External Secrets Operator")


def claims(path: str, data: Optional[bytes]) -> bool:
    if os.path.splitext(path.lower())[1] not in (".yaml", ".yml") or not data:
        return False
    head = data.decode("utf-8", "replace")
    return bool(_API.search(head) and _KIND.search(head))


REWRITER = Rewriter(claims, rewrite_kubernetes, stored_value)
