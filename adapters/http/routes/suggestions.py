"""`/incidents/{ref}/suggestions`: known errors ranked for an incident, as `incident suggest`."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from adapters.http.access import Permission, Principal
from adapters.http.auth import require
from adapters.http.read_schemas import Suggestion
from adapters.http.reads import ReadModels
from domain.service_desk import ServiceDesk
from projections.suggestions import suggestions

router = APIRouter(tags=["known errors"])

Reader = Annotated[Principal, Depends(require(Permission.READ_SUGGESTIONS))]


@router.get("/incidents/{ref}/suggestions", response_model=list[Suggestion])
def incident_suggestions(ref: str, request: Request, who: Reader) -> JSONResponse:
    """Active known errors whose workaround may restore this incident's service, best first."""
    desk: ServiceDesk = request.app.state.desk
    reads: ReadModels = request.app.state.reads
    incident = desk.incident(ref)
    return JSONResponse(suggestions(reads.fresh(), service=incident.service,
                                    text=f"{incident.title} {incident.description}"))
