"""Who may do what: roles, the permission matrix, and bearer tokens kept only as hashes.

The `[auth]` section of `tandem.toml` lists the principals:

    [[auth.principals]]
    name = "alice"
    roles = ["agent"]
    token_sha256 = "<sha256 hex of alice's token>"
"""

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ADMIN = "admin"
"""The principal name of the admin token (TANDEM_ADMIN_TOKEN or the one made on first start)."""


class Role(StrEnum):
    REPORTER = "reporter"
    AGENT = "agent"
    MANAGER = "manager"
    AUDITOR = "auditor"
    ADMIN = "admin"
    MONITOR = "monitor"
    """A monitoring system's token: it may post alerts and nothing else."""


class Permission(StrEnum):
    """One per kind of endpoint; each route names the permission it needs."""

    READ_RECORDS = "read records"  # incident and problem detail and lists
    OPEN_INCIDENT = "open incident"
    NOTE_INCIDENT = "add incident note"
    HANDLE_INCIDENT = "handle incident"  # assign, categorize, ... resolve, reopen, close
    CANCEL_INCIDENT = "cancel incident"
    OPEN_PROBLEM = "open problem"
    INVESTIGATE_PROBLEM = "investigate problem"  # link, unlink, notes, root cause
    MANAGE_PROBLEM = "manage problem"  # known error, request change, resolve, close, cancel
    READ_QUEUES = "read queues"
    READ_HISTORY = "read history"  # audit history, as of any time
    READ_METRICS = "read metrics"
    READ_API_DOCS = "read API docs"  # /docs and /openapi.json
    READ_SLA = "read SLA clocks"
    READ_SUGGESTIONS = "read known-error suggestions"
    READ_RECURRENCE = "read recurrence patterns"
    POST_ALERTS = "post alerts"  # the alert webhooks


_R, _A, _M, _U, _D = Role.REPORTER, Role.AGENT, Role.MANAGER, Role.AUDITOR, Role.ADMIN
_MON = Role.MONITOR
PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.READ_RECORDS: frozenset({_R, _A, _M, _U, _D}),
    Permission.OPEN_INCIDENT: frozenset({_R, _A, _M, _D}),
    Permission.NOTE_INCIDENT: frozenset({_R, _A, _M, _D}),
    Permission.HANDLE_INCIDENT: frozenset({_A, _M, _D}),
    Permission.CANCEL_INCIDENT: frozenset({_A, _M, _D}),
    Permission.OPEN_PROBLEM: frozenset({_A, _M, _D}),
    Permission.INVESTIGATE_PROBLEM: frozenset({_A, _M, _D}),
    Permission.MANAGE_PROBLEM: frozenset({_M, _D}),
    Permission.READ_QUEUES: frozenset({_A, _M, _U, _D}),
    Permission.READ_HISTORY: frozenset({_M, _U, _D}),
    Permission.READ_METRICS: frozenset({_U, _D}),
    Permission.READ_API_DOCS: frozenset({_R, _A, _M, _U, _D}),
    Permission.READ_SLA: frozenset({_R, _A, _M, _U, _D}),
    Permission.READ_SUGGESTIONS: frozenset({_A, _M, _U, _D}),
    Permission.READ_RECURRENCE: frozenset({_A, _M, _U, _D}),
    Permission.POST_ALERTS: frozenset({_MON, _D}),
}
"""The permission matrix (docs/http.md shows it as a table): the roles granted each permission.
The auditor reads everything and changes nothing; a monitor only posts alerts."""

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def token_hash(token: str) -> str:
    """What the configuration and the store keep instead of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class PrincipalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")
    roles: list[Role] = Field(min_length=1)
    token_sha256: str

    @field_validator("token_sha256")
    @classmethod
    def _is_a_hash(cls, value: str) -> str:
        if not _SHA256_HEX.fullmatch(value):
            raise ValueError("must be the 64 lower-case hex digits of the token's SHA-256 "
                             "(the token itself is never stored)")
        return value

    @field_validator("roles")
    @classmethod
    def _monitor_alone(cls, roles: list[Role]) -> list[Role]:
        if Role.MONITOR in roles and len(set(roles)) > 1:
            raise ValueError("the monitor role stands alone: an alert token is only an alert "
                             "token (give the people their own principal)")
        return roles


class AuthConfig(BaseModel):
    """`[auth]`: the principals the API knows, each with roles and a token hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    principals: list[PrincipalConfig] = []

    @model_validator(mode="after")
    def _unique(self) -> "AuthConfig":
        names = [principal.name for principal in self.principals]
        hashes = [principal.token_sha256 for principal in self.principals]
        if len(set(names)) != len(names):
            raise ValueError("principal names must be unique")
        if len(set(hashes)) != len(hashes):
            raise ValueError("two principals share one token")
        return self


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: its name becomes every event's actor."""

    name: str
    roles: frozenset[Role]

    def may(self, permission: Permission) -> bool:
        return bool(self.roles & PERMISSIONS[permission])


class Access:
    """Turns a bearer token into a principal, comparing hashes in constant time."""

    def __init__(self, principals: Iterable[PrincipalConfig], *, admin_hashes: Iterable[str]
                 ) -> None:
        self._known = [(p.token_sha256, Principal(p.name, frozenset(p.roles)))
                       for p in principals]
        self._known += [(digest, Principal(ADMIN, frozenset({Role.ADMIN})))
                        for digest in admin_hashes]

    def principal(self, token: str) -> Principal | None:
        digest = token_hash(token)
        found = None
        for known, principal in self._known:  # no early exit: every hash is compared
            if hmac.compare_digest(known, digest):
                found = principal
        return found
