"""The verifier's fast decoder agrees with the hash recipe's canonical form, value for value.

`decode_canonical(encode(x))` must equal `to_json_data(x)`, key order included, for every value
the msgpack codec stores; otherwise verification would report hashes that are in fact fine.
"""

import json
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from adapters.msgpack_codec import MsgpackTranscoder, decode_canonical
from domain.audit_chain import to_json_data
from domain.incident import Channel, HoldReason, ResolutionCode
from domain.priority import Priority

CODEC = MsgpackTranscoder()
moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False), st.text(),
    st.uuids(),
    moments.map(lambda m: m.replace(tzinfo=UTC)),
    moments.map(lambda m: m.replace(tzinfo=timezone(timedelta(hours=5, minutes=30)))),
    moments.filter(lambda m: m.year > 1970).map(
        lambda m: m.replace(tzinfo=ZoneInfo("Europe/Zurich"))),
    st.dates(), st.decimals(allow_nan=False, allow_infinity=False),
    st.sampled_from([*Priority, *Channel, *HoldReason, *ResolutionCode]),
)
keys = st.one_of(st.text(max_size=8), st.uuids(),
                 st.integers(min_value=-(2**63), max_value=2**63 - 1))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12)


@given(state=st.dictionaries(st.text(max_size=12), values, max_size=8))
def test_fast_decoding_equals_the_canonical_form_of_the_decoded_state(
        state: dict[str, Any]) -> None:
    expected = to_json_data(state)
    decoded = decode_canonical(CODEC.encode(state))

    assert decoded == expected
    # Same order too: msgpack packs maps in iteration order, and the hash packs this.
    assert json.dumps(decoded) == json.dumps(expected)


def test_a_date_and_an_event_state_decode_alike() -> None:
    state = {"timestamp": datetime(2026, 3, 2, 9, tzinfo=UTC), "actor": "alice",
             "on": date(2026, 3, 2), "priority": Priority.P2, "b": None, "a": (1, "x")}
    assert decode_canonical(CODEC.encode(state)) == to_json_data(state) == {
        "a": [1, "x"], "actor": "alice", "b": None, "on": "2026-03-02", "priority": "P2",
        "timestamp": "2026-03-02T09:00:00.000000Z"}
