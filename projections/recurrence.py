"""Recurrence read model: each incident's symptom pattern and problem, each problem's openness.

A pattern is (service, category, fingerprint). The rows keep every incident's opening time,
so the sliding windows (24 h, 7 d, 30 d) are counted at read time against any `now`
(projections/patterns.py); the policy's read finds the recent incidents through the opened_at
index and the open problems' incidents through the problem_id index. Fingerprints come from
the `AlertCorrelated` event for alert incidents and from the title (same masker) for the
others: a rebuild gives the same rows.
"""

from collections.abc import Callable, Sequence
from typing import Any

from domain.incident import Incident
from domain.problem import Problem
from projections.fingerprint import fingerprint
from projections.projection import Envelope, Projection, Rows, Table, existing_records
from projections.store import Dialect

_INCIDENT_CHANGES = (Incident.AlertCorrelated, Incident.Categorized, Incident.LinkedToProblem,
                     Incident.UnlinkedFromProblem)
_PROBLEM_FINISHED = (Problem.Resolved, Problem.Closed, Problem.Canceled)


class RecurrencePatterns(Projection):
    name = "recurrence"
    events = (Incident.Opened, Incident.Event, Problem.Opened, Problem.Event)
    rebuild_cost = 1.1
    version = 2
    """2: the opened_at and problem_id indexes (the policy's read)."""
    tables = (
        Table(name="recurrence_incidents",
              columns=(("incident_id", "TEXT"), ("number", "TEXT NOT NULL"),
                       ("service", "TEXT NOT NULL"), ("category", "TEXT"),
                       ("fingerprint", "TEXT NOT NULL"), ("opened_at", "TEXT NOT NULL"),
                       ("problem_id", "TEXT")),
              key=("incident_id",),
              indexes=(("service", "fingerprint"), ("opened_at",), ("problem_id",))),
        Table(name="recurrence_problems",
              columns=(("problem_id", "TEXT"), ("number", "TEXT NOT NULL"),
                       ("is_open", "INTEGER NOT NULL")),
              key=("problem_id",)),
    )

    def apply(self, batch: Sequence[Envelope], tables: dict[str, Rows],
              dialect: Dialect) -> None:
        incidents, problems = tables["recurrence_incidents"], tables["recurrence_problems"]
        incidents.prefetch(existing_records(batch, lambda event: type(event) in _INCIDENT_CHANGES))
        problems.prefetch(existing_records(batch, lambda event: type(event) in _PROBLEM_FINISHED))
        for envelope in batch:
            if (change := _CHANGES.get(type(envelope.event))) is not None:
                change(envelope, incidents, problems)


def _incident_opened(envelope: Envelope, incidents: Rows, problems: Rows) -> None:
    event = envelope.event
    incidents.add({"incident_id": envelope.stream_id, "number": event.number,
                   "service": event.service, "category": event.category,
                   "fingerprint": fingerprint(event.title), "opened_at": envelope.occurred_at,
                   "problem_id": None})


def _problem_opened(envelope: Envelope, incidents: Rows, problems: Rows) -> None:
    problems.add({"problem_id": envelope.stream_id, "number": envelope.event.number,
                  "is_open": 1})


Change = Callable[[Envelope, Rows, Rows], object]
_CHANGES: dict[type[Any], Change] = {
    Incident.Opened: _incident_opened,
    Incident.AlertCorrelated: lambda envelope, incidents, _: incidents.update(
        envelope.stream_id, fingerprint=envelope.event.fingerprint),
    Incident.Categorized: lambda envelope, incidents, _: incidents.update(
        envelope.stream_id, category=envelope.event.category),
    Incident.LinkedToProblem: lambda envelope, incidents, _: incidents.update(
        envelope.stream_id, problem_id=str(envelope.event.problem)),
    Incident.UnlinkedFromProblem: lambda envelope, incidents, _: incidents.update(
        envelope.stream_id, problem_id=None),
    Problem.Opened: _problem_opened,
    **{finished: lambda envelope, _, problems: problems.update(envelope.stream_id, is_open=0)
       for finished in _PROBLEM_FINISHED},
}
"""What each event changes (dispatch on the exact type: a chain of isinstance tests cost
more than the changes themselves)."""
