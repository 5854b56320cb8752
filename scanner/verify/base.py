"""The records of live verification: what a verifier declares, what it is given, what it answers.

A verifier makes one read-only request to its provider's documented API host and maps the
answer to a status. It never sees more than the value (and, for providers whose credentials come
in parts, the companion value found beside it); it never writes anything anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Mapping, Optional

if TYPE_CHECKING:
    from scanner.models import Finding

# The statuses a finding's ``verification`` can carry.
VERIFIED = "verified"  # the provider accepted the credential: it is live
INVALID = "invalid"  # the provider rejected it: revoked, expired or never valid
UNKNOWN = "unknown"  # not checked: no verifier, a missing part, or no answer in time
ERROR = "error"  # checked, but the answer was neither (network fault, 5xx after retries)
STATUSES = (VERIFIED, INVALID, UNKNOWN, ERROR)


@dataclass(frozen=True)
class Result:
    status: str
    detail: str = ""  # who the credential belongs to, the HTTP status...; never the value

    def as_dict(self) -> dict:
        return {"status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class Credential:
    """What a verifier is given: the value, and the companion part when its provider needs one
    (an AWS access key ID for a secret access key, a Twilio account SID for an auth token)."""

    value: bytes = field(repr=False)
    companion: bytes = field(default=b"", repr=False)
    context: bytes = field(default=b"", repr=False)  # the URI holding it, for verifiers of own_host


    @property
    def text(self) -> str:
        return self.value.decode("utf-8", "replace")

    @property
    def companion_text(self) -> str:
        return self.companion.decode("utf-8", "replace")

    @property
    def context_text(self) -> str:
        return self.context.decode("utf-8", "replace")


@dataclass(frozen=True)
class Context:
    """What a check may use besides the credential: the time it has, and the AWS endpoints the
    configuration allows (``verify.allowed_endpoints``)."""

    timeout: float
    allowed_endpoints: tuple[str, ...] = ()
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)


class Retry(Exception):
    """Raised by a check for an answer worth asking again (429, 5xx): the executor backs off
    (``after`` seconds when the provider said so) and retries while time remains."""

    def __init__(self, detail: str, after: Optional[float] = None, status: str = ERROR) -> None:
        super().__init__(detail)
        self.detail = detail
        self.after = after
        self.status = status  # what the finding gets if no retry succeeds


@dataclass(frozen=True)
class Verifier:
    """One provider's check. ``hosts`` are the only hosts it contacts (fixed in code);
    ``request`` says in one line the single read-only request it makes; ``check`` makes it and
    maps the answer to a :class:`Result` (raising :class:`Retry` for a transient answer).
    ``companions``: rule ids whose value, found in the same file, completes the credential.
    ``own_host``: the credential names its own server (a database URI): the check contacts the
    host in the URI found on the finding's line, and ``hosts`` is empty. ``locate`` finds what
    the check needs beside the value in the finding's file (:mod:`scanner.verify.context`), into
    ``Credential.context``; without it the finding is ``unknown`` with ``locate_missing`` (when
    ``locate_missing`` is empty the context is optional: the check does without it)."""

    name: str
    provider: str
    rule_ids: tuple[str, ...]
    hosts: tuple[str, ...]
    request: str
    check: Callable[[Credential, Context], Result] = field(repr=False)
    companions: tuple[str, ...] = ()
    rate: float = 20.0  # requests per second at most, to this provider, across the run
    own_host: bool = False
    locate: Optional[Callable[["Finding"], bytes]] = field(default=None, repr=False)
    locate_missing: str = ""


class Unverifiable(Exception):
    """Raised by a check for a value it cannot ask about (a malformed part): ``unknown``."""
