"""Opaque page cursors: the resume key of the last item, base64url-encoded JSON."""

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from adapters.http.errors import ApiError
from projections.pages import Key, Page

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def encode(after: Key | None) -> str | None:
    if after is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(list(after)).encode()).decode().rstrip("=")


def decode(cursor: str | None) -> Key | None:
    """The resume key a cursor carries; 422 naming `cursor` if it is not one we issued."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError):
        key = None
    if not isinstance(key, list) or not key or not all(
            isinstance(part, str | int) and not isinstance(part, bool) for part in key):
        raise _not_ours()
    return tuple(key)


def page(read: Callable[[Key | None], Page], cursor: str | None) -> dict[str, Any]:
    """`{items, next_cursor}` of the page after `cursor`."""
    try:
        found = read(decode(cursor))
    except ValueError:
        raise _not_ours() from None
    return {"items": found.items, "next_cursor": encode(found.after)}


def _not_ours() -> ApiError:
    return ApiError(422, "invalid-input", "cursor: not a cursor this API issued for this list "
                    "(pass next_cursor from the previous page unchanged)", field="cursor")
