"""Which files each context detector handles, by name: kept apart from the detectors so a scan
of files no detector wants (most source code) never imports them or compiles their regexes."""

from __future__ import annotations

import functools
import posixpath
import re

from scanner.lazyregex import lazy


@functools.lru_cache(maxsize=4096)
def basename(path: str) -> str:
    # Remembered: every detector's name test asks for it (ten calls per file scanned).
    return posixpath.basename(path.replace("\\", "/"))


# What every name test below can want, besides names without an extension and dotfiles (which are
# always asked): these extensions, these dotted names, and names with these prefixes. Most source
# files have none of them, and no detector is asked about them (:func:`unwanted`); a dir scan asked
# ten tests of each file (~7 us a path, 3% of the rails tree's CPU). A new name test that wants
# another extension or name must add it here: tests/detectors/test_names.py checks every test in
# DETECTORS against this on names built from every literal in this module.
_WANTED_EXTS = frozenset({
    "sh", "bash", "zsh", "ps1", "mk", "make", "bat", "cmd", "gradle", "groovy", "yaml", "yml", "json", "json5",
    "jsonc", "ini", "cfg", "conf", "cnf", "toml", "properties", "config", "npmrc", "pypirc", "xml", "xaml", "plist",
    "csproj", "pubxml", "kubeconfig", "tf", "tfvars", "hcl", "key", "htpasswd", "env", "dockerfile", "containerfile",
})
_WANTED_DOTTED = frozenset({"master.passwd", "terraform.rc"})
_WANTED_PREFIXES = ("dockerfile.", "containerfile.")


def unwanted(path: str) -> bool:
    """True when no context detector can want a file of this name (by its extension): the common
    case, answered without asking each detector."""
    name = basename(path).lower()
    dot = name.rfind(".")
    if dot < 0 or name[0] == ".":  # no extension, or a dotfile
        return False
    return name[dot + 1 :] not in _WANTED_EXTS and name not in _WANTED_DOTTED and not name.startswith(_WANTED_PREFIXES)


def wants_dockerfile(path: str) -> bool:
    name = basename(path).lower()
    return (
        name in ("dockerfile", "containerfile")
        or name.startswith(("dockerfile.", "containerfile."))
        or name.endswith((".dockerfile", ".containerfile"))
    )


_SCRIPT_EXT = (".sh", ".bash", ".zsh", ".ps1", ".mk", ".make", ".bat", ".cmd", ".gradle", ".groovy")
_SCRIPT_NAMES = ("makefile", "gnumakefile", "jenkinsfile", "justfile", "taskfile.yml", "taskfile.yaml")
_CI_NAMES = lazy(
    r"(?i)(^|/)(\.gitlab-ci\.ya?ml|\.travis\.ya?ml|azure-pipelines\.ya?ml|bitbucket-pipelines\.ya?ml|"
    r"cloudbuild\.ya?ml|buildspec\.ya?ml|\.drone\.ya?ml|appveyor\.ya?ml|\.github/workflows/[^/]+\.ya?ml|"
    r"\.circleci/config\.ya?ml|docker-compose[^/]*\.ya?ml|compose[^/]*\.ya?ml)$"
)


def wants_build_args(path: str) -> bool:
    name = basename(path).lower()
    return (name.endswith(_SCRIPT_EXT) or name in _SCRIPT_NAMES or wants_dockerfile(path)
            or name.endswith(YAML_EXT) and bool(_CI_NAMES.search(path)))  # (every CI name is YAML)


def wants_commands(path: str) -> bool:
    """Scripts, Makefiles and CI files: where shell commands are written down (the Dockerfile
    detector reads RUN lines with the same functions; compose files have a detector of their own)."""
    return wants_build_args(path) and not wants_dockerfile(path) and not wants_compose(path)


_COMPOSE = lazy(r"^(docker-)?compose([._-][^/]*)?\.ya?ml$|^[^/]*[._-]compose\.ya?ml$", re.I)


def wants_compose(path: str) -> bool:
    return bool(_COMPOSE.match(basename(path)))


def wants_envfile(path: str) -> bool:
    name = basename(path).lower()
    return name == ".env" or name.startswith(".env.") or name.endswith(".env") or name in (".envrc", ".flaskenv")


YAML_EXT = (".yaml", ".yml")
JSON_EXT = (".json", ".json5", ".jsonc")
INI_EXT = (".ini", ".cfg", ".conf", ".cnf", ".toml", ".properties", ".config", ".env.properties", ".npmrc", ".pypirc")
XML_EXT = (".xml", ".config", ".xaml", ".plist", ".csproj", ".pubxml")
# Credential dotfiles and client configuration files without a telling extension, by name: the
# format their program reads them in. netrc: whitespace-separated "password X" tokens (also
# fetchmail's run-control file); pgpass: host:port:db:user:password lines.
DOTFILES = {
    ".npmrc": "ini", ".pypirc": "ini", ".yarnrc": "ini", ".gemrc": "ini", ".boto": "ini", ".s3cfg": "ini",
    ".my.cnf": "ini", ".wgetrc": "ini", ".databrickscfg": "ini", ".muttrc": "ini", "muttrc": "ini",
    ".msmtprc": "ini", "msmtprc": "ini", ".netrc": "netrc", "_netrc": "netrc", ".fetchmailrc": "netrc",
    ".pgpass": "pgpass", "pgpass.conf": "pgpass", ".dockercfg": "json", "kubeconfig": "yaml",
}
# Files known by their directory and name (~/.aws/credentials, ~/.kube/config, ~/.gem/credentials).
DOTDIR_FILES = {
    ".aws/credentials": "ini", ".aws/config": "ini", ".gem/credentials": "yaml", "gem/credentials": "yaml",
    ".kube/config": "yaml", ".cargo/credentials": "ini", ".config/hub": "yaml",
}
_LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json", "composer.lock", "packages.lock.json", "pnpm-lock.yaml")


def tail(path: str, n: int = 2) -> str:
    """The last ``n`` components of ``path``, lower-cased and joined with '/'."""
    return "/".join(path.replace("\\", "/").lower().rsplit("/", n)[-n:])


def config_kind(path: str) -> str:
    """'yaml', 'json', 'xml', 'ini', 'netrc', 'pgpass', or '' for files the config detector skips."""
    name = basename(path).lower()
    if name in _LOCKFILES:
        return ""
    if name in DOTFILES:
        return DOTFILES[name]
    if "." not in name or name.startswith("."):
        kind = DOTDIR_FILES.get(tail(path))
        if kind:
            return kind
    if name.endswith(".kubeconfig"):
        return "yaml"
    if name.endswith(YAML_EXT):
        return "yaml"
    if name.endswith(JSON_EXT):
        return "json"
    if name.endswith(XML_EXT) and not name.endswith((".cfg", ".conf")):
        return "xml"
    if name.endswith(INI_EXT):
        return "ini"
    return ""


# Blanks on the YAML line are spaces and tabs: "^\s*" also crossed newlines, so every line start in
# a run of blank lines re-read the whole run (quadratic).
_K8S_KIND = lazy(rb"(?im)^[ \t]*[\"']?kind[\"']?[ \t]*:[ \t]*[\"']?secret[\"']?[ \t\r]*$|\"kind\"\s*:\s*\"Secret\"")


def may_be_kubernetes(path: str) -> bool:
    return path.lower().endswith(YAML_EXT + JSON_EXT)


def is_kubernetes_secret(data: bytes) -> bool:
    return bool(_K8S_KIND.search(data))


def wants_kubernetes(path: str, data: bytes) -> bool:
    return may_be_kubernetes(path) and is_kubernetes_secret(data)


_PASSWORD_FILES = {
    ".htpasswd": "htpasswd", "htpasswd": "htpasswd", ".htdigest": "htdigest", "htdigest": "htdigest",
    "shadow": "shadow", "shadow-": "shadow", "gshadow": "shadow", "master.passwd": "shadow",
}


def password_file_kind(path: str) -> str:
    """'htpasswd', 'htdigest' or 'shadow' for password files (see detectors.passwdfile), or ""."""
    name = basename(path).lower()
    if name.endswith(".htpasswd"):
        return "htpasswd"
    return _PASSWORD_FILES.get(name, "")


def key_file_rule(path: str) -> str:
    """The rule for a file whose whole content is one secret (see detectors.keyfile), or ""."""
    name = basename(path).lower()
    if name == "master.key" or name.endswith(".key") and tail(path).startswith("credentials/"):
        return "rails-master-key"
    if name == ".vault-token":
        return "vault-token-file"
    return ""


def wants_terraform(path: str) -> bool:
    name = basename(path).lower()
    # .terraformrc / terraform.rc: the CLI configuration, whose credentials blocks hold API tokens.
    return name.endswith((".tf", ".tfvars", ".hcl")) or name in (".terraformrc", "terraform.rc")


def structured(path: str) -> bool:
    """Files whose key = value structure the detectors parse fully (YAML, JSON, TOML, env files,
    Dockerfiles, Terraform): there the detectors, not the line-oriented generic regexes, judge
    credential assignments. INI/.conf/XML/HCL are left out: code-like snippets live there too."""
    name = basename(path).lower()
    return (
        name.endswith(YAML_EXT + JSON_EXT + (".toml", ".tf", ".tfvars"))
        or wants_envfile(path)
        or wants_dockerfile(path)
    ) and name not in _LOCKFILES
