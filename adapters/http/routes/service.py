"""`/health` (the one endpoint without a token), `/metrics`, `/openapi.json` and `/docs`."""

import json
from typing import Annotated

from eventsourcing.persistence import PersistenceError
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.http.access import Permission, Principal
from adapters.http.auth import require
from adapters.http.metrics import Metrics
from adapters.http.reads import ReadModels

router = APIRouter(tags=["service"])

DocsReader = Annotated[Principal, Depends(require(Permission.READ_API_DOCS))]
MetricsReader = Annotated[Principal, Depends(require(Permission.READ_METRICS))]
SWAGGER = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"


@router.get("/health", responses={503: {"description": "The store does not answer"}})
def health(request: Request) -> JSONResponse:
    """Liveness and readiness: answers without a token, 503 when the store does not answer."""
    reads: ReadModels = request.app.state.reads
    try:
        position = reads.log.max_notification_id() or 0
    except PersistenceError as failure:
        return JSONResponse({"status": "unavailable", "detail": str(failure)}, status_code=503)
    return JSONResponse({"status": "ok", "position": position})


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
def metrics(request: Request, who: MetricsReader) -> Response:
    """Prometheus text format."""
    found: Metrics = request.app.state.metrics
    return Response(generate_latest(found.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, who: DocsReader) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/docs", include_in_schema=False)
def docs(request: Request, who: DocsReader) -> HTMLResponse:
    """Swagger UI with the schema inline: one authenticated GET gives a working page."""
    spec = json.dumps(request.app.openapi()).replace("</", "<\\/")
    return HTMLResponse(f"""<!doctype html>
<html><head><title>Tandem API</title><meta charset="utf-8">
<link rel="stylesheet" href="{SWAGGER}/swagger-ui.css"></head>
<body><div id="ui"></div><script src="{SWAGGER}/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{dom_id: "#ui", spec: {spec}}});</script></body></html>""")
