"""`/incidents/{ref}/history` and `/problems/{ref}/history`: the audit trail, `?as_of=` a time."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from adapters.audit.history import history, parse_moment
from adapters.http.access import Permission, Principal
from adapters.http.auth import require
from adapters.http.schemas import HistoryEntry
from domain.errors import NotFound
from domain.service_desk import ServiceDesk

router = APIRouter(tags=["audit"])

Auditor = Annotated[Principal, Depends(require(Permission.READ_HISTORY))]
AsOf = Annotated[str | None, Query(
    description="Only events up to this time: ISO 8601 with a zone (2026-03-02T09:00:00Z).",
    json_schema_extra={"format": "date-time"})]


def _history(request: Request, ref: str, as_of: str | None, stream_type: str
             ) -> list[dict[str, Any]]:
    desk: ServiceDesk = request.app.state.desk
    entries = history(desk, ref, as_of=parse_moment(as_of) if as_of is not None else None)
    if entries and entries[0]["stream_type"] != stream_type:
        kind = "an incident" if stream_type == "Incident" else "a problem"
        raise NotFound(f"{ref} is not {kind}")
    return entries


@router.get("/incidents/{ref}/history", response_model=list[HistoryEntry])
def incident_history(ref: str, request: Request, who: Auditor, as_of: AsOf = None
                     ) -> JSONResponse:
    """Every event, oldest first, as `tandem audit history --json`; `as_of` (ISO 8601 with a
    zone) keeps only the events up to that moment."""
    return JSONResponse(_history(request, ref, as_of, "Incident"))


@router.get("/problems/{ref}/history", response_model=list[HistoryEntry])
def problem_history(ref: str, request: Request, who: Auditor, as_of: AsOf = None
                    ) -> JSONResponse:
    """A problem's events, as `tandem audit history --json`."""
    return JSONResponse(_history(request, ref, as_of, "Problem"))
