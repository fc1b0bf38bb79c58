"""The admin token `tandem serve` makes on first start: shown once, kept only as its hash."""

import secrets
from datetime import UTC, datetime

from adapters.http.access import ADMIN, token_hash
from projections.store import ReadStore

SCHEMA = ("CREATE TABLE IF NOT EXISTS http_admin_tokens (name TEXT PRIMARY KEY, "
          "token_sha256 TEXT NOT NULL, created_at TEXT NOT NULL)")


def admin_token_hash(store: ReadStore, *, renew: bool = False) -> tuple[str, str | None]:
    """(the stored hash, the new token if this call made one); the store's database keeps the
    hash, so the token works after restarts and for every server on the same store."""
    with store.transaction() as cursor:
        cursor.execute(SCHEMA)
        if renew:
            cursor.execute("DELETE FROM http_admin_tokens WHERE name = ?", [ADMIN])
        token = secrets.token_urlsafe(32)
        made = cursor.execute(
            "INSERT INTO http_admin_tokens (name, token_sha256, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [ADMIN, token_hash(token), datetime.now(UTC).isoformat()]).rowcount == 1
        cursor.execute("SELECT token_sha256 FROM http_admin_tokens WHERE name = ?", [ADMIN])
        row = cursor.fetchone()
    assert row is not None
    return str(row[0]), token if made else None
