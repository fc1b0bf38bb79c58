"""Kafka edge of Tandem: the relay that publishes the event log, and the consumer SDK."""
