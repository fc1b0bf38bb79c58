"""Stored event state as msgpack: compact, fast, and exact for UUID, datetime, Decimal, enums."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgpack
from eventsourcing.persistence import Transcoder
from eventsourcing.utils import get_topic, resolve_topic

from domain.audit_chain import JsonValue, to_json_data

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
        zone_key = obj.tzinfo.key if isinstance(obj.tzinfo, ZoneInfo) else None
        return msgpack.ExtType(EXT_DATETIME, _pack([obj.isoformat(), zone_key]))
    if isinstance(obj, date):
        return msgpack.ExtType(EXT_DATE, obj.isoformat().encode())
    if isinstance(obj, Decimal):
        return msgpack.ExtType(EXT_DECIMAL, str(obj).encode())
    if isinstance(obj, tuple):
        return msgpack.ExtType(EXT_TUPLE, _pack(list(obj)))
    raise TypeError(f"msgpack codec cannot encode {type(obj).__name__}: {obj!r}")


def _from_ext(code: int, data: bytes) -> Any:
    if code == EXT_UUID:
        return UUID(bytes=data)
    if code == EXT_UTC_DATETIME:
        return _EPOCH + timedelta(microseconds=int.from_bytes(data, "big", signed=True))
    if code == EXT_DATETIME:
        iso, zone_key = _unpack(data)
        moment = datetime.fromisoformat(iso)
        return moment.astimezone(ZoneInfo(zone_key)) if zone_key else moment
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
    return _canonical(_unpack_canonical(data))


def _unpack_canonical(data: bytes) -> Any:
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
        topic, value = _unpack_canonical(data)
        return _enum_value(topic, value)
    elif code == EXT_TUPLE:
        items = _unpack_canonical(data)
        assert isinstance(items, list)
        return items
    return to_json_data(_from_ext(code, data))


@lru_cache(maxsize=4096)
def _utc_second(seconds: int) -> str:
    """`YYYY-MM-DDTHH:MM:SS` of a whole second, as `format_timestamp` writes it."""
    return (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")


@lru_cache(maxsize=4096)
def _enum_value(topic: str, value: Any) -> JsonValue:
    # Resolved, not taken as stored, so that a value the enum does not know fails as it would
    # on the slow path, and an alias maps to its canonical member's value.
    return to_json_data(resolve_topic(topic)(value))


def _canonical(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        try:
            items = sorted(value.items())  # str keys, the usual case: no str() per key
        except TypeError:
            items = sorted(((str(key), item) for key, item in value.items()),
                           key=lambda pair: pair[0])
        else:
            if any(type(key) is not str for key, _ in items):
                items = sorted(((str(key), item) for key, item in items),
                               key=lambda pair: pair[0])
        return {key: _canonical(item) if type(item) in _CONTAINERS else item
                for key, item in items}
    if kind is list:
        return [_canonical(item) if type(item) in _CONTAINERS else item for item in value]
    return value


_CONTAINERS = (dict, list)
