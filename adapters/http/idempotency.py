"""`Idempotency-Key` on POSTs: a retried request replays the first answer instead of acting twice.

Keys are kept per principal in the store's database (`http_idempotency`), so they hold across
restarts and across server processes sharing one store. A key is claimed before the command
runs; a second request with the same key waits for the first one's answer and replays it.
Only successful answers are kept: a refused command wrote nothing, so a retry may run it again.
"""

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from adapters.http.errors import ApiError
from projections.store import ReadStore

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS http_idempotency ("
    " principal TEXT NOT NULL, idempotency_key TEXT NOT NULL, fingerprint TEXT NOT NULL,"
    " status INTEGER, body TEXT, headers TEXT, created_at DOUBLE PRECISION NOT NULL,"
    " PRIMARY KEY (principal, idempotency_key))"
)
KEEP_SECONDS = 24 * 3600.0
"""How long an answer is replayed; `purge` (a periodic job of `tandem serve`) drops older ones."""
ABANDONED_SECONDS = 60.0
"""A claim this old without an answer belongs to a request that died: another may take it."""
WAIT_SECONDS = 30.0
POLL_SECONDS = 0.02
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    headers: dict[str, str]


def fingerprint(method: str, path: str, body: bytes) -> str:
    """The same request gives the same fingerprint, however its JSON is spaced or ordered."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


class IdempotencyKeys:
    """Claims, answers and releases keys in the store's database."""

    def __init__(self, store: Callable[[], ReadStore], *,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._store = store
        self._clock = clock
        self._sleep = sleep
        with store().transaction() as cursor:
            cursor.execute(SCHEMA)

    def claim(self, principal: str, key: str, request: str) -> Answer | None:
        """None: this request holds the key and must run; else the first request's answer."""
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            raise ApiError(422, "invalid-input", f"Idempotency-Key: must be 1 to "
                           f"{MAX_KEY_LENGTH} characters", field="Idempotency-Key")
        deadline = self._clock() + WAIT_SECONDS
        while True:
            now = self._clock()
            with self._store().transaction() as cursor:
                claimed = cursor.execute(
                    "INSERT INTO http_idempotency (principal, idempotency_key, fingerprint, "
                    "created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [principal, key, request, now]).rowcount
                if claimed == 1:
                    return None
                cursor.execute("SELECT fingerprint, status, body, headers, created_at "
                               "FROM http_idempotency WHERE principal = ? AND "
                               "idempotency_key = ?", [principal, key])
                row = cursor.fetchone()
            if row is None:
                continue  # released between our insert and select: try again
            stored, status, body, headers, created_at = row
            if stored != request:
                raise ApiError(422, "idempotency-key-reused",
                               f"Idempotency-Key {key!r} was used for a different request: "
                               "use a new key for a new request", field="Idempotency-Key")
            if status is not None:
                return Answer(int(status), str(body), json.loads(headers))
            if now - float(created_at) > ABANDONED_SECONDS and self._take_over(
                    principal, key, float(created_at)):
                return None
            if now > deadline:
                raise ApiError(409, "idempotency-key-in-use",
                               f"a request with Idempotency-Key {key!r} is still running: "
                               "retry later")
            self._sleep(POLL_SECONDS)

    def answer(self, principal: str, key: str, answer: Answer) -> None:
        with self._store().transaction() as cursor:
            cursor.execute("UPDATE http_idempotency SET status = ?, body = ?, headers = ? "
                           "WHERE principal = ? AND idempotency_key = ?",
                           [answer.status, answer.body, json.dumps(answer.headers), principal,
                            key])

    def release(self, principal: str, key: str) -> None:
        """The request failed: forget the claim so that a retry runs the command."""
        with self._store().transaction() as cursor:
            cursor.execute("DELETE FROM http_idempotency WHERE principal = ? AND "
                           "idempotency_key = ? AND status IS NULL", [principal, key])

    def purge(self) -> int:
        """Forget answers older than KEEP_SECONDS; returns how many."""
        with self._store().transaction() as cursor:
            return int(cursor.execute("DELETE FROM http_idempotency WHERE created_at < ?",
                                      [self._clock() - KEEP_SECONDS]).rowcount)

    def _take_over(self, principal: str, key: str, created_at: float) -> bool:
        with self._store().transaction() as cursor:
            return int(cursor.execute(
                "UPDATE http_idempotency SET created_at = ? WHERE principal = ? AND "
                "idempotency_key = ? AND created_at = ? AND status IS NULL",
                [self._clock(), principal, key, created_at]).rowcount) == 1
