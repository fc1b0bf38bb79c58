"""Alert intake: payload parsers (Alertmanager, generic JSON) and the accumulating intake."""
