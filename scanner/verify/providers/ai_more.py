"""More AI APIs: listing models or naming the key (free, read-only)."""

from __future__ import annotations

from scanner.verify.http import bearer, simple

BEARER = "Authorization: Bearer …"

GROQ = simple("groq", "groq", ("groq-api-key",), "api.groq.com", "/openai/v1/models", lambda c: bearer(c.text), BEARER)
MISTRAL = simple("mistral", "mistral", ("mistral-api-key",), "api.mistral.ai", "/v1/models", lambda c: bearer(c.text),
                 BEARER)
REPLICATE = simple("replicate", "replicate", ("replicate-api-token",), "api.replicate.com", "/v1/account",
                   lambda c: bearer(c.text), BEARER, who=lambda r: f"user {r.json()['username']}")
ELEVENLABS = simple("elevenlabs", "elevenlabs", ("elevenlabs-api-key",), "api.elevenlabs.io", "/v1/user",
                    lambda c: {"xi-api-key": c.text}, "xi-api-key: …")
DEEPSEEK = simple("deepseek", "deepseek", ("deepseek-api-key",), "api.deepseek.com", "/user/balance",
                  lambda c: bearer(c.text), BEARER)
XAI = simple("xai", "xai", ("xai-api-key",), "api.x.ai", "/v1/api-key", lambda c: bearer(c.text), BEARER,
             who=lambda r: f"key '{r.json()['name']}'")
OPENROUTER = simple("openrouter", "openrouter", ("openrouter-api-key",), "openrouter.ai", "/api/v1/key",
                    lambda c: bearer(c.text), BEARER, who=lambda r: f"key '{r.json()['data']['label']}'")
TOGETHER = simple("together", "together", ("together-api-key",), "api.together.xyz", "/v1/models",
                  lambda c: bearer(c.text), BEARER)
