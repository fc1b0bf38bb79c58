"""Every error as RFC 9457 problem+json: domain refusals, bad input, auth failures."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import (
    Conflict,
    DomainError,
    IllegalTransition,
    NotFound,
    Refused,
    ValidationFailed,
)
from projections.queries import NotBuilt

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:tandem:error:"
_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Content too large",
           422: "Invalid input",
           503: "Service unavailable"}


class ProblemDetails(BaseModel):
    """RFC 9457 body; `field` names the bad input of a 422."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None


class ApiError(Exception):
    """An error the API answers itself (auth, If-Match, Idempotency-Key, cursor)."""

    def __init__(self, status: int, kind: str, detail: str, *, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.kind, self.detail = status, kind, detail
        self.field = field
        self.headers = headers or {}


def problem(request: Request, status: int, kind: str, detail: str, *,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": TYPE_PREFIX + kind, "title": _TITLES.get(status, "Error"),
            "status": status, "detail": detail, "instance": request.url.path,
            **{key: value for key, value in extra.items() if value is not None}}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _domain(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, NotFound):
        return problem(request, 404, "not-found", str(error))
    if isinstance(error, IllegalTransition):
        return problem(request, 409, "illegal-transition", str(error), state=error.state,
                       command=error.command)
    if isinstance(error, Conflict):
        return problem(request, 409, "stale-version", str(error))
    if isinstance(error, Refused):
        return problem(request, 409, "refused", str(error))
    if isinstance(error, ValidationFailed):
        return problem(request, 422, "invalid-input", str(error), field=error.field)
    return problem(request, 409, "refused", str(error))


def _invalid(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0]
    where = [str(part) for part in first.get("loc", ())]
    field = ".".join(where[1:]) if len(where) > 1 else (where[0] if where else "body")
    message = str(first.get("msg", "invalid"))
    if first.get("type") == "json_invalid":
        field, message = "body", "not valid JSON"
    if first.get("type") == "extra_forbidden" and field == "actor":
        message = "the actor is the authenticated principal: do not send one"
    return problem(request, 422, "invalid-input", f"{field}: {message[:1].lower()}{message[1:]}",
                   field=field)


def _api(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return problem(request, error.status, error.kind, error.detail, field=error.field,
                   headers=error.headers)


def _http(request: Request, error: Exception) -> JSONResponse:
    """No such path or method: said only to a known caller, so that nothing but /health
    answers without a token."""
    assert isinstance(error, StarletteHTTPException)
    from adapters.http.auth import authenticate  # auth raises this module's ApiError

    try:
        authenticate(request)
    except ApiError as unknown:
        return _api(request, unknown)
    kind = {404: "no-such-endpoint", 405: "method-not-allowed",
            413: "body-too-large"}.get(error.status_code, "http")
    return problem(request, error.status_code, kind, str(error.detail),
                   headers=dict(error.headers or {}))


def too_large(request: Request, limit: int) -> JSONResponse:
    """413 for a body declared above `limit`; to a caller without a valid token, its 401."""
    return _http(request, StarletteHTTPException(413, f"the request body is above {limit:,} "
                                                      "bytes"))


def _not_built(request: Request, error: Exception) -> JSONResponse:
    return problem(request, 503, "read-model-not-built", str(error))


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(ApiError, _api)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(NotBuilt, _not_built)
