"""`/recurrence`: recurring incident patterns, as `tandem recurrence list --json`."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from adapters.http.access import Permission, Principal
from adapters.http.auth import require
from adapters.http.read_schemas import Pattern
from adapters.http.reads import ReadModels
from domain.service_desk import ServiceDesk
from projections.patterns import patterns

router = APIRouter(tags=["recurrence"])

Reader = Annotated[Principal, Depends(require(Permission.READ_RECURRENCE))]


@router.get("/recurrence", response_model=list[Pattern])
def recurrence(request: Request, who: Reader) -> JSONResponse:
    """Patterns of 2+ incidents, busiest in the last 7 days first, with problem coverage."""
    desk: ServiceDesk = request.app.state.desk
    reads: ReadModels = request.app.state.reads
    return JSONResponse(patterns(reads.fresh(), now=desk.clock(),
                                 thresholds=request.app.state.recurrence_thresholds))
