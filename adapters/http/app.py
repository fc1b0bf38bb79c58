"""The app factory: the wired objects in, a FastAPI app out (wiring stays in bootstrap)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi

from adapters.alerts.intake import AlertIntake
from adapters.config import TandemConfig
from adapters.http import errors
from adapters.http.access import Access
from adapters.http.body_limit import BodyLimit
from adapters.http.errors import PROBLEM_JSON, ProblemDetails
from adapters.http.idempotency import IdempotencyKeys
from adapters.http.metrics import Metrics, MetricsMiddleware
from adapters.http.reads import ReadModels
from adapters.http.routes import (
    alerts,
    history,
    incidents,
    problems,
    queues,
    recurrence,
    service,
    sla,
    suggestions,
)
from adapters.recurrence_policy import thresholds_of
from domain.service_desk import ServiceDesk

ROUTERS = (service.router, incidents.router, history.router, problems.router, queues.router,
           sla.router, suggestions.router, recurrence.router, alerts.router)
"""Every area's router, one module each; `routers` adds more (tests, extensions)."""
_ERRORS = {"401": "No token, or an unknown one", "403": "A role of yours lacks the permission",
           "404": "No such record", "409": "Illegal transition, refusal, or stale version",
           "413": "Request body above the limit", "422": "Invalid input; `field` names it"}


def create_app(*, desk: ServiceDesk, reads: ReadModels, access: Access,
               idempotency: IdempotencyKeys, config: TandemConfig, intake: AlertIntake,
               routers: Sequence[APIRouter] = ()) -> FastAPI:
    """The API over one ServiceDesk and its read models; nothing but /health without a token.
    `intake` is the process's one alert intake (the server flushes and closes it)."""
    app = FastAPI(title="Tandem", version="1", docs_url=None, redoc_url=None,
                  openapi_url=None, summary="Event-sourced incident and problem management")
    app.state.desk = desk
    app.state.reads = reads
    app.state.access = access
    app.state.idempotency = idempotency
    app.state.metrics = Metrics(reads)
    app.state.intake = intake
    app.state.sla_rules = config.sla.rules()
    app.state.recurrence_thresholds = thresholds_of(config.recurrence)
    errors.install(app)
    for router in (*ROUTERS, *routers):
        app.include_router(router)
    app.add_middleware(BodyLimit)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                 routes=app.routes)
            app.openapi_schema = _document_auth_and_errors(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
    return app


_STRIPPED = (r"\t\n\u000b\u000c\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029"
             r"\u202f\u205f\u3000")
"""What Python's str.strip() removes (pydantic's strip_whitespace), spelt out: a JSON Schema
`\\s` misses U+0085 and U+001C-U+001F, so a title of U+0085 alone looked valid."""


def _describe_text_rules(schema: Any) -> None:
    """Command text is stripped before its length is checked and never holds NUL: say so in
    patterns, so that generated clients (and schemathesis) do not take those for valid."""
    if isinstance(schema, dict):
        if schema.get("type") == "string" and "maxLength" in schema:
            if schema.get("minLength", 0) >= 1:
                schema.setdefault("pattern", rf"^[^\u0000]*[^{_STRIPPED}\u0000][^\u0000]*$")
            else:
                schema.setdefault("pattern", r"^[^\u0000]*$")
        for value in schema.values():
            _describe_text_rules(value)
    elif isinstance(schema, list):
        for value in schema:
            _describe_text_rules(value)


def _document_auth_and_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Bearer auth everywhere but /health; each operation's problem+json error answers."""
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["ProblemDetails"] = ProblemDetails.model_json_schema()
    for model in components["schemas"].values():
        _describe_text_rules(model)
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    problem_body = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if path == "/health":
                operation["security"] = []
                continue
            operation["security"] = [{"bearer": []}]
            codes = ["401", "403", "422"]
            if "{" in path or (path, method) == ("/problems", "post"):  # names incidents
                codes.append("404")
            if method == "post":
                codes.extend(("409", "413"))
            for code in codes:
                operation["responses"][code] = {"description": _ERRORS[code],
                                                "content": problem_body}
    return schema


@dataclass
class Api:
    """A wired API and what `tandem serve` runs beside it."""

    app: FastAPI
    desk: ServiceDesk
    reads: ReadModels
    idempotency: IdempotencyKeys
    config: TandemConfig
    intake: AlertIntake
    new_admin_token: str | None = None
    """Made by this start (first start without TANDEM_ADMIN_TOKEN): print it once."""

    @property
    def metrics(self) -> Metrics:
        found: Metrics = self.app.state.metrics
        return found

    def close(self) -> None:
        """Write the alert intake's pending repeats, then close the read stores."""
        try:
            self.intake.close()
        finally:
            self.reads.close()
