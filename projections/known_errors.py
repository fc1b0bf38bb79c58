"""The known-error index: problems with a documented workaround, by service and symptom."""

from collections.abc import Sequence

from domain.problem import Problem
from projections.projection import Envelope, Projection, Rows, Table, existing_records
from projections.store import Dialect

_FINISHED = (Problem.Closed, Problem.Canceled)
_CHANGING = (Problem.RootCauseIdentified, Problem.KnownErrorRecorded, *_FINISHED)


class KnownErrorIndex(Projection):
    """One row per problem; `is_known_error` rows are what incident handlers search."""

    name = "known_errors"
    events = (Problem.Opened, Problem.Event)
    rebuild_cost = 0.6
    version = 1
    tables = (Table(
        name="known_errors",
        columns=(("problem_id", "TEXT"), ("number", "TEXT NOT NULL"),
                 ("service", "TEXT"), ("symptom", "TEXT NOT NULL"), ("root_cause", "TEXT"),
                 ("workaround", "TEXT"), ("is_known_error", "INTEGER NOT NULL"),
                 ("active", "INTEGER NOT NULL"), ("updated_at", "TEXT NOT NULL")),
        key=("problem_id",),
        indexes=(("is_known_error", "service"),),
    ),)

    def apply(self, batch: Sequence[Envelope], tables: dict[str, Rows],
              dialect: Dialect) -> None:
        rows = tables["known_errors"]
        rows.prefetch(existing_records(batch, lambda event: isinstance(event, _CHANGING)))
        for envelope in batch:
            event, key, when = envelope.event, envelope.stream_id, envelope.occurred_at
            if isinstance(event, Problem.Opened):
                symptom = " ".join(part for part in (event.title, event.description) if part)
                rows.add({"problem_id": key, "number": event.number, "service": event.service,
                          "symptom": symptom, "root_cause": None, "workaround": None,
                          "is_known_error": 0, "active": 1, "updated_at": when})
            elif isinstance(event, Problem.RootCauseIdentified):
                rows.update(key, root_cause=event.root_cause, updated_at=when)
            elif isinstance(event, Problem.KnownErrorRecorded):
                rows.update(key, workaround=event.workaround, is_known_error=1, updated_at=when)
            elif isinstance(event, _FINISHED):
                # A closed or canceled problem's workaround is no longer offered.
                rows.update(key, active=0, updated_at=when)
