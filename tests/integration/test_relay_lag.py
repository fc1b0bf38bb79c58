"""`relay_lag`, the function /metrics calls: read-only, on SQLite and PostgreSQL."""

from adapters.bootstrap import open_read_store, open_service_desk
from adapters.kafka.positions import RelayPositions, relay_lag, relay_name
from tests.read_models import table_names


def test_lag_is_the_log_head_minus_the_position_and_reading_it_creates_nothing(
        store_url: str) -> None:
    desk = open_service_desk(store_url)
    for title in ("Mail down", "VPN slow"):
        desk.open_incident(actor="alice", title=title, service="office")
    head = desk.recorder.max_notification_id()
    assert head is not None
    store = open_read_store(store_url)

    before = relay_lag(store, desk.recorder, topic="tandem.events")
    created = table_names(store)
    RelayPositions(store, relay_name("tandem.events")).advance(0, head - 1)
    after = relay_lag(store, desk.recorder, topic="tandem.events")
    store.close()

    assert "relay_positions" not in created
    assert (before.position, before.head, before.lag, before.started) == (0, head, head, False)
    assert (after.position, after.head, after.lag, after.started) == (head - 1, head, 1, True)
