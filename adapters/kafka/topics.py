"""Creating the event topic (and its dead-letter topic) with a chosen partition count."""

import logging
import time
from collections.abc import Callable

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from adapters.kafka.relay import Backoff
from adapters.kafka.wire import dead_letter_topic

log = logging.getLogger("tandem.topics")

BOOTSTRAP_TIMEOUT_MS = 5_000


EVENT_TOPIC_CONFIG = {"retention.ms": "-1"}
"""The event topic keeps every event: a Kafka-fed projector rebuilds from its first record."""


def ensure_topics(bootstrap: str, names: list[str], *, partitions: int,
                  replication_factor: int = 1,
                  configs: dict[str, dict[str, str]] | None = None) -> list[str]:
    """Create the missing ones (a broker's auto-created topic would get its default partition
    count), with `configs[name]` if given; returns the names created. Existing topics are left
    as they are."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="tandem-admin",
                             bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS)
    try:
        missing = [name for name in names if name not in set(admin.list_topics())]
        created = []
        for name in missing:
            try:
                admin.create_topics([NewTopic(name, partitions, replication_factor,
                                              topic_configs=(configs or {}).get(name, {}))])
            except TopicAlreadyExistsError:
                continue  # another relay or an operator created it meanwhile
            created.append(name)
        return created
    finally:
        admin.close()


def ensure_event_topics(bootstrap: str, topic: str, *, partitions: int,
                        sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """`topic` and its dead-letter topic, retried with back-off while the broker is
    unreachable (the relay and the Kafka-fed projector may start before it)."""
    backoff = Backoff()
    while True:
        try:
            return ensure_topics(bootstrap, [topic, dead_letter_topic(topic)],
                                 partitions=partitions, configs={topic: EVENT_TOPIC_CONFIG})
        except KafkaError as failure:
            wait = backoff.next()
            log.warning("cannot create topics on %s (%s); retrying in %.1f s",
                        bootstrap, failure, wait)
            sleep(wait)
