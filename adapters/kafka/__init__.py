"""Kafka edge of Tandem: the relay that publishes the event log, and the consumer SDK."""

PROJECTOR_BATCH = 1_000
"""Most records the Kafka-fed projector applies per read-store transaction, by default; here,
not in projector.py, so the CLI can show it without loading the Kafka client."""
