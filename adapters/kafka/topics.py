"""Creating the event topic (and its dead-letter topic) with a chosen partition count."""

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

BOOTSTRAP_TIMEOUT_MS = 5_000


def ensure_topics(bootstrap: str, names: list[str], *, partitions: int,
                  replication_factor: int = 1) -> list[str]:
    """Create the missing ones (a broker's auto-created topic would get its default partition
    count); returns the names created. Existing topics are left as they are."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="tandem-admin",
                             bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS)
    try:
        missing = [name for name in names if name not in set(admin.list_topics())]
        created = []
        for name in missing:
            try:
                admin.create_topics([NewTopic(name, partitions, replication_factor)])
            except TopicAlreadyExistsError:
                continue  # another relay or an operator created it meanwhile
            created.append(name)
        return created
    finally:
        admin.close()
