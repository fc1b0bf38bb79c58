from adapters.bootstrap import open_service_desk


def test_an_incident_survives_reopening_the_store(store_url: str) -> None:
    first = open_service_desk(store_url)
    opened = first.open_incident(actor="alice", title="Mail down", service="email")
    first.close()

    again = open_service_desk(store_url)
    assert again.incident(opened.number).title == "Mail down"
