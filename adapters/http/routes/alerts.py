"""`POST /alerts/alertmanager` and `POST /alerts`: monitoring alerts into the process's intake.

The payload is parsed whole before any alert is received, so an invalid one is refused (422,
`field` names it) with nothing written. Repeats are counted in memory and written at the
intake's next flush: hence 202 Accepted.
"""

import logging
from collections import Counter
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse

from adapters.alerts.alertmanager import parse_alertmanager
from adapters.alerts.generic import parse_generic
from adapters.alerts.intake import AlertIntake
from adapters.http.access import Permission, Principal
from adapters.http.auth import require
from adapters.http.metrics import Metrics
from adapters.http.read_schemas import AlertsReceived
from domain.alert import Alert

router = APIRouter(prefix="/alerts", tags=["alerts"])
log = logging.getLogger("tandem.alerts")

Monitor = Annotated[Principal, Depends(require(Permission.POST_ALERTS))]
ALERTMANAGER_EXAMPLE = {"version": "4", "status": "firing", "receiver": "tandem", "alerts": [{
    "status": "firing", "labels": {"alertname": "DiskFull", "service": "email",
                                   "severity": "critical", "instance": "db-01"},
    "annotations": {"summary": "Disk 91% full on db-01"},
    "startsAt": "2026-03-02T08:40:00Z", "fingerprint": "5c6a4f4d1b9e2a10"}]}
GENERIC_EXAMPLE = {"alerts": [{"source": "zabbix", "dedup_key": "mail-relay-2/queue",
                               "service": "email", "summary": "Mail queue above 1,024",
                               "severity": "warning", "fired_at": "2026-03-02T08:40:00Z"}]}


@router.post("/alertmanager", status_code=202, response_model=AlertsReceived)
def alertmanager(payload: Annotated[dict[str, Any], Body(examples=[ALERTMANAGER_EXAMPLE])],
                 request: Request, who: Monitor) -> JSONResponse:
    """Prometheus Alertmanager's webhook (version 4): each alert opens, finds, reopens or
    recovers its incident; repeats are counted and written at the next flush."""
    return _receive(request, who, parse_alertmanager, payload)


@router.post("", status_code=202, response_model=AlertsReceived)
def generic(payload: Annotated[dict[str, Any], Body(examples=[GENERIC_EXAMPLE])],
            request: Request, who: Monitor) -> JSONResponse:
    """Any other tool: one alert object, or `{"alerts": [...]}` (docs/alerts.md)."""
    return _receive(request, who, parse_generic, payload)


def _receive(request: Request, who: Principal, parse: Callable[[Any], list[Alert]],
             payload: dict[str, Any]) -> JSONResponse:
    alerts = parse(payload)
    intake: AlertIntake = request.app.state.intake
    metrics: Metrics = request.app.state.metrics
    results = intake.receive(alerts)
    rows = [{"source": alert.source, "dedup_key": alert.dedup_key, "status": alert.status.value,
             "outcome": result.outcome.value, "incident": result.incident}
            for alert, result in zip(alerts, results, strict=True)]
    outcomes = Counter(row["outcome"] for row in rows)
    for row in rows:
        metrics.alerts_received.labels(row["source"], row["outcome"]).inc()
    log.info("%s posted %d alert(s): %s", who.name, len(rows),
             ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items())))
    return JSONResponse({"received": len(rows), "outcomes": dict(outcomes), "alerts": rows},
                        status_code=202)
