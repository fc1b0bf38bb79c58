"""How every write runs: If-Match -> expected version, Idempotency-Key, the answer with an ETag."""

import json
import re
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from adapters.http.access import Principal
from adapters.http.errors import ApiError
from adapters.http.idempotency import Answer, IdempotencyKeys
from adapters.views import incident_view, problem_view
from domain.errors import Conflict
from domain.incident import Incident
from domain.problem import Problem

Record = Incident | Problem
RACE_RETRIES = 3
"""Without If-Match a command that lost a race with another writer is run again on the new
version, up to this many times; with If-Match the client decides (409)."""
_IF_MATCH = re.compile(r'\s*(?:W/)?"?(\d{1,18})"?\s*')


def etag(version: int) -> str:
    """The record's version as an RFC 9110 entity tag: `"7"`."""
    return f'"{version}"'


def expected_version(request: Request) -> int | None:
    """`If-Match: "7"` (or `7`) -> 7; absent or `*` -> None (no version check)."""
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    match = _IF_MATCH.fullmatch(header)
    if match is None:
        raise ApiError(422, "invalid-input", f'If-Match: {header!r} is not a record version '
                       '(send the ETag you read, e.g. "7")', field="If-Match")
    return int(match.group(1))


def view(record: Record) -> dict[str, Any]:
    return incident_view(record) if isinstance(record, Incident) else problem_view(record)


def record_response(record: Record, *, status: int = 200) -> JSONResponse:
    """The record as GET shows it, with its version as the ETag."""
    headers = {"ETag": etag(record.version)}
    if status == 201:
        kind = "incidents" if isinstance(record, Incident) else "problems"
        headers["Location"] = f"/{kind}/{record.number}"
    return JSONResponse(view(record), status_code=status, headers=headers)


def run(request: Request, principal: Principal, act: Callable[[int | None], Record], *,
        body: Any = None, status: int = 200) -> Response:
    """Run `act(expected_version)` once per Idempotency-Key; answer with the record."""
    version = expected_version(request)
    key = request.headers.get("idempotency-key")
    if key is None:
        return record_response(_attempt(act, version), status=status)
    keys: IdempotencyKeys = request.app.state.idempotency
    asked = json.dumps({"method": request.method, "path": request.url.path,
                        "if_match": version, "body": body}, sort_keys=True, default=str)
    replay = keys.claim(principal.name, key, asked)
    if replay is not None:
        return Response(replay.body, status_code=replay.status, media_type="application/json",
                        headers={**replay.headers, "Idempotent-Replayed": "true"})
    try:
        response = record_response(_attempt(act, version), status=status)
    except BaseException:
        keys.release(principal.name, key)
        raise
    headers = {name: response.headers[name] for name in ("etag", "location")
               if name in response.headers}
    keys.answer(principal.name, key, Answer(response.status_code, bytes(response.body).decode(),
                                            headers))
    return response


def command(request: Request, principal: Principal, act: Callable[..., Record], ref: str,
            body: BaseModel | None = None) -> Response:
    """`act(ref, actor=..., expected_version=..., **body)`: a ServiceDesk command on one
    record, as the caller, through `run` (If-Match, Idempotency-Key)."""
    fields = body.model_dump() if body is not None else {}
    return run(request, principal, lambda version: act(
        ref, actor=principal.name, expected_version=version, **fields),
        body=body.model_dump(mode="json") if body is not None else {})


def _attempt(act: Callable[[int | None], Record], version: int | None) -> Record:
    for _ in range(RACE_RETRIES if version is None else 0):
        try:
            return act(None)
        except Conflict:
            continue
    return act(version)
