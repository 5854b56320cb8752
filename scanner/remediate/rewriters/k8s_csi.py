"""Kubernetes through the Secrets Store CSI driver (``--kubernetes csi``), the alternative to the
External Secrets Operator: a ``SecretProviderClass`` (``secrets-store.csi.x-k8s.io/v1``, provider
``aws``) names each stored value (``objects``: the secret, and for a JSON key a ``jmesPath`` entry
with its own alias), and ``secretObjects`` syncs them into a Kubernetes Secret that ``env``
entries read with ``valueFrom.secretKeyRef``, as with the operator.

The driver fetches (and creates the synced Secret) only for a pod that mounts a CSI volume of that
class, so every pod spec that reads the Secret in the same file gets the volume and its containers
the mount (read-only, under /mnt/secrets-store/CLASS). A Secret read from elsewhere gets a note.
``secretObjects`` maps whole values only: a Secret keeping literal keys, or a value inside a
longer string (a URL), stays a manual step here (the operator's templates can do both).
"""

from __future__ import annotations

import json
import re
from typing import Optional

import yaml

from scanner.remediate.records import Item
from scanner.remediate.rewriters.base import Context
from scanner.remediate.rewriters.yamlpos import add_under, get, text_of

CSI_API = "secrets-store.csi.x-k8s.io/v1"
DRIVER = "secrets-store.csi.k8s.io"
MOUNT_ROOT = "/mnt/secrets-store"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONTAINER_LISTS = ("containers", "initContainers")


def _alias(*parts: str) -> str:
    """A file name for a mounted object (the driver writes each object to a file of this name)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", "_".join(parts)).strip("_.") or "secret"


def whole_values(targets: list) -> bool:
    """Can ``secretObjects`` carry these keys: each one moved value, nothing around it?"""
    return all(len(t.parts) == 1 and isinstance(t.parts[0], Item) for t in targets)


def provider_class(ctx: Context, name: str, namespace: Optional[str], targets: list,
                   secret_type: Optional[str] = None) -> dict:
    """A SecretProviderClass syncing the Secret ``name`` with ``targets`` (whole values) as its keys."""
    objects: dict[str, dict] = {}
    data = []
    for t in targets:
        it: Item = t.parts[0]
        obj = objects.setdefault(it.secret_name, {"objectName": it.secret_name, "objectType": ctx.store.csi_object_type,
                                                  "objectAlias": _alias(it.secret_name)})
        alias = obj["objectAlias"]
        if it.json_key is not None:
            alias = _alias(it.secret_name, it.json_key)
            path = it.json_key if _IDENT.match(it.json_key) else json.dumps(it.json_key)  # a JMESPath identifier
            paths = obj.setdefault("jmesPath", [])
            if not any(p["objectAlias"] == alias for p in paths):
                paths.append({"path": path, "objectAlias": alias})
        data.append({"objectName": alias, "key": t.key})
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    objects_text = yaml.safe_dump(list(objects.values()), sort_keys=False, default_flow_style=False, width=1000)
    return {"apiVersion": CSI_API, "kind": "SecretProviderClass", "metadata": meta,
            "spec": {"provider": "aws", "parameters": {"region": ctx.region, "objects": objects_text},
                     "secretObjects": [{"secretName": name, "type": secret_type or "Opaque", "data": data}]}}


def pod_spec(doc: yaml.Node) -> Optional[yaml.Node]:
    kind = text_of(doc, "kind")
    keys = {"Pod": ["spec"], "CronJob": ["spec", "jobTemplate", "spec", "template", "spec"]}.get(
        kind or "", ["spec", "template", "spec"])  # no kind: a workload's pod template
    node = doc
    for k in keys:
        node = get(node, k)
    return node if isinstance(node, yaml.MappingNode) else None


def _reads(container: yaml.Node, secret: str) -> bool:
    """Does the container read Secret ``secret`` (envFrom secretRef, or an env secretKeyRef)?"""
    for entry in getattr(get(container, "envFrom"), "value", []):
        if text_of(entry, "secretRef", "name") == secret:
            return True
    return any(text_of(e, "valueFrom", "secretKeyRef", "name") == secret
               for e in getattr(get(container, "env"), "value", []))


def mount_edits(text: str, doc: yaml.Node, classes: list[str], nl: str,
                rewritten: Optional[dict[int, list[str]]] = None) -> tuple[Optional[list[tuple[int, int, str]]], list[str]]:
    """In one workload document (``text`` is its text): the CSI volume of each class in
    ``classes`` and its mount in each container that reads the synced Secret of that name (or,
    ``rewritten``: by container node id, the classes its env entries now read); and the classes
    mounted. The edits are None when a volume or mount cannot be added (flow style)."""
    spec = pod_spec(doc)
    wanted = []
    for lst in _CONTAINER_LISTS:
        for c in getattr(get(spec, lst), "value", []):
            mine = [k for k in classes if _reads(c, k)]
            mine += [k for k in (rewritten or {}).get(id(c), []) if k not in mine]
            if mine:
                wanted.append((c, mine))
    volumes = list(dict.fromkeys(k for _, mine in wanted for k in mine))
    if not wanted:
        return [], []
    edits = [add_under(text, c, ["volumeMounts"], [
        {"name": _volume(k), "mountPath": f"{MOUNT_ROOT}/{k}", "readOnly": True} for k in mine], nl)
        for c, mine in wanted]
    edits.append(add_under(text, spec, ["volumes"], [
        {"name": _volume(k), "csi": {"driver": DRIVER, "readOnly": True, "volumeAttributes": {"secretProviderClass": k}}}
        for k in volumes], nl))
    done = [e for e in edits if e is not None]
    return (done if len(done) == len(edits) else None), volumes


def _volume(cls: str) -> str:
    return ("ls-" + cls)[:63].rstrip("-.")
