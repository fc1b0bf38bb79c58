"""Stored event state as msgpack: compact, fast, and exact for UUID, datetime, Decimal, enums."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgpack
from eventsourcing.persistence import Transcoder
from eventsourcing.utils import get_topic, resolve_topic

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
