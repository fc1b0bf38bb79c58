"""One router per area; the app factory includes them (new areas add one module each)."""
