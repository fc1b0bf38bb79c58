"""The SLA monitor policy: records warnings and breaches on incidents, once per clock and threshold.

It reads the SLA read model (caught up by the caller) and acts only through ServiceDesk
commands, each sent with the incident version the clock was computed from. So it never records
against a state it did not see (an incident put on hold since is left for the next pass), two
monitors racing cannot both write (the loser gets a Conflict and writes nothing), and a
threshold already on the incident is never recorded again (the aggregate remembers them).
"""

from dataclasses import dataclass
from datetime import datetime

from domain.audit_chain import format_timestamp
from domain.errors import Conflict
from domain.incident import Incident
from domain.service_desk import ServiceDesk
from domain.sla import BREACH, SlaRules, Target, moment_of, reached
from domain.sla_calendar import business_time
from projections import sla_reads
from projections.projection import Row
from projections.sla_clocks import MICROSECOND, at, recorded
from projections.store import ReadStore

ACTOR = "system:sla-monitor"


@dataclass(frozen=True)
class Recorded:
    """One warning or breach this pass wrote (and the escalation that came with a breach)."""

    number: str
    target: str
    threshold: int
    reached_at: str
    escalated_to: str | None = None

    @property
    def breach(self) -> bool:
        return self.threshold == BREACH

    def line(self) -> str:
        if self.breach:
            escalation = f", escalated to {self.escalated_to}" if self.escalated_to else ""
            return (f"{self.number} {self.target} SLA breached at {self.reached_at}"
                    f"{escalation}")
        return f"{self.number} {self.target} SLA at {self.threshold}% since {self.reached_at}"


class SlaMonitor:
    """One `tick(now)` is one pass; `tandem sla tick` runs one, the service runs them on a timer."""

    def __init__(self, desk: ServiceDesk, store: ReadStore, rules: SlaRules, *,
                 actor: str = ACTOR) -> None:
        self.desk = desk
        self.store = store
        self.rules = rules
        self.actor = actor

    def tick(self, now: datetime) -> list[Recorded]:
        """Record every threshold reached by `now` and not recorded yet; what was written."""
        written: list[Recorded] = []
        for row in sla_reads.alerts_due(self.store, now):
            written += self._record(row, now)
        return written

    def _record(self, row: Row, now: datetime) -> list[Recorded]:
        policy = self.rules.policy(row["priority"], row["service"])
        target, goal = Target(row["target"]), row["target_us"] * MICROSECOND
        since, elapsed = at(row["since"]), row["elapsed_us"] * MICROSECOND
        spent = elapsed + business_time(policy.calendar, since, now)
        due_at, version = at(row["due_at"]), row["version"]
        written = []
        for threshold in policy.thresholds:
            if threshold in recorded(row) or not reached(spent, goal, threshold):
                continue
            moment = moment_of(threshold, calendar=policy.calendar, since=since,
                               elapsed=elapsed, target=goal)
            try:
                incident = self._send(row, version, target, threshold, moment, due_at,
                                      policy.escalate_to)
            except Conflict:
                break  # changed since the read model saw it: the next pass looks again
            if incident.version == version:
                continue  # already on the incident: nothing was written
            version = incident.version
            written.append(Recorded(row["number"], target.value, threshold,
                                    format_timestamp(moment),
                                    policy.escalate_to if threshold == BREACH else None))
        return written

    def _send(self, row: Row, version: int, target: Target, threshold: int,
              moment: datetime, due_at: datetime, escalate_to: str) -> Incident:
        if threshold == BREACH:
            return self.desk.record_sla_breach(
                row["incident_id"], actor=self.actor, expected_version=version, target=target,
                due_at=due_at, escalate_to=escalate_to)
        return self.desk.record_sla_warning(
            row["incident_id"], actor=self.actor, expected_version=version, target=target,
            threshold=threshold, reached_at=moment, due_at=due_at)
