"""Everything at the edge: persistence wiring, codec, CLI (and later HTTP, Kafka, alerts)."""
