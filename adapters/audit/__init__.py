"""Audit of the event store: history, state as of a moment, verification, export (design 7)."""
