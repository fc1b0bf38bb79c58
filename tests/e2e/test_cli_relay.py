"""`tandem relay status`: where the relay is, the head of the event log, the lag between them."""

from adapters.bootstrap import open_read_store, open_service_desk
from adapters.kafka.positions import RelayPositions, relay_name
from tests.e2e.conftest import Cli

KEYS = {"topic", "position", "head", "lag", "started"}


def test_status_before_any_relay_ran_counts_the_whole_log_as_lag(cli: Cli) -> None:
    assert cli.database_url is not None
    cli.open_incident("--title", "Mail down", "--service", "email")
    desk = open_service_desk(cli.database_url)
    head = desk.recorder.max_notification_id()

    status = cli.json("relay", "status", "--json")

    assert set(status) == KEYS
    assert status == {"topic": "tandem.events", "position": 0, "head": head, "lag": head,
                      "started": False}
    assert "lag" in cli.ok("relay", "status").out


def test_status_reads_the_position_the_relay_recorded_for_its_topic(cli: Cli) -> None:
    assert cli.database_url is not None
    for title in ("Mail down", "VPN slow", "Printer jam"):
        cli.open_incident("--title", title, "--service", "office")
    desk = open_service_desk(cli.database_url)
    head = desk.recorder.max_notification_id()
    assert head is not None
    store = open_read_store(cli.database_url)
    RelayPositions(store, relay_name("ops.events")).advance(0, head - 2)
    store.close()

    status = cli.json("relay", "status", "--topic", "ops.events", "--json")
    other = cli.json("relay", "status", "--json")

    assert status == {"topic": "ops.events", "position": head - 2, "head": head, "lag": 2,
                      "started": True}
    assert (other["started"], other["lag"]) == (False, head)
