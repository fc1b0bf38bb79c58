"""Stored event state as msgpack: compact, fast, and exact for UUID, datetime, Decimal, enums."""

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgpack
from eventsourcing.persistence import Transcoder
from eventsourcing.utils import get_topic, resolve_topic

from domain.audit_chain import JsonValue, format_timestamp, to_json_data

# Extension type codes are part of the stored format: never renumber them.
EXT_UUID = 1
EXT_UTC_DATETIME = 2
EXT_DATETIME = 3
EXT_DATE = 4
EXT_DECIMAL = 5
EXT_ENUM = 6
EXT_TUPLE = 7

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MsgpackTranscoder(Transcoder):
    """eventsourcing Transcoder (TRANSCODER_TOPIC) encoding with msgpack extension types."""

    def encode(self, obj: Any) -> bytes:
        return _pack(obj)

    def decode(self, data: bytes) -> Any:
        return _unpack(data)


def _pack(obj: Any) -> bytes:
    packed = msgpack.packb(obj, default=_to_ext, use_bin_type=True, strict_types=True)
    assert isinstance(packed, bytes)
    return packed


def _unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, ext_hook=_from_ext, raw=False, strict_map_key=False)


def _to_ext(obj: Any) -> msgpack.ExtType:
    # strict_types sends str/int subclasses (StrEnum, IntEnum) and tuples here too.
    if isinstance(obj, Enum):
        return msgpack.ExtType(EXT_ENUM, _pack([get_topic(type(obj)), obj.value]))
    if isinstance(obj, UUID):
        return msgpack.ExtType(EXT_UUID, obj.bytes)
    if isinstance(obj, datetime):
        if obj.tzinfo is UTC:
            micros = (obj - _EPOCH) // timedelta(microseconds=1)
            return msgpack.ExtType(EXT_UTC_DATETIME, micros.to_bytes(8, "big", signed=True))
        return msgpack.ExtType(EXT_DATETIME, _pack(_wall_time(obj)))
    if isinstance(obj, date):
        return msgpack.ExtType(EXT_DATE, obj.isoformat().encode())
    if isinstance(obj, Decimal):
        return msgpack.ExtType(EXT_DECIMAL, str(obj).encode())
    if isinstance(obj, tuple):
        return msgpack.ExtType(EXT_TUPLE, _pack(list(obj)))
    raise TypeError(f"msgpack codec cannot encode {type(obj).__name__}: {obj!r}")


def _wall_time(moment: datetime) -> list[Any]:
    """The wall time, fold and zone exactly as given: no conversion through UTC, so times in a
    DST gap, near the ends of the calendar or with odd offsets come back unchanged."""
    zone: Any = None
    if isinstance(moment.tzinfo, ZoneInfo):
        zone = moment.tzinfo.key
    elif moment.tzinfo is not None:
        offset = moment.utcoffset()
        if not isinstance(moment.tzinfo, timezone) or offset is None:
            raise TypeError(f"msgpack codec cannot encode the time zone {moment.tzinfo!r}")
        zone = [offset.days, offset.seconds, offset.microseconds]
    return [moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
            moment.microsecond, moment.fold, zone]


def _zone(zone: Any) -> tzinfo | None:
    if zone is None:
        return None
    if isinstance(zone, str):
        return ZoneInfo(zone)
    days, seconds, microseconds = zone
    return timezone(timedelta(days=days, seconds=seconds, microseconds=microseconds))


def _from_ext(code: int, data: bytes) -> Any:
    if code == EXT_UUID:
        return UUID(bytes=data)
    if code == EXT_UTC_DATETIME:
        return _EPOCH + timedelta(microseconds=int.from_bytes(data, "big", signed=True))
    if code == EXT_DATETIME:
        year, month, day, hour, minute, second, micro, fold, zone = _unpack(data)
        return datetime(year, month, day, hour, minute, second, micro, fold=fold,
                        tzinfo=_zone(zone))
    if code == EXT_DATE:
        return date.fromisoformat(data.decode())
    if code == EXT_DECIMAL:
        return Decimal(data.decode())
    if code == EXT_ENUM:
        topic, value = _unpack(data)
        return resolve_topic(topic)(value)
    if code == EXT_TUPLE:
        return tuple(_unpack(data))
    raise ValueError(f"stored event uses unknown msgpack extension type {code}")


# -- canonical decoding --------------------------------------------------------------------------


def decode_canonical(data: bytes) -> Any:
    """Stored state straight into its canonical JSON form: `to_json_data(decode(data))`.

    The audit verifier recomputes every stored hash and must keep up with large stores; going
    through rich Python values (UUID, datetime, enum members) and back costs twice as much.
    The result is equal to the slow path, key order included (a test holds the two together).
    """
    return canonical_order(decode_json_values(data))


def decode_json_values(data: bytes) -> Any:
    """Stored state with every value in its JSON form, but maps still in stored key order:
    `canonical_order` finishes the job, and can be spared what a caller drops anyway."""
    return msgpack.unpackb(data, ext_hook=_canonical_ext, raw=False, strict_map_key=False)


def _canonical_ext(code: int, data: bytes) -> JsonValue:
    if code == EXT_UUID:
        digits = data.hex()
        if len(digits) == 32:
            return (f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-"
                    f"{digits[20:]}")
    elif code == EXT_UTC_DATETIME:
        seconds, micros = divmod(int.from_bytes(data, "big", signed=True), 1_000_000)
        return f"{_utc_second(seconds)}.{micros:06d}Z"
    elif code == EXT_ENUM:
        return _enum_value(data)
    elif code == EXT_TUPLE:
        items = decode_json_values(data)
        assert isinstance(items, list)
        return items
    return to_json_data(_from_ext(code, data))


def _utc_second(seconds: int) -> str:
    """`YYYY-MM-DDTHH:MM:SS` of a whole second since the epoch, as `format_timestamp` writes it
    (only the date goes through it, once per day; the time of day comes from two tables:
    formatting is the slow part)."""
    days, second = divmod(seconds, 86_400)
    minute, second = divmod(second, 60)
    return f"{_utc_day(days)}{_HOURS_MINUTES[minute]}{_SECONDS[second]}"


_HOURS_MINUTES = tuple(f"T{hour:02d}:{minute:02d}:" for hour in range(24) for minute in range(60))
_SECONDS = tuple(f"{second:02d}" for second in range(60))


@lru_cache(maxsize=1024)
def _utc_day(days: int) -> str:
    return format_timestamp(_EPOCH + timedelta(days=days))[:10]


@lru_cache(maxsize=4096)
def _enum_value(payload: bytes) -> JsonValue:
    # Resolved, not taken as stored, so that a value the enum does not know fails as it would
    # on the slow path, and an alias maps to its canonical member's value. Few distinct
    # members are stored, so their payloads are cached whole.
    topic, value = decode_json_values(payload)
    return to_json_data(resolve_topic(topic)(value))


def canonical_order(value: Any) -> Any:
    """Map keys as str and sorted, at every level (the JSON values are left as they are)."""
    kind = type(value)
    if kind is dict:
        if set(map(type, value)) <= _STR:  # the usual case: sort the items as they are
            items = sorted(value.items())
        else:
            items = sorted(((str(key), item) for key, item in value.items()),
                           key=lambda pair: pair[0])
        return {key: canonical_order(item) if type(item) in _CONTAINERS else item
                for key, item in items}
    if kind is list:
        return [canonical_order(item) if type(item) in _CONTAINERS else item for item in value]
    return value


_CONTAINERS = (dict, list)
_STR = {str}
