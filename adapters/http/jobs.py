"""The policies `tandem serve` runs beside the API: read-model upgrade, SLA monitor, recurrence,
alert intake flush.

Each is a PeriodicJob; the server's job loop logs and counts a failing run and tries again on
the next turn. Their effects are counted in the API's metrics.
"""

import logging

from adapters.http.app import Api
from adapters.http.server import PeriodicJob
from adapters.recurrence_policy import RecurrencePolicy
from adapters.sla_monitor import SlaMonitor
from projections.runner import RebuildInProgress
from projections.sla_clocks import SlaClocks

log = logging.getLogger("tandem.jobs")
INTAKE_TICK_S = 1.0
"""How often the alert intake checks whether its flush interval is up."""
UPGRADE_RETRY_S = 5.0
"""How soon a read-model upgrade that failed or found another process rebuilding is tried
again."""


def read_model_upgrade_job(api: Api) -> PeriodicJob:
    """Once at start: rebuild the read models an older version (or another SLA configuration)
    built, while the API serves the old tables; tried again until done (a failure, or another
    process rebuilding)."""

    def run() -> bool:
        try:
            rebuilt = api.reads.upgrade()
        except RebuildInProgress as busy:
            log.info("%s; trying again in %.0f s", busy, UPGRADE_RETRY_S)
            return False
        if rebuilt:
            log.info("read models rebuilt for this version: %s", ", ".join(rebuilt))
        return True

    return PeriodicJob("read-model-upgrade", UPGRADE_RETRY_S, run, once=True)


def sla_monitor_jobs(api: Api, *, every: float) -> list[PeriodicJob]:
    """One monitor pass per turn against the clocks caught up: records warnings and breaches,
    escalates breaches. `every` 0: off. While this version's clocks are not serving yet (the
    upgrade job is building them), a pass would read clocks another version or configuration
    computed: it waits."""
    if not every:
        return []
    rules = api.app.state.sla_rules

    def run() -> None:
        api.reads.catch_up()
        if not api.reads.is_current(SlaClocks.name):
            log.info("SLA monitor waits for this version's SLA clocks")
            return
        recorded = SlaMonitor(api.desk, api.reads.store(), rules).tick(api.desk.clock())
        for item in recorded:
            log.info("%s", item.line())
            api.metrics.sla_recorded.labels(item.target,
                                            "breach" if item.breach else "warning").inc()

    return [PeriodicJob("sla-monitor", every, run)]


def recurrence_jobs(api: Api, *, every: float) -> list[PeriodicJob]:
    """The problem-candidate policy, when `[recurrence] problem_candidates` is on and `every`
    is not 0."""
    if not every or not api.config.recurrence.problem_candidates:
        return []
    policy = RecurrencePolicy(api.desk, api.reads.fresh, settings=api.config.recurrence,
                              clock=api.desk.clock)

    def run() -> None:
        for problem in policy.tick():
            log.info("%s opened for %d recurring incident(s): %s", problem.number,
                     len(problem.incidents), problem.title)
            api.metrics.problems_raised.inc()

    return [PeriodicJob("recurrence", every, run)]


def alert_intake_job(api: Api) -> PeriodicJob:
    """Writes accumulated alert repeats when the flush interval is up; on shutdown, all."""
    return PeriodicJob("alert-intake", INTAKE_TICK_S, api.intake.tick, stop=api.intake.close)
