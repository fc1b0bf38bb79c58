"""`/problems`: from recurring incidents to root cause, known error and fix."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from adapters.http import paging
from adapters.http.access import Permission, Principal
from adapters.http.auth import require
from adapters.http.commands import command, record_response, run
from adapters.http.reads import ReadModels
from adapters.http.schemas import (
    LinkBody,
    NoFields,
    OpenProblemBody,
    ProblemPage,
    ProblemView,
    ResolveProblemBody,
)
from domain import commands as cmd
from domain.problem import ProblemState
from domain.service_desk import ServiceDesk
from projections import pages

router = APIRouter(prefix="/problems", tags=["problems"])

Reader = Annotated[Principal, Depends(require(Permission.READ_RECORDS))]
Opener = Annotated[Principal, Depends(require(Permission.OPEN_PROBLEM))]
Investigator = Annotated[Principal, Depends(require(Permission.INVESTIGATE_PROBLEM))]
Manager = Annotated[Principal, Depends(require(Permission.MANAGE_PROBLEM))]
View = ProblemView
Limit = Annotated[int, Query(ge=1, le=paging.MAX_LIMIT)]


def _desk(request: Request) -> ServiceDesk:
    desk: ServiceDesk = request.app.state.desk
    return desk


@router.post("", status_code=201, response_model=View)
def open_problem(body: OpenProblemBody, request: Request, who: Opener) -> Response:
    """Record a problem, optionally linked to incidents; 201 with Location and ETag."""
    return run(request, who, lambda _: _desk(request).open_problem(
        actor=who.name, **body.model_dump()), body=body.model_dump(mode="json"), status=201)


@router.get("/{ref}", response_model=View)
def show_problem(ref: str, request: Request, who: Reader) -> Response:
    """One problem (number or UUID), as `tandem problem show --json`; ETag = its version."""
    return record_response(_desk(request).problem(ref))


@router.get("", response_model=ProblemPage)
def list_problems(request: Request, who: Reader, state: ProblemState | None = None,
                  cursor: str | None = None, limit: Limit = paging.DEFAULT_LIMIT
                  ) -> JSONResponse:
    """Problems by number from the read model; `next_cursor` continues the list."""
    reads: ReadModels = request.app.state.reads
    store = reads.fresh()
    return JSONResponse(paging.page(lambda after: pages.problems(
        store, state=state, after=after, limit=limit), cursor))


@router.post("/{ref}/link", response_model=View)
def link(ref: str, body: LinkBody, request: Request, who: Investigator) -> Response:
    """Link an incident to the problem (both records change in one save)."""
    return run(request, who, lambda version: _desk(request).link_incident(
        ref, body.incident, actor=who.name, expected_version=version),
        body=body.model_dump(mode="json"))


@router.post("/{ref}/unlink", response_model=View)
def unlink(ref: str, body: LinkBody, request: Request, who: Investigator) -> Response:
    return run(request, who, lambda version: _desk(request).unlink_incident(
        ref, body.incident, actor=who.name, expected_version=version),
        body=body.model_dump(mode="json"))


@router.post("/{ref}/notes", response_model=View)
def add_note(ref: str, body: cmd.AddNote, request: Request, who: Investigator) -> Response:
    return command(request, who, _desk(request).add_problem_note, ref, body)


@router.post("/{ref}/root-cause", response_model=View)
def root_cause(ref: str, body: cmd.IdentifyRootCause, request: Request,
               who: Investigator) -> Response:
    return command(request, who, _desk(request).identify_root_cause, ref, body)


@router.post("/{ref}/known-error", response_model=View)
def known_error(ref: str, body: cmd.RecordKnownError, request: Request,
                who: Manager) -> Response:
    return command(request, who, _desk(request).record_known_error, ref, body)


@router.post("/{ref}/request-change", response_model=View)
def request_change(ref: str, body: cmd.RequestChange, request: Request,
                   who: Manager) -> Response:
    return command(request, who, _desk(request).request_change, ref, body)


@router.post("/{ref}/resolve", response_model=View)
def resolve(ref: str, body: ResolveProblemBody, request: Request, who: Manager) -> Response:
    """Resolve; with `resolve_incidents` its open incidents are resolved in the same save."""
    return run(request, who, lambda version: _desk(request).resolve_problem(
        ref, actor=who.name, expected_version=version, notes=body.notes,
        resolve_linked_incidents=body.resolve_incidents), body=body.model_dump(mode="json"))


@router.post("/{ref}/close", response_model=View)
def close(ref: str, request: Request, who: Manager, body: NoFields | None = None) -> Response:
    return command(request, who, _desk(request).close_problem, ref)


@router.post("/{ref}/cancel", response_model=View)
def cancel(ref: str, body: cmd.GiveReason, request: Request, who: Manager) -> Response:
    return command(request, who, _desk(request).cancel_problem, ref, body)
