"""One rewriter per file kind: replace each literal with a run-time reference, changing nothing
else. ``REWRITERS`` maps a kind to its :class:`~scanner.remediate.rewriters.base.Rewriter`;
:func:`classify` gives a file the first kind that claims it, so specific kinds (a CloudFormation
template, a compose file) come before the general ones (``config``) they would otherwise fall
into. A new platform is one module plus one line here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional
from urllib.parse import unquote_to_bytes

from scanner.remediate.records import Item, Manual, Site, Workspace
from scanner.remediate.rewriters import (cloudformation, compose, config, dockerfile, dotenv, ecs, github_actions,
                                         javascript, kubernetes, npmrc, pypirc, python, serverless,
                                         terraform)
from scanner.remediate.rewriters.base import Context, Grant, Pairs, Rewriter
from scanner.remediate.settings import Settings

if TYPE_CHECKING:
    from scanner.remediate.stores.base import SecretStore

REWRITERS: dict[str, Rewriter] = {
    "python": python.REWRITER,
    "javascript": javascript.REWRITER,
    "dockerfile": dockerfile.REWRITER,
    "env": dotenv.REWRITER,
    "serverless": serverless.REWRITER,  # serverless.yml (before cloudformation: its resources: look alike)
    "cloudformation": cloudformation.REWRITER,
    "github-actions": github_actions.REWRITER,  # .github/workflows/*.yml
    "ecs": ecs.REWRITER,  # a task definition: JSON with containerDefinitions
    "kubernetes": kubernetes.REWRITER,  # YAML with apiVersion and kind
    "compose": compose.REWRITER,
    "terraform": terraform.REWRITER,  # .tf
    "npmrc": npmrc.REWRITER,
    "pypirc": pypirc.REWRITER,
    "config": config.REWRITER,  # last: any structured file no kind above claimed
}

__all__ = ["REWRITERS", "Context", "Grant", "Pairs", "Rewriter", "classify", "rewrite_all", "stored_value"]


def classify(path: str, data: Optional[bytes]) -> Optional[str]:
    for kind, rewriter in REWRITERS.items():
        if rewriter.claims(path, data):
            return kind
    return None


def stored_value(path: str, data: Optional[bytes], site: Site, text: bytes) -> Optional[bytes]:
    """The value to store for a site whose text encodes it (``Rewriter.stored``), else None."""
    kind = classify(path, data)
    fn = REWRITERS[kind].stored if kind else None
    return fn(path, data, site, text) if fn else None


def _encoded(site: Site, item: Item) -> bool:
    """A URI password stored decoded: the site's text is its percent-encoding."""
    return (site.literal is not None and item.connection is not None and b"%" in site.literal
            and unquote_to_bytes(site.literal) == item.value)


def rewrite_all(ws: Workspace, items: list[Item], settings: Settings, store: SecretStore) -> Context:
    """Rewrite every file holding a planned value; the context carries manual steps, notes,
    ECS wiring and IAM grants."""
    ctx = Context(settings=settings, store=store, region=settings.region or "us-east-1")
    by_path: dict[str, Pairs] = {}
    for it in items:
        for s in it.sites:
            by_path.setdefault(s.path, []).append((s, it))
    for path in sorted(by_path):
        kind = classify(path, ws.read(path))
        if kind is None:
            ctx.manual += [Manual(s, "no rewriter for this file type: replace by hand") for s, _ in by_path[path]]
            continue
        pairs = by_path[path]
        if not REWRITERS[kind].rebuilds_uris:
            ctx.manual += [Manual(s, "a percent-encoded password inside a connection URI: this file type would get it "
                                     "decoded; rebuild the URI from the secret by hand") for s, it in pairs if _encoded(s, it)]
            pairs = [(s, it) for s, it in pairs if not _encoded(s, it)]
        if pairs:
            REWRITERS[kind].rewrite(ws, path, pairs, ctx)
    for _, step in sorted(ctx.finish.items()):
        step()
    return ctx
