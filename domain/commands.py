"""Command inputs as pydantic models: each field's rule in one place; errors name the field."""

from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from domain.errors import ValidationFailed
from domain.incident import Channel, EscalationKind, HoldReason, ResolutionCode
from domain.sla import BREACH, Target


def _no_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL: one in an event would stop the read models there."""
    if "\x00" in text:
        raise ValueError("must not contain the NUL character (U+0000)")
    return text


NoNul = AfterValidator(_no_nul)
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                 NoNul]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=160),
                  NoNul]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
                 NoNul]
Actor = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                  NoNul]
Level = Annotated[int, Field(ge=1, le=3)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000), NoNul]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpenIncident(Command):
    title: Title
    service: Name
    category: Name | None = None
    subcategory: Name | None = None
    impact: Level = 3
    urgency: Level = 3
    description: Description = ""
    caller: Name | None = None
    channel: Channel = Channel.SERVICE_DESK


class AssignIncident(Command):
    group: Name
    assignee: Name | None = None


class CategorizeIncident(Command):
    category: Name
    subcategory: Name | None = None


class PrioritizeIncident(Command):
    impact: Level
    urgency: Level


class EscalateIncident(Command):
    kind: EscalationKind
    to: Name
    reason: Text


class HoldIncident(Command):
    reason: HoldReason


class AddNote(Command):
    text: Text


class ApplyWorkaround(Command):
    text: Text
    known_error: Name | None = None


class ResolveIncident(Command):
    code: ResolutionCode
    notes: Text


class GiveReason(Command):
    reason: Text


class CloseIncident(Command):
    code: ResolutionCode | None = None


class OpenProblem(Command):
    title: Title
    service: Name | None = None
    description: Description = ""
    incidents: list[Name] = []


class IdentifyRootCause(Command):
    text: Text


class RecordKnownError(Command):
    workaround: Text


class RequestChange(Command):
    change_ref: Name


class ResolveProblem(Command):
    notes: Text
    resolve_linked_incidents: bool = False


class RecordSlaWarning(Command):
    target: Target
    threshold: Annotated[int, Field(ge=1, lt=BREACH)]
    reached_at: AwareDatetime
    due_at: AwareDatetime


class RecordSlaBreach(Command):
    target: Target
    due_at: AwareDatetime
    escalate_to: Name | None = None


class Attribution(Command):
    actor: Actor


C = TypeVar("C", bound=Command)


def validated(command: type[C], **values: Any) -> C:
    """Build `command` from raw input, or raise ValidationFailed naming the first bad field."""
    try:
        return command(**values)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or command.__name__
        raise ValidationFailed(field, first["msg"][:1].lower() + first["msg"][1:]) from None
