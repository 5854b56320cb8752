"""Kubernetes manifests, applied for real against moto: the literal Secret becomes an
ExternalSecret, env literals become secretKeyRef, every document validates against its schema,
other documents keep their bytes, and what is stored is the decoded value."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
from pathlib import Path

import boto3
import jsonschema
import pytest
import yaml

from scanner.remediate.rewriters.yamlpos import documents

SCHEMAS = Path(__file__).parent / "data" / "k8s"
SCHEMA_BY_KIND = {("v1", "Secret"): "secret_v1", ("apps/v1", "Deployment"): "deployment_apps_v1",
                  ("external-secrets.io/v1", "ExternalSecret"): "externalsecret_v1",
                  ("external-secrets.io/v1", "ClusterSecretStore"): "clustersecretstore_v1"}


def _rand(n: int, prefix: str = "") -> str:
    rng = random.SystemRandom()
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def h(v) -> str:
    return hashlib.sha256(v.encode() if isinstance(v, str) else v).hexdigest()


def manifests(pw: str, token: str, api_token: str) -> dict[str, str]:
    service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web   # keep me\nspec:\n  ports: [{port: 80}]\n"
    return {
        "k8s/app.yaml": f"""# the app
{service}---
apiVersion: v1
kind: Secret
metadata:
  name: app-secrets
  namespace: shop
type: Opaque
data:
  DB_PASSWORD: {b64(pw)}
  DB_USER: {b64("app")}
stringData:
  GITHUB_TOKEN: "{token}"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - name: web
          image: shop/web:1.2
          envFrom:
            - secretRef: {{name: app-secrets}}
          env:
            - name: MODE
              value: prod
            - name: API_TOKEN
              value: "{api_token}"
""",
    }


@pytest.fixture
def k8s_repo(make_repo, git_commit):
    repo = make_repo("k8s")
    values = {"pw": _rand(22), "token": _rand(36, "ghp_"), "api": _rand(36, "ghp_")}
    for rel, text in manifests(values["pw"], values["token"], values["api"]).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git_commit(repo, "manifests")
    return repo, values


def validate_all(path: Path) -> list[dict]:
    """Every document of a manifest file parses and validates against its kind's schema; Secret
    data is valid base64. Returns the documents."""
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    for d in docs:
        name = SCHEMA_BY_KIND.get((d.get("apiVersion"), d.get("kind")))
        if name:
            jsonschema.validate(d, json.loads((SCHEMAS / f"{name}.json").read_text()))
        for v in (d.get("data") or {}).values() if d.get("kind") == "Secret" else ():
            base64.b64decode(v, validate=True)
    return docs


def stored() -> dict:
    sm = boto3.client("secretsmanager")
    return {s["Name"]: json.loads(sm.get_secret_value(SecretId=s["Name"])["SecretString"])
            for s in sm.list_secrets()["SecretList"]}


def test_secret_becomes_external_secret_and_env_becomes_secret_key_ref(remediate, k8s_repo):
    repo, values = k8s_repo
    before = (repo / "k8s/app.yaml").read_text()
    r = remediate(repo, "--apply")
    assert r.code == 0, r.err
    text = (repo / "k8s/app.yaml").read_text()
    for v in values.values():
        assert v not in text and b64(v) not in text, "a value is still in the manifest"
    assert "{{leakstop:" not in text
    docs = validate_all(repo / "k8s/app.yaml")
    assert [d["kind"] for d in docs] == ["Service", "ExternalSecret", "Deployment", "ExternalSecret"]
    # Documents not holding a value keep their bytes (the first one, comments included).
    old, new = documents(before), documents(text)
    assert text[new[0].a:new[0].b] == before[old[0].a:old[0].b]

    # What is stored is the password itself, not its base64 text.
    st = stored()
    flat = {(n, k): h(v) for n, d in st.items() for k, v in d.items()}
    assert h(values["pw"]) in flat.values() and h(b64(values["pw"])) not in flat.values()
    assert {h(values["token"]), h(values["api"])} <= set(flat.values())

    # The ExternalSecret replaces the Secret under its name, keeps its keys, and each remoteRef
    # names a stored secret and key.
    es = docs[1]
    assert es["metadata"] == {"name": "app-secrets", "namespace": "shop"}
    assert es["spec"]["target"]["name"] == "app-secrets"
    keys = set(es["spec"]["target"]["template"]["data"])
    assert keys == {"DB_PASSWORD", "DB_USER", "GITHUB_TOKEN"}
    assert es["spec"]["target"]["template"]["data"]["DB_USER"] == "app"  # kept, not moved
    for d in (docs[1], docs[3]):
        for entry in d["spec"]["data"]:
            ref = entry["remoteRef"]
            assert ref["property"] in st[ref["key"]]
    # The Deployment reads the synced Secret; its other env entries are untouched.
    env = docs[2]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env[0] == {"name": "MODE", "value": "prod"}
    assert env[1] == {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "web-leakstop", "key": "API_TOKEN"}}}
    synced = docs[3]
    assert synced["metadata"] == {"name": "web-leakstop", "namespace": "shop"}
    assert [e["secretKey"] for e in synced["spec"]["data"]] == ["API_TOKEN"]
    store_doc = validate_all(repo / "leakstop-remediation/kubernetes/cluster-secret-store.yaml")[0]
    assert store_doc["metadata"]["name"] == es["spec"]["secretStoreRef"]["name"] == synced["spec"]["secretStoreRef"]["name"]

    # Idempotent: a second apply finds nothing and changes nothing.
    snapshot = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    r2 = remediate(repo, "--apply")
    assert r2.code == 0, r2.err
    assert {p: p.read_bytes() for p in snapshot} == snapshot


def test_a_configmap_value_is_a_manual_step_and_the_file_is_untouched(remediate, make_repo, git_commit):
    repo = make_repo("cm")
    token = _rand(36, "ghp_")
    src = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: conf\ndata:\n  token: {token}\n"
    (repo / "cm.yaml").write_text(src)
    git_commit(repo, "cm")
    r = remediate(repo)
    assert r.code == 0, r.err
    assert "ConfigMap" in r.out and "by hand" in r.out
    assert (repo / "cm.yaml").read_text() == src


# -- the Secrets Store CSI driver (--kubernetes csi) -------------------------------------------
SCHEMA_BY_KIND[("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass")] = "secretproviderclass_v1"

CSI_APP = """apiVersion: v1
kind: Secret
metadata:
  name: app-secrets
  namespace: shop
data:
  DB_PASSWORD: {pw}
stringData:
  GITHUB_TOKEN: "{token}"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - name: web
          image: shop/web:1.2
          envFrom:
            - secretRef: {{name: app-secrets}}
          env:
            - name: MODE
              value: prod
            - name: API_TOKEN
              value: "{api}"
        - name: sidecar
          image: shop/proxy:1.0
"""


def csi_resolve(spc: dict, sm) -> dict:
    """What the CSI driver's AWS provider puts in the synced Secret: each secretObjects key from
    the object (or jmesPath alias) it names, read from Secrets Manager."""
    objects = yaml.safe_load(spc["spec"]["parameters"]["objects"])
    jsonschema.validate(objects, json.loads((SCHEMAS / "aws_provider_objects.json").read_text()))
    files = {}
    for o in objects:
        text = sm.get_secret_value(SecretId=o["objectName"])["SecretString"]
        files[o.get("objectAlias", o["objectName"])] = text
        for jp in o.get("jmesPath", []):
            key = json.loads(jp["path"]) if jp["path"].startswith('"') else jp["path"]
            files[jp["objectAlias"]] = json.loads(text)[key]
    [target] = spc["spec"]["secretObjects"]
    return {d["key"]: files[d["objectName"]] for d in target["data"]}


def test_csi_secret_provider_class_syncs_the_values_and_pods_mount_it(remediate, make_repo, git_commit):
    repo = make_repo("csi")
    values = {"pw": _rand(22), "token": _rand(36, "ghp_"), "api": _rand(36, "ghp_")}
    (repo / "k8s").mkdir()
    (repo / "k8s/app.yaml").write_text(CSI_APP.format(pw=b64(values["pw"]), token=values["token"], api=values["api"]))
    git_commit(repo, "manifests")
    r = remediate(repo, "--apply", "--kubernetes", "csi")
    assert r.code == 0, r.err
    text = (repo / "k8s/app.yaml").read_text()
    for v in values.values():
        assert v not in text and b64(v) not in text, "a value is still in the manifest"
    docs = validate_all(repo / "k8s/app.yaml")
    assert [d["kind"] for d in docs] == ["SecretProviderClass", "Deployment", "SecretProviderClass"]
    sm = boto3.client("secretsmanager")
    app, synced = docs[0], docs[2]
    assert app["metadata"] == {"name": "app-secrets", "namespace": "shop"} and app["spec"]["provider"] == "aws"
    got = {k: h(v) for k, v in csi_resolve(app, sm).items()}
    assert got == {"DB_PASSWORD": h(values["pw"]), "GITHUB_TOKEN": h(values["token"])}
    assert {k: h(v) for k, v in csi_resolve(synced, sm).items()} == {"API_TOKEN": h(values["api"])}
    pod = docs[1]["spec"]["template"]["spec"]
    web, sidecar = pod["containers"]
    assert web["env"][1] == {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "web-leakstop", "key": "API_TOKEN"}}}
    classes = {v["name"]: v["csi"]["volumeAttributes"]["secretProviderClass"] for v in pod["volumes"]}
    assert sorted(classes.values()) == ["app-secrets", "web-leakstop"]
    assert {m["name"] for m in web["volumeMounts"]} == set(classes) and "volumeMounts" not in sidecar
    assert all(v["csi"]["driver"] == "secrets-store.csi.k8s.io" for v in pod["volumes"])
    assert not (repo / "leakstop-remediation/kubernetes/cluster-secret-store.yaml").exists()


def test_csi_cannot_keep_a_literal_key_and_says_so(remediate, k8s_repo):
    repo, values = k8s_repo
    before = (repo / "k8s/app.yaml").read_text()
    r = remediate(repo, "--apply", "--kubernetes", "csi")
    assert r.code == 1, r.err
    assert "whole values only" in r.out
    old, new = documents(before), documents((repo / "k8s/app.yaml").read_text())
    assert (repo / "k8s/app.yaml").read_text()[new[1].a:new[1].b] == before[old[1].a:old[1].b]  # the Secret as it was
