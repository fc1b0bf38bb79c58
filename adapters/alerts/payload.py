"""What both parsers share: pydantic validation whose errors name the payload's field."""

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from domain.alert import Alert
from domain.errors import ValidationFailed
from projections.fingerprint import fingerprint

M = TypeVar("M", bound=BaseModel)


def field_path(location: tuple[int | str, ...]) -> str:
    """('alerts', 2, 'startsAt') -> `alerts[2].startsAt`."""
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path or "(payload)"


def _refusal(error: ValidationError, prefix: tuple[int | str, ...] = ()) -> ValidationFailed:
    first = error.errors()[0]
    reason = first["msg"][:1].lower() + first["msg"][1:]
    return ValidationFailed(field_path((*prefix, *first["loc"])), reason)


def parsed(model: type[M], payload: Any) -> M:
    """`payload` as `model`, or ValidationFailed naming the first bad field."""
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise _refusal(error) from None


def alert(position: tuple[int | str, ...], **fields: Any) -> Alert:
    """A normalised alert with its symptom fingerprint; errors name the payload's field."""
    try:
        return Alert(fingerprint=fingerprint(str(fields.get("summary") or "")), **fields)
    except ValidationError as error:
        raise _refusal(error, position) from None
