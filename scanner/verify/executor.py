"""Runs verification jobs: bounded concurrency, one deadline for the whole phase, a rate limit
per provider, retries with backoff on 429/5xx, and the results cache.

Whatever a verifier answers, a finding's ``verification`` detail never holds the value: the
detail is cut to one short printable line and any part of the credential in it is masked.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence

from scanner.models import Finding, Identity, mask
from scanner.verify.base import ERROR, STATUSES, UNKNOWN, VERIFIED, Context, Credential, Result, Retry, Unverifiable, Verifier
from scanner.verify.cache import DEFAULT_TTL, Cache
from scanner.verify.jobs import Job, plan

DEFAULT_TIMEOUT = 20.0  # seconds verification may add to a run (--verify-timeout)
DEFAULT_JOBS = 8  # requests in flight at once
MAX_ATTEMPTS = 3
FIRST_BACKOFF = 0.25  # seconds; doubled after each transient answer
MAX_BACKOFF = 5.0  # a provider's Retry-After is honoured up to this
MAX_DETAIL = 200


@dataclass(frozen=True)
class Settings:
    timeout: float = DEFAULT_TIMEOUT
    jobs: int = DEFAULT_JOBS
    allowed_endpoints: tuple[str, ...] = ()
    cache_path: Optional[Path] = None
    ttl: float = DEFAULT_TTL
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ), repr=False)


class RateLimiter:
    """At most ``rate`` requests per second to each provider, spread evenly across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def wait(self, name: str, rate: float, deadline: float) -> bool:
        """Sleep until this provider's next slot; False (and no slot taken) if it is past the deadline."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(name, now))
            if slot >= deadline:
                return False
            self._next[name] = slot + 1.0 / rate
        if slot > now:
            time.sleep(slot - now)
        return True


def verify_findings(findings: Sequence[Finding], settings: Settings, identity: Identity,
                    verifiers: Optional[Mapping[str, Verifier]] = None) -> None:
    """Set ``verification`` on every finding (``{"status", "detail"}``)."""
    if verifiers is None:
        from scanner.verify.registry import VERIFIERS

        verifiers = VERIFIERS
    jobs, settled = plan(findings, verifiers)
    for f, result in settled:
        f.verification = result.as_dict()
    cache = Cache.load(settings.cache_path, settings.ttl)
    for job, result in zip(jobs, run(jobs, settings, cache, identity)):
        for f in job.findings:
            if (f.verification or {}).get("status") != VERIFIED:
                f.verification = result.as_dict()
    cache.save()


def cache_key(identity: Identity, job: Job) -> str:
    cred = job.credential
    return identity.digest(f"verify:{job.verifier.name}", cred.value + b"\0" + cred.companion)


def run(jobs: Sequence[Job], settings: Settings, cache: Cache, identity: Identity) -> list[Result]:
    """Each job's result, in order; a job without an answer by the deadline is ``unknown``."""
    deadline = time.monotonic() + settings.timeout
    keys = [cache_key(identity, j) for j in jobs]
    results: list[Optional[Result]] = [cache.get(k) for k in keys]
    todo = [i for i, r in enumerate(results) if r is None]
    if todo:
        limiter = RateLimiter()
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, settings.jobs))
        futures = {pool.submit(attempt, jobs[i], settings, deadline, limiter): i for i in todo}
        done, _ = concurrent.futures.wait(futures, timeout=max(0.0, deadline - time.monotonic()) + 0.5)
        pool.shutdown(wait=False, cancel_futures=True)
        for fut in done:
            results[futures[fut]] = fut.result()
    out = []
    for job, key, r in zip(jobs, keys, results):
        r = clean(r or Result(UNKNOWN, f"no answer within --verify-timeout {settings.timeout:g}s"), job.credential)
        cache.put(key, r)
        out.append(r)
    return out


def attempt(job: Job, settings: Settings, deadline: float, limiter: RateLimiter) -> Result:
    """Ask the provider, retrying transient answers with backoff while time remains."""
    v, backoff, last = job.verifier, FIRST_BACKOFF, None
    for n in range(1, MAX_ATTEMPTS + 1):
        if not limiter.wait(v.provider, v.rate, deadline):
            break
        ctx = Context(timeout=max(0.05, deadline - time.monotonic()), allowed_endpoints=settings.allowed_endpoints,
                      environ=settings.environ)
        try:
            return v.check(job.credential, ctx)
        except Retry as exc:
            last = exc
        except Unverifiable as exc:
            return Result(UNKNOWN, f"cannot be checked: {exc}")
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            return _fault(exc)
        except Exception as exc:  # a verifier's bug must not end the scan; named, never its message
            return Result(ERROR, f"verifier {v.name} failed ({type(exc).__name__})")
        pause = min(last.after if last.after is not None else backoff, MAX_BACKOFF)
        backoff *= 2
        if n == MAX_ATTEMPTS or time.monotonic() + pause >= deadline:
            break
        time.sleep(pause)
    if last is None:
        return Result(UNKNOWN, f"no answer within --verify-timeout {settings.timeout:g}s")
    return Result(last.status, f"{last.detail}, {n} attempt(s)")


def _fault(exc: BaseException) -> Result:
    """A network fault, named by its kind (messages can quote hosts and, for some libraries, more)."""
    if isinstance(exc, TimeoutError):
        return Result(UNKNOWN, "no answer in time (timeout)")
    reason = getattr(exc, "strerror", None) or type(exc).__name__
    return Result(ERROR, f"network error: {reason}")


def clean(result: Result, cred: Credential) -> Result:
    """One short printable line, with any part of the credential in it masked."""
    detail = result.detail
    for part in (cred.text, cred.companion_text):
        if len(part) >= 4 and part in detail:
            detail = detail.replace(part, mask(part))
    detail = "".join(c if c.isprintable() else " " for c in detail)[:MAX_DETAIL]
    status = result.status if result.status in STATUSES else ERROR
    return Result(status, detail)
