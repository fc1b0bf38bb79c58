"""Known-error suggestions: ranked by symptom similarity and service, only active known errors."""

from adapters.bootstrap import projection_runner
from domain.incident import Incident
from domain.service_desk import ServiceDesk
from projections.store import SqliteReadStore
from projections.suggestions import suggestions


def known_error(desk: ServiceDesk, title: str, service: str, workaround: str) -> str:
    number = desk.open_problem(actor="pat", title=title, service=service).number
    desk.record_known_error(number, actor="pat", workaround=workaround)
    return number


def test_known_errors_rank_by_symptom_then_service_and_a_suggestion_applies(
        desk: ServiceDesk) -> None:
    same = known_error(desk, "Mail relay-1 queue above 5000 messages", "email",
                       "Restart the relay's delivery agent")
    elsewhere = known_error(desk, "Mail relay-9 queue above 80 messages", "smtp-gateway",
                            "Flush the gateway queue")
    unrelated = known_error(desk, "Calendar invites arrive twice", "email",
                            "Ask users to remove the duplicate")
    closed = known_error(desk, "Mail relay-2 queue above 10 messages", "email", "Old fix")
    desk.cancel_problem(closed, actor="pat", reason="Superseded")
    desk.open_problem(actor="pat", title="Mail relay-4 queue above 12 messages", service="email")
    incident = desk.open_incident(actor="sd", title="Mail relay-3 queue above 1,200 messages",
                                  service="email", description="Outbound mail is delayed")
    runner = projection_runner(desk, SqliteReadStore(":memory:"))
    runner.catch_up()

    ranked = suggestions(runner.store, service="email",
                         text=f"{incident.title} {incident.description}")

    # Problems without a known error, and closed ones, are never offered.
    assert [s["problem"] for s in ranked] == [same, elsewhere, unrelated]
    assert all(s["workaround"] for s in ranked)
    scores = [s["score"] for s in ranked]
    assert scores == sorted(scores, reverse=True)
    assert ranked[0]["same_service"] is True
    assert ranked[0]["score"] > ranked[1]["score"]

    applied = desk.apply_workaround(incident.number, actor="sd", text=ranked[0]["workaround"],
                                    known_error=ranked[0]["problem"])
    assert applied.known_error_number == same
    (event,) = [e for e in desk.events.get(applied.id)
                if isinstance(e, Incident.WorkaroundApplied)]
    assert (event.known_error_number, event.text) == (same, "Restart the relay's delivery agent")


def test_the_service_breaks_a_tie_in_similarity(desk: ServiceDesk) -> None:
    other = known_error(desk, "Database connection pool exhausted", "billing", "Raise the pool")
    own = known_error(desk, "Database connection pool exhausted", "orders", "Recycle the pods")
    runner = projection_runner(desk, SqliteReadStore(":memory:"))
    runner.catch_up()

    ranked = suggestions(runner.store, service="orders",
                         text="Database connection pool exhausted on orders-7")

    assert [s["problem"] for s in ranked] == [own, other]
    assert ranked[0]["score"] - ranked[1]["score"] == 20.0
