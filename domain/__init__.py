"""Incident and problem management: aggregates, events, rules and the ServiceDesk application."""
