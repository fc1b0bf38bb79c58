"""The errors a command can be refused with; adapters map them to exit codes and HTTP statuses."""


class DomainError(Exception):
    """Base of every refusal: nothing was written when one is raised."""


class NotFound(DomainError):
    """No incident or problem answers to the given reference."""


class ValidationFailed(DomainError):
    """A command's input is invalid; `field` names the offending input."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Refused(DomainError):
    """The command is valid input but the record's current situation forbids it."""


class IllegalTransition(Refused):
    """The record's lifecycle does not allow the command in its current state."""

    def __init__(self, record: str, state: str, command: str, allowed: list[str]) -> None:
        allowed_text = ", ".join(allowed) if allowed else "no state"
        super().__init__(
            f"{record} is {state}: cannot {command} (allowed from {allowed_text})"
        )
        self.record = record
        self.state = state
        self.command = command


class Conflict(DomainError):
    """Someone else changed the record first; reload it and retry."""
