"""Topic creation: the event topic keeps every event (a Kafka-fed projector rebuilds from it);
an unreachable broker is waited for."""

from typing import Any, ClassVar

import pytest
from kafka.errors import KafkaConnectionError

from adapters.kafka import topics


class FakeAdmin:
    """Records the topics asked for; the first `down` connections fail."""

    created: ClassVar[list[Any]] = []
    down = 0

    def __init__(self, **config: Any) -> None:
        if FakeAdmin.down:
            FakeAdmin.down -= 1
            raise KafkaConnectionError("no broker answers")

    def list_topics(self) -> list[str]:
        return ["existing"]

    def create_topics(self, new: list[Any]) -> None:
        FakeAdmin.created.extend(new)

    def close(self) -> None:
        pass


@pytest.fixture
def admin(monkeypatch: pytest.MonkeyPatch) -> type[FakeAdmin]:
    FakeAdmin.created, FakeAdmin.down = [], 0
    monkeypatch.setattr(topics, "KafkaAdminClient", FakeAdmin)
    return FakeAdmin


def test_the_event_topic_keeps_its_records_for_ever_and_its_dead_letters_do_not(
        admin: type[FakeAdmin]) -> None:
    created = topics.ensure_event_topics("broker:9092", "tandem.events", partitions=6)

    assert created == ["tandem.events", "tandem.events.dlq"]
    by_name = {topic.name: topic for topic in admin.created}
    assert by_name["tandem.events"].topic_configs == {"retention.ms": "-1"}
    assert by_name["tandem.events.dlq"].topic_configs == {}
    assert {topic.num_partitions for topic in admin.created} == {6}


def test_an_unreachable_broker_is_retried_with_back_off(admin: type[FakeAdmin]) -> None:
    admin.down = 3
    waits: list[float] = []

    created = topics.ensure_event_topics("broker:9092", "existing", partitions=6,
                                         sleep=waits.append)

    assert waits == [0.5, 1.0, 2.0]
    assert created == ["existing.dlq"]
