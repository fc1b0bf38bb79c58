"""`relay_lag`, the function /metrics calls: read-only, on SQLite and PostgreSQL."""

from adapters.bootstrap import open_read_store, open_service_desk
from adapters.kafka.positions import RelayPositions, relay_lag, relay_name
from projections.store import ReadStore


def tables(store: ReadStore) -> set[str]:
    with store.reading() as cursor:
        if store.dialect == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            cursor.execute("SELECT table_name FROM information_schema.tables "
                           "WHERE table_schema = current_schema()")
        return {name for (name,) in cursor.fetchall()}


def test_lag_is_the_log_head_minus_the_position_and_reading_it_creates_nothing(
        store_url: str) -> None:
    desk = open_service_desk(store_url)
    for title in ("Mail down", "VPN slow"):
        desk.open_incident(actor="alice", title=title, service="office")
    head = desk.recorder.max_notification_id()
    assert head is not None
    store = open_read_store(store_url)

    before = relay_lag(store, desk.recorder, topic="tandem.events")
    created = tables(store)
    RelayPositions(store, relay_name("tandem.events")).advance(0, head - 1)
    after = relay_lag(store, desk.recorder, topic="tandem.events")
    store.close()

    assert "relay_positions" not in created
    assert (before.position, before.head, before.lag, before.started) == (0, head, head, False)
    assert (after.position, after.head, after.lag, after.started) == (head - 1, head, 1, True)
