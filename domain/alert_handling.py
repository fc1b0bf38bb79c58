"""Alert routing: onto the key's open incident, reopen within the window, else a new incident.

The ServiceDesk delegates `receive_alert` here; every decision is taken against the event
store (the key's AlertCorrelation and its incident), never a read model or a process memory,
so several intake processes and restarts agree. A write that loses a race retries from the
store's new state.
"""

from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from eventsourcing.persistence import RecordConflictError

from domain.aggregate import Stamp
from domain.alert import Alert, AlertOutcome, AlertResult, AlertRules, AlertStatus, Occurrences
from domain.alert_correlation import AlertCorrelation
from domain.errors import Conflict
from domain.incident import ALERT_LIFECYCLE, Channel, Incident, IncidentState
from domain.numbering import INCIDENT_PREFIX

if TYPE_CHECKING:
    from domain.service_desk import ServiceDesk

RETRIES = 50
TITLE_LENGTH = 160
RECOVERABLE = ALERT_LIFECYCLE["record an alert recovery"]


def receive(desk: "ServiceDesk", alert: Alert, *, rules: AlertRules,
            occurrences: Occurrences | None) -> AlertResult:
    """Apply `alert` (standing for `occurrences` firings, default one received now) to its
    key's incident."""
    stamp = Stamp(actor=alert.actor, at=desk.clock())
    seen = occurrences or Occurrences(1, stamp.at, stamp.at)
    for _ in range(RETRIES):
        try:
            return _route(desk, alert, seen, rules, stamp)
        except RecordConflictError:
            continue
    raise Conflict(f"alert {alert.dedup_key} from {alert.source}: its incident kept changing "
                   f"while the alert was recorded ({RETRIES} tries)")


def receive_repeats(desk: "ServiceDesk", batch: list[tuple[Alert, Occurrences]]
                    ) -> list[AlertResult | None]:
    """The repeats of keys whose incident is open, saved in one transaction; None for the
    others (route those with `receive`), and for all when the transaction lost a race."""
    changed: dict[int, Incident] = {}
    seen_ids: set[UUID] = set()
    for index, (alert, seen) in enumerate(batch):
        incident = _open_incident_of(desk, alert)
        if incident is not None and incident.id not in seen_ids:
            _record(incident, seen, Stamp(actor=alert.actor, at=desk.clock()))
            changed[index] = incident
            seen_ids.add(incident.id)
    try:
        desk.save(*changed.values())
    except RecordConflictError:
        return [None] * len(batch)
    return [AlertResult(AlertOutcome.OCCURRED, changed[index].number) if index in changed
            else None for index in range(len(batch))]


def _open_incident_of(desk: "ServiceDesk", alert: Alert) -> Incident | None:
    """The open incident a firing alert's key points to, if it has one."""
    if alert.status is AlertStatus.RESOLVED:
        return None
    last = next(iter(desk.events.get(AlertCorrelation.id_for(alert.source, alert.dedup_key),
                                     desc=True, limit=1)), None)
    if last is None:
        return None
    correlation = AlertCorrelation.resume(last)
    incident = _incident_of(desk, correlation)
    return incident if incident.is_open else None


def _incident_of(desk: "ServiceDesk", correlation: AlertCorrelation) -> Incident:
    """Loaded as commands load it (domain/records.py): an incident that monitoring keeps
    firing on for days collects thousands of occurrence events."""
    incident: object = desk.records.get(correlation.incident)
    assert isinstance(incident, Incident), f"{correlation.incident_number} is not an incident"
    return incident


def _route(desk: "ServiceDesk", alert: Alert, seen: Occurrences, rules: AlertRules,
           stamp: Stamp) -> AlertResult:
    correlation_id = AlertCorrelation.id_for(alert.source, alert.dedup_key)
    last = next(iter(desk.events.get(correlation_id, desc=True, limit=1)), None)
    if last is None:
        if alert.status is AlertStatus.RESOLVED:
            return AlertResult(AlertOutcome.IGNORED, None)
        return _open(desk, alert, seen, rules, stamp, None, None)
    correlation = AlertCorrelation.resume(last)
    incident = _incident_of(desk, correlation)
    if alert.status is AlertStatus.RESOLVED:
        if incident.state not in RECOVERABLE:
            return AlertResult(AlertOutcome.IGNORED, incident.number)
        incident.record_alert_recovery(recovered_at=alert.fired_at, stamp=stamp)
        desk.save(incident)
        return AlertResult(AlertOutcome.RECOVERED, incident.number)
    if incident.is_open:
        _record(incident, seen, stamp)
        desk.save(incident)
        return AlertResult(AlertOutcome.OCCURRED, incident.number)
    if (incident.state is IncidentState.RESOLVED and incident.resolved_at is not None
            and stamp.at - incident.resolved_at <= rules.reopen_window):
        incident.reopen(reason=f"Alert {alert.dedup_key} from {alert.source} fired again "
                               f"within the reopen window", stamp=stamp)
        _record(incident, seen, stamp)
        desk.save(incident)
        return AlertResult(AlertOutcome.REOPENED, incident.number)
    return _open(desk, alert, seen, rules, stamp, correlation, incident)


def _open(desk: "ServiceDesk", alert: Alert, seen: Occurrences, rules: AlertRules,
          stamp: Stamp, correlation: AlertCorrelation | None,
          previous: Incident | None) -> AlertResult:
    """A new incident for the key, its number and the key's correlation in one save."""
    # Taken out of the memo: a failed save must not leave a half-used sequence behind.
    sequence = desk._sequences.pop(INCIDENT_PREFIX, None) or desk._sequence(INCIDENT_PREFIX,
                                                                             stamp)
    levels = rules.levels(alert.severity)
    incident_id = uuid4()
    incident = Incident.open(
        id=incident_id, number=sequence.issue(record=incident_id, stamp=stamp),
        title=_title(alert.summary), service=alert.service, category=alert.category,
        subcategory=None, impact=levels.impact, urgency=levels.urgency,
        description=alert.description, caller=None, channel=Channel.MONITORING, stamp=stamp)
    incident.correlate_alert(source=alert.source, dedup_key=alert.dedup_key,
                             fingerprint=alert.fingerprint, labels=dict(alert.labels),
                             fired_at=alert.fired_at, recurrence_of=previous, stamp=stamp)
    _record(incident, seen, stamp)
    if correlation is None:
        correlation = AlertCorrelation.start(source=alert.source, dedup_key=alert.dedup_key,
                                             incident=incident.id,
                                             incident_number=incident.number, stamp=stamp)
    else:
        correlation.repoint(incident=incident.id, incident_number=incident.number, stamp=stamp)
    desk.save(sequence, incident, correlation)
    desk._sequences[INCIDENT_PREFIX] = sequence
    desk._remember(incident.number, incident.id)
    outcome = AlertOutcome.OPENED if previous is None else AlertOutcome.RECURRED
    return AlertResult(outcome, incident.number)


def _record(incident: Incident, seen: Occurrences, stamp: Stamp) -> None:
    incident.record_alert_occurrences(count=seen.count, first_at=seen.first_at,
                                      last_at=seen.last_at, stamp=stamp)


def _title(summary: str) -> str:
    line = " ".join(summary.split())
    return line if len(line) <= TITLE_LENGTH else line[:TITLE_LENGTH - 1] + "…"
