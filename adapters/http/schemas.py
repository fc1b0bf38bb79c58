"""Request bodies the domain models do not already define, and the documented response shapes.

Responses are written by `adapters.views` (the `show --json` keys) and the read models; these
models describe them in the OpenAPI schema, which the schemathesis tests hold them to.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.commands import Command, Description, Name, Text, Title


class OpenProblemBody(Command):
    """`tandem problem open`: `--incident` (repeatable) becomes the list `incidents`."""

    title: Title
    service: Name | None = None
    description: Description = ""
    incidents: list[Name] = []  # noqa: RUF012  # pydantic copies field defaults


class ResolveProblemBody(Command):
    """`tandem problem resolve --notes T [--resolve-incidents]`."""

    notes: Text
    resolve_incidents: bool = False


class LinkBody(Command):
    """`tandem problem link|unlink P N`: the incident's number or UUID."""

    incident: Name


class NoFields(Command):
    """Commands without options (resume, problem close): an empty object, or no body."""


class _Shown(BaseModel):
    model_config = ConfigDict(extra="allow")


class IncidentView(_Shown):
    """`tandem incident show --json`."""

    id: str
    number: str
    title: str
    service: str
    state: str
    impact: int
    urgency: int
    priority: str
    assignment_group: str | None
    assignee: str | None
    problem: str | None
    version: int
    category: str | None
    subcategory: str | None
    description: str
    caller: str | None
    channel: str
    hold_reason: str | None
    escalation_level: int
    workaround: str | None
    known_error: str | None
    resolution_code: str | None
    resolution_notes: str | None
    close_code: str | None
    reopen_count: int
    work_notes: int
    opened_at: str | None
    updated_at: str | None
    resolved_at: str | None
    closed_at: str | None


class ProblemView(_Shown):
    """`tandem problem show --json`."""

    id: str
    number: str
    title: str
    service: str | None
    state: str
    known_error: bool
    incidents: list[str]
    version: int
    description: str
    root_cause: str | None
    workaround: str | None
    change_refs: list[str]
    investigation_notes: int
    resolution_notes: str | None
    opened_at: str | None
    updated_at: str | None


class IncidentRow(_Shown):
    """One incident in a list or queue (the incident read model's row)."""

    id: str
    number: str
    title: str
    service: str
    category: str | None
    subcategory: str | None
    impact: int
    urgency: int
    priority: str
    state: str
    hold_reason: str | None
    assignment_group: str | None
    assignee: str | None
    problem: str | None
    escalation_level: int
    opened_at: str
    updated_at: str
    resolved_at: str | None
    closed_at: str | None
    sla_due_at: str | None
    version: int


class ProblemRow(_Shown):
    id: str
    number: str
    title: str
    service: str | None
    state: str
    known_error: bool
    incidents: list[str]
    root_cause: str | None
    workaround: str | None
    opened_at: str
    updated_at: str
    version: int


class IncidentPage(BaseModel):
    items: list[IncidentRow]
    next_cursor: str | None
    """Pass as `cursor` for the next page; null on the last page."""


class ProblemPage(BaseModel):
    items: list[ProblemRow]
    next_cursor: str | None


class Change(BaseModel):
    field: str
    old: Any
    new: Any


class HistoryEntry(_Shown):
    """One event as `tandem audit history --json` prints it: the envelope, summary, changes."""

    event_id: str
    position: int
    stream_id: str
    stream_type: str
    version: int
    type: str
    schema_: int = Field(alias="schema")
    occurred_at: str
    actor: str
    data: dict[str, Any]
    hash: str
    prev_hash: str
    summary: str
    changes: list[Change]
