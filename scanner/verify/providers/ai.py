"""AI APIs: OpenAI, Anthropic, Hugging Face (listing models or naming the account: free, read-only)."""

from __future__ import annotations

from scanner.verify.http import bearer, simple

OPENAI = simple(
    "openai", "openai", ("openai-api-key", "openai-project-key"), "api.openai.com", "/v1/models",
    lambda c: bearer(c.text), "Authorization: Bearer …", who=lambda r: f"{len(r.json()['data'])} models visible")
ANTHROPIC = simple(
    "anthropic", "anthropic", ("anthropic-api-key",), "api.anthropic.com", "/v1/models?limit=1",
    lambda c: {"x-api-key": c.text, "anthropic-version": "2023-06-01"}, "x-api-key: …")
HUGGINGFACE = simple(
    "huggingface", "huggingface", ("huggingface-access-token", "huggingface-org-token"), "huggingface.co",
    "/api/whoami-v2", lambda c: bearer(c.text), "Authorization: Bearer …",
    who=lambda r: f"user {r.json()['name']}")
