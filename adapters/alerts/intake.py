"""The alert intake: what the CLI and the HTTP receiver call; an alert storm becomes few writes.

The first alert of a key (in this process) is routed at once: it opens, reopens or finds its
incident. Repeats of a key already routed are counted in memory and written as one
`AlertOccurrencesRecorded` per key per flush, with the exact count and first/last receipt
times. A `resolved` alert first writes its key's pending repeats, then the recovery, at once.
A flush happens when `flush_interval_seconds` have passed (checked on every `receive` and
`tick`), when `flush_size` repeats are pending, and on `close`. What a crash can lose: the
repeats received since the last flush (at most `flush_size`, at most one interval's worth);
never an incident, a reopening or a recovery, which are written before `receive` returns.
"""

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from adapters.alerts.settings import AlertSettings
from domain.alert import Alert, AlertOutcome, AlertResult, AlertStatus, Occurrences
from domain.service_desk import ServiceDesk

Clock = Callable[[], datetime]
SAVE_BATCH = 500
"""Incidents whose repeats one flush transaction saves."""
KNOWN_KEYS_LIMIT = 100_000
"""Bound of the memo of routed keys; forgetting one only makes its next alert routed at once."""


def _system_clock() -> datetime:
    return datetime.now(UTC)


class AlertIntake:
    """Thread-safe: one lock orders receives, ticks and flushes."""

    def __init__(self, desk: ServiceDesk, *, settings: AlertSettings,
                 clock: Clock = _system_clock) -> None:
        self._desk = desk
        self._rules = settings.rules()
        self._interval = timedelta(seconds=settings.flush_interval_seconds)
        self._flush_size = settings.flush_size
        self._clock = clock
        self._lock = threading.Lock()
        self._known: dict[tuple[str, str], str | None] = {}
        """Keys routed by this process -> their incident number."""
        self._pending: dict[tuple[str, str], tuple[Alert, Occurrences]] = {}
        self._pending_count = 0
        self._last_flush = clock()

    @property
    def pending(self) -> int:
        """Repeats counted but not yet written."""
        return self._pending_count

    def receive(self, alerts: Iterable[Alert]) -> list[AlertResult]:
        """Route or accumulate each alert, in order; flush if the interval is up."""
        with self._lock:
            results = [self._take(alert) for alert in alerts]
            if self._clock() - self._last_flush >= self._interval:
                self._flush()
            return results

    def tick(self) -> int:
        """Flush if the interval is up (a server calls this on a timer); keys written."""
        with self._lock:
            if self._clock() - self._last_flush >= self._interval:
                return self._flush()
            return 0

    def close(self) -> int:
        """Write everything pending: the graceful stop. Keys written."""
        with self._lock:
            return self._flush()

    def _take(self, alert: Alert) -> AlertResult:
        key = (alert.source, alert.dedup_key)
        if alert.status is AlertStatus.RESOLVED:
            self._flush(only=key)
            self._known.pop(key, None)
            return self._desk.receive_alert(alert, rules=self._rules)
        if key not in self._known:
            result = self._desk.receive_alert(alert, rules=self._rules)
            self._remember(key, result.incident)
            return result
        now = self._clock()
        seen = Occurrences(1, now, now)
        if key in self._pending:
            seen = self._pending[key][1].merged(seen)
        self._pending[key] = (alert, seen)
        self._pending_count += 1
        result = AlertResult(AlertOutcome.ACCUMULATED, self._known[key])
        if self._pending_count >= self._flush_size:
            self._flush()
        return result

    def _flush(self, only: tuple[str, str] | None = None) -> int:
        """Write pending repeats (of one key, or all); on a failure the unwritten stay pending.

        Keys whose incident is open are written SAVE_BATCH per transaction; the others (and
        a batch that lost a race) one by one, through the full routing rules.
        """
        if only is None:
            batch, self._pending = list(self._pending.items()), {}
            self._last_flush = self._clock()
        elif only in self._pending:
            batch = [(only, self._pending.pop(only))]
        else:
            return 0
        self._pending_count -= sum(seen.count for _, (_, seen) in batch)
        written: set[int] = set()
        try:
            for start in range(0, len(batch), SAVE_BATCH):
                chunk = batch[start:start + SAVE_BATCH]
                results = self._desk.receive_alert_repeats([entry for _, entry in chunk])
                written.update(start + offset for offset, result in enumerate(results)
                               if result is not None)
                for offset, ((key, (alert, seen)), result) in enumerate(zip(
                        chunk, results, strict=True)):
                    if result is None:
                        result = self._desk.receive_alert(alert, rules=self._rules,
                                                          occurrences=seen)
                        written.add(start + offset)
                    self._remember(key, result.incident)
        except BaseException:
            for index, (key, entry) in enumerate(batch):
                if index not in written:
                    self._pending[key] = entry
                    self._pending_count += entry[1].count
            raise
        return len(batch)

    def _remember(self, key: tuple[str, str], incident: str | None) -> None:
        if len(self._known) >= KNOWN_KEYS_LIMIT:
            self._known.clear()
        self._known[key] = incident
