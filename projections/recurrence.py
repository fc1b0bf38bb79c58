"""Recurrence read model: each incident's symptom pattern and problem, each problem's openness.

A pattern is (service, category, fingerprint). The rows keep every incident's opening time,
so the sliding windows (24 h, 7 d, 30 d) are counted at read time against any `now`
(projections/patterns.py). Fingerprints come from the `AlertCorrelated` event for alert
incidents and from the title (same masker) for the others: a rebuild gives the same rows.
"""

from collections.abc import Sequence

from domain.incident import Incident
from domain.problem import Problem
from projections.fingerprint import fingerprint
from projections.projection import Envelope, Projection, Rows, Table
from projections.store import Dialect

_INCIDENT_CHANGES = (Incident.AlertCorrelated, Incident.Categorized, Incident.LinkedToProblem,
                     Incident.UnlinkedFromProblem)
_PROBLEM_FINISHED = (Problem.Resolved, Problem.Closed, Problem.Canceled)


class RecurrencePatterns(Projection):
    name = "recurrence"
    rebuild_cost = 2.0
    version = 1
    tables = (
        Table(name="recurrence_incidents",
              columns=(("incident_id", "TEXT"), ("number", "TEXT NOT NULL"),
                       ("service", "TEXT NOT NULL"), ("category", "TEXT"),
                       ("fingerprint", "TEXT NOT NULL"), ("opened_at", "TEXT NOT NULL"),
                       ("problem_id", "TEXT")),
              key=("incident_id",),
              indexes=(("service", "fingerprint"),)),
        Table(name="recurrence_problems",
              columns=(("problem_id", "TEXT"), ("number", "TEXT NOT NULL"),
                       ("is_open", "INTEGER NOT NULL")),
              key=("problem_id",)),
    )

    def apply(self, batch: Sequence[Envelope], tables: dict[str, Rows],
              dialect: Dialect) -> None:
        incidents, problems = tables["recurrence_incidents"], tables["recurrence_problems"]
        incidents.prefetch((envelope.stream_id,) for envelope in batch
                           if isinstance(envelope.event, _INCIDENT_CHANGES))
        problems.prefetch((envelope.stream_id,) for envelope in batch
                          if isinstance(envelope.event, _PROBLEM_FINISHED))
        for envelope in batch:
            event, key = envelope.event, envelope.stream_id
            if isinstance(event, Incident.Opened):
                incidents.put({"incident_id": key, "number": event.number,
                               "service": event.service, "category": event.category,
                               "fingerprint": fingerprint(event.title),
                               "opened_at": envelope.occurred_at, "problem_id": None})
            elif isinstance(event, Incident.AlertCorrelated):
                incidents.update(key, fingerprint=event.fingerprint)
            elif isinstance(event, Incident.Categorized):
                incidents.update(key, category=event.category)
            elif isinstance(event, Incident.LinkedToProblem):
                incidents.update(key, problem_id=str(event.problem))
            elif isinstance(event, Incident.UnlinkedFromProblem):
                incidents.update(key, problem_id=None)
            elif isinstance(event, Problem.Opened):
                problems.put({"problem_id": key, "number": event.number, "is_open": 1})
            elif isinstance(event, _PROBLEM_FINISHED):
                problems.update(key, is_open=0)
