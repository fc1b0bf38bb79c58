"""`/incidents/{ref}/sla`: an incident's SLA clocks, exactly as `tandem sla show --json`."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from adapters.http.access import Permission, Principal
from adapters.http.auth import require
from adapters.http.read_schemas import SlaClock
from adapters.http.reads import ReadModels
from domain.service_desk import ServiceDesk
from domain.sla import SlaRules
from projections import sla_reads

router = APIRouter(tags=["sla"])

Reader = Annotated[Principal, Depends(require(Permission.READ_SLA))]


@router.get("/incidents/{ref}/sla", response_model=list[SlaClock])
def incident_sla(ref: str, request: Request, who: Reader) -> JSONResponse:
    """The response and resolution clocks as of now: state, due time, elapsed, percent."""
    desk: ServiceDesk = request.app.state.desk
    reads: ReadModels = request.app.state.reads
    rules: SlaRules = request.app.state.sla_rules
    incident = desk.incident(ref)
    return JSONResponse(sla_reads.incident_clocks(reads.fresh(), rules, [str(incident.id)],
                                                  desk.clock()))
