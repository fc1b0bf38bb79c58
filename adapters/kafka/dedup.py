"""Per-stream highest version seen: enough to drop re-deliveries, since a stream's events
arrive in version order (one key, one partition)."""

from collections import OrderedDict
from collections.abc import Mapping

DEFAULT_MAX_STREAMS = 1_000_000


class SeenVersions:
    """Bounded: past `max_streams`, the least recently active stream is forgotten (a re-delivery
    of it would then pass once more). `snapshot()`/`restore()` persist it beside the handler's
    own state, so de-duplication survives a restart."""

    def __init__(self, *, max_streams: int = DEFAULT_MAX_STREAMS) -> None:
        self.max_streams = max_streams
        self._versions: OrderedDict[str, int] = OrderedDict()

    def is_new(self, stream_id: str, version: int) -> bool:
        return version > self._versions.get(stream_id, 0)

    def mark(self, stream_id: str, version: int) -> None:
        if version <= self._versions.get(stream_id, 0):
            return
        self._versions[stream_id] = version
        self._versions.move_to_end(stream_id)
        while len(self._versions) > self.max_streams:
            self._versions.popitem(last=False)

    def snapshot(self) -> dict[str, int]:
        return dict(self._versions)

    @classmethod
    def restore(cls, versions: Mapping[str, int], *,
                max_streams: int = DEFAULT_MAX_STREAMS) -> "SeenVersions":
        seen = cls(max_streams=max_streams)
        for stream_id, version in versions.items():
            seen.mark(stream_id, version)
        return seen

    def __len__(self) -> int:
        return len(self._versions)
