"""Audit reads on the in-memory store: envelopes, history, seals, as-of input rules."""

import re
from datetime import UTC, datetime
from uuid import NAMESPACE_URL, uuid5

import pytest

from adapters.audit.history import history, parse_moment, state_as_of
from adapters.audit.records import record_notifications, resolve_stream
from adapters.audit.verify import verify_record, verify_store
from adapters.envelope import ENVELOPE_KEYS, envelope
from domain.audit_chain import chain_hash
from domain.audit_seal import AUDIT_SEAL_ID, GENESIS_DIGEST, extend_digest
from domain.errors import NotFound, ValidationFailed
from domain.service_desk import ServiceDesk
from tests.conftest import FakeClock


def _mail(desk: ServiceDesk, clock: FakeClock) -> str:
    number = desk.open_incident(actor="carol", title="Mail delayed", service="email",
                                impact=2, urgency=1).number
    clock.advance(minutes=10)
    desk.assign_incident(number, actor="sd", group="messaging", assignee="bob")
    clock.advance(minutes=10)
    desk.put_incident_on_hold(number, actor="bob", reason="awaiting_vendor")
    return number


def test_an_envelope_carries_the_design_fields_and_its_own_proof(
        desk: ServiceDesk, clock: FakeClock) -> None:
    number = _mail(desk, clock)
    stream = resolve_stream(desk, number)
    held = envelope(record_notifications(desk, stream.id)[2], desk.mapper)

    assert tuple(held) == ENVELOPE_KEYS
    assert held["event_id"] == str(uuid5(uuid5(NAMESPACE_URL, "tandem:event"),
                                         f"{stream.id}:3"))
    assert (held["stream_type"], held["type"], held["version"], held["schema"]) == (
        "Incident", "IncidentPutOnHold", 3, 1)
    assert held["occurred_at"] == "2026-03-02T09:20:00.000000Z"
    assert (held["actor"], held["data"]) == ("bob", {"reason": "awaiting_vendor"})
    assert held["position"] > 1
    assert held["hash"] == chain_hash(
        stream_type="Incident", stream_id=stream.id, version=3, event_type="IncidentPutOnHold",
        schema=1, occurred_at=held["occurred_at"], actor="bob", data=held["data"],
        prev_hash=held["prev_hash"])


def test_history_says_who_did_what_and_what_changed(desk: ServiceDesk, clock: FakeClock) -> None:
    number = _mail(desk, clock)

    entries = history(desk, number)

    assert [(e["type"], e["actor"], e["summary"]) for e in entries] == [
        ("IncidentOpened", "carol", "opened: INC0000001"),
        ("IncidentAssigned", "sd", "assigned: messaging"),
        ("IncidentPutOnHold", "bob", "put on hold: awaiting_vendor"),
    ]
    assert entries[1]["changes"] == [
        {"field": "state", "old": "new", "new": "in_progress"},
        {"field": "assignment_group", "old": None, "new": "messaging"},
        {"field": "assignee", "old": None, "new": "bob"},
    ]
    as_of = history(desk, number, as_of=datetime(2026, 3, 2, 9, 15, tzinfo=UTC))
    assert [e["version"] for e in as_of] == [1, 2]


def test_state_as_of_answers_for_the_moment_asked(desk: ServiceDesk, clock: FakeClock) -> None:
    number = _mail(desk, clock)

    at_nine_fifteen = state_as_of(desk, number, parse_moment("2026-03-02T10:15:00+01:00"))

    assert (at_nine_fifteen["state"], at_nine_fifteen["version"]) == ("in_progress", 2)
    with pytest.raises(ValidationFailed, match=re.escape(
            "INC0000001 did not exist yet at 2026-03-02T08:59:59.000000Z")):
        state_as_of(desk, number, parse_moment("2026-03-02T08:59:59Z"))


@pytest.mark.parametrize("text", ["2026-03-02T09:00:00", "yesterday", "2026-13-01T00:00Z"])
def test_a_moment_needs_a_zone_and_a_valid_form(text: str) -> None:
    with pytest.raises(ValidationFailed, match=r"^as_of: "):
        parse_moment(text)


def test_unknown_records_are_not_found(desk: ServiceDesk) -> None:
    for read in (lambda: history(desk, "INC0000009"), lambda: verify_record(desk, "nonsense"),
                 lambda: state_as_of(desk, "PRB0000001", datetime.now(UTC))):
        with pytest.raises(NotFound):
            read()


def test_a_seal_extends_the_digest_and_only_when_there_is_something_new(
        desk: ServiceDesk, clock: FakeClock) -> None:
    _mail(desk, clock)
    first = desk.seal_audit_log(actor="ops")
    assert first is not None
    assert desk.seal_audit_log(actor="ops") is None

    expected = GENESIS_DIGEST
    for n in desk.recorder.select_notifications(1, 100):
        if n.originator_id != AUDIT_SEAL_ID:
            event = desk.mapper.to_domain_event(n)
            expected = extend_digest(expected, stream_id=n.originator_id,
                                     version=n.originator_version,
                                     event_hash=event.hash)  # type: ignore[attr-defined]
    assert (first.events, first.digest) == (5, expected)  # sequence: 2; incident: 3

    clock.advance(minutes=1)
    desk.resume_incident("INC0000001", actor="bob")
    second = desk.seal_audit_log(actor="ops")
    assert second is not None
    assert (second.version, second.events) == (3, 6)
    sealed = list(desk.events.get(AUDIT_SEAL_ID))[-1]
    assert sealed.heads == {str(desk.incident("INC0000001").id): 4}  # type: ignore[attr-defined]
    verification = verify_store(desk)
    assert verification.ok
    assert verification.seals_checked == 2
    assert verification.latest_seal is not None
    assert verification.latest_seal.digest == second.digest
