"""`/incidents`: log, handle and close incidents; one endpoint per ServiceDesk command."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from adapters.http import paging
from adapters.http.access import Permission, Principal
from adapters.http.auth import require
from adapters.http.commands import command, record_response, run
from adapters.http.reads import ReadModels
from adapters.http.schemas import IncidentPage, IncidentView, NoFields
from domain import commands as cmd
from domain.incident import IncidentState
from domain.priority import Priority
from domain.service_desk import ServiceDesk
from projections import pages

router = APIRouter(prefix="/incidents", tags=["incidents"])

Reader = Annotated[Principal, Depends(require(Permission.READ_RECORDS))]
Opener = Annotated[Principal, Depends(require(Permission.OPEN_INCIDENT))]
Noter = Annotated[Principal, Depends(require(Permission.NOTE_INCIDENT))]
Handler = Annotated[Principal, Depends(require(Permission.HANDLE_INCIDENT))]
Canceler = Annotated[Principal, Depends(require(Permission.CANCEL_INCIDENT))]
View = IncidentView
Limit = Annotated[int, Query(ge=1, le=paging.MAX_LIMIT)]


def _desk(request: Request) -> ServiceDesk:
    desk: ServiceDesk = request.app.state.desk
    return desk


@router.post("", status_code=201, response_model=View)
def open_incident(body: cmd.OpenIncident, request: Request, who: Opener) -> Response:
    """Log an incident; answers 201 with its Location and ETag."""
    return run(request, who, lambda _: _desk(request).open_incident(
        actor=who.name, **body.model_dump()), body=body.model_dump(mode="json"), status=201)


@router.get("/{ref}", response_model=View)
def show_incident(ref: str, request: Request, who: Reader) -> Response:
    """One incident (number or UUID), as `tandem incident show --json`; ETag = its version."""
    return record_response(_desk(request).incident(ref))


@router.get("", response_model=IncidentPage)
def list_incidents(request: Request, who: Reader, state: IncidentState | None = None,
                   group: str | None = None, priority: Priority | None = None,
                   cursor: str | None = None, limit: Limit = paging.DEFAULT_LIMIT
                   ) -> JSONResponse:
    """Incidents by number from the read model, filtered; `next_cursor` continues the list."""
    store = _reads(request).fresh()
    return JSONResponse(paging.page(lambda after: pages.incidents(
        store, state=state, group=group, priority=priority, after=after, limit=limit), cursor))


@router.post("/{ref}/assign", response_model=View)
def assign(ref: str, body: cmd.AssignIncident, request: Request, who: Handler) -> Response:
    return command(request, who, _desk(request).assign_incident, ref, body)


@router.post("/{ref}/categorize", response_model=View)
def categorize(ref: str, body: cmd.CategorizeIncident, request: Request,
               who: Handler) -> Response:
    return command(request, who, _desk(request).categorize_incident, ref, body)


@router.post("/{ref}/prioritize", response_model=View)
def prioritize(ref: str, body: cmd.PrioritizeIncident, request: Request,
               who: Handler) -> Response:
    return command(request, who, _desk(request).prioritize_incident, ref, body)


@router.post("/{ref}/escalate", response_model=View)
def escalate(ref: str, body: cmd.EscalateIncident, request: Request, who: Handler) -> Response:
    return command(request, who, _desk(request).escalate_incident, ref, body)


@router.post("/{ref}/hold", response_model=View)
def hold(ref: str, body: cmd.HoldIncident, request: Request, who: Handler) -> Response:
    return command(request, who, _desk(request).put_incident_on_hold, ref, body)


@router.post("/{ref}/resume", response_model=View)
def resume(ref: str, request: Request, who: Handler, body: NoFields | None = None) -> Response:
    return command(request, who, _desk(request).resume_incident, ref)


@router.post("/{ref}/notes", response_model=View)
def add_note(ref: str, body: cmd.AddNote, request: Request, who: Noter) -> Response:
    return command(request, who, _desk(request).add_incident_note, ref, body)


@router.post("/{ref}/workaround", response_model=View)
def workaround(ref: str, body: cmd.ApplyWorkaround, request: Request,
               who: Handler) -> Response:
    return command(request, who, _desk(request).apply_workaround, ref, body)


@router.post("/{ref}/resolve", response_model=View)
def resolve(ref: str, body: cmd.ResolveIncident, request: Request, who: Handler) -> Response:
    return command(request, who, _desk(request).resolve_incident, ref, body)


@router.post("/{ref}/reopen", response_model=View)
def reopen(ref: str, body: cmd.GiveReason, request: Request, who: Handler) -> Response:
    return command(request, who, _desk(request).reopen_incident, ref, body)


@router.post("/{ref}/close", response_model=View)
def close(ref: str, request: Request, who: Handler, body: cmd.CloseIncident | None = None
          ) -> Response:
    return command(request, who, _desk(request).close_incident, ref, body)


@router.post("/{ref}/cancel", response_model=View)
def cancel(ref: str, body: cmd.GiveReason, request: Request, who: Canceler) -> Response:
    return command(request, who, _desk(request).cancel_incident, ref, body)


def _reads(request: Request) -> ReadModels:
    reads: ReadModels = request.app.state.reads
    return reads
