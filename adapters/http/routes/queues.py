"""`/queues/{group}`: a group's open incidents in the order to work them (from the read model)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from adapters.http import paging
from adapters.http.access import Permission, Principal
from adapters.http.auth import require
from adapters.http.reads import ReadModels
from adapters.http.schemas import IncidentPage
from projections import pages

router = APIRouter(prefix="/queues", tags=["queues"])

Reader = Annotated[Principal, Depends(require(Permission.READ_QUEUES))]


@router.get("/{group}", response_model=IncidentPage)
def queue(group: str, request: Request, who: Reader, cursor: str | None = None,
          limit: Annotated[int, Query(ge=1, le=paging.MAX_LIMIT)] = paging.DEFAULT_LIMIT
          ) -> JSONResponse:
    """New and in-progress incidents of `group`: priority, then SLA due time, then the oldest."""
    reads: ReadModels = request.app.state.reads
    store = reads.fresh()
    return JSONResponse(paging.page(
        lambda after: pages.queue(store, group, after=after, limit=limit), cursor))
