"""The HTTP API (design section 10): FastAPI routes over ServiceDesk and the read models."""
