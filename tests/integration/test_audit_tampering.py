"""`tandem audit verify` against rows edited directly in SQLite and PostgreSQL.

Each story: a small service-desk day, an attacker with database access edits stored rows, and
verification names the record, the event and the reason.
"""

from dataclasses import dataclass
from typing import Any

import pytest

from adapters.audit.findings import (
    BROKEN_LINK,
    COUNT_MISMATCH,
    DIGEST_MISMATCH,
    HASH_MISMATCH,
    MISSING_RECORD,
    MISSING_VERSION,
    TRUNCATED,
    Finding,
)
from adapters.audit.verify import Verification, verify_record, verify_store
from adapters.bootstrap import open_service_desk
from domain.audit_seal import AUDIT_SEAL_ID
from domain.incident import Incident
from domain.service_desk import ServiceDesk
from tests.conftest import FakeClock
from tests.integration.tampering import RawStore


@dataclass
class Day:
    desk: ServiceDesk
    raw: RawStore
    mail: Incident
    """INC0000002, the record the attacker goes after: 6 events."""


@pytest.fixture
def day(store_url: str) -> Day:
    clock = FakeClock()
    desk = open_service_desk(store_url, clock=clock)
    desk.open_incident(actor="monitor:zabbix", title="Core switch flapping", service="network")
    mail = desk.open_incident(actor="carol", title="Mail delayed", service="email")
    for step in (
        lambda: desk.assign_incident(mail.number, actor="sd", group="messaging", assignee="bob"),
        lambda: desk.add_incident_note(mail.number, actor="bob", text="Relay 2 backlog"),
        lambda: desk.put_incident_on_hold(mail.number, actor="bob", reason="awaiting_vendor"),
        lambda: desk.resume_incident(mail.number, actor="bob"),
        lambda: desk.resolve_incident(mail.number, actor="bob", code="solution_provided",
                                      notes="Relay restarted"),
    ):
        clock.advance(minutes=5)
        step()
    desk.open_problem(actor="pat", title="Relays stall", incidents=["INC0000001"])
    clock.advance(minutes=5)
    return Day(desk, RawStore(store_url), desk.incident(mail.number), )


def _only(verification: Verification) -> Finding:
    assert not verification.ok
    assert len(verification.findings) == 1, [f.line() for f in verification.findings]
    return verification.findings[0]


def _retitle(state: dict[str, Any]) -> None:
    state["title"] = "Nothing happened here"


def test_an_untouched_store_verifies(day: Day) -> None:
    verification = verify_store(day.desk)

    assert verification.ok, [f.line() for f in verification.findings]
    assert (verification.events, verification.records) == (15, 5)  # with 2 sequences
    assert verify_record(day.desk, day.mail.number).ok


def test_a_changed_field_is_named(day: Day) -> None:
    day.raw.change(day.mail.id, 1, _retitle)

    finding = _only(verify_store(day.desk))

    assert (finding.subject, finding.version, finding.reason) == (
        "INC0000002", 1, HASH_MISMATCH)
    assert finding.position is not None
    assert _only(verify_record(day.desk, "INC0000002")).reason == HASH_MISMATCH


def test_a_changed_actor_on_a_later_event_is_named(day: Day) -> None:
    day.raw.change(day.mail.id, 3, lambda state: state.update(actor="mallory"))

    finding = _only(verify_store(day.desk))

    assert (finding.subject, finding.version, finding.reason) == (
        "INC0000002", 3, HASH_MISMATCH)


def test_a_deleted_event_is_named(day: Day) -> None:
    day.raw.delete(day.mail.id, 3)

    finding = _only(verify_store(day.desk))

    assert (finding.subject, finding.version, finding.reason) == (
        "INC0000002", 4, MISSING_VERSION)
    assert "version 3 missing" in finding.detail


def test_two_swapped_events_are_named(day: Day) -> None:
    day.raw.swap(day.mail.id, 3, 4)

    finding = _only(verify_store(day.desk))

    assert (finding.subject, finding.version, finding.reason) == (
        "INC0000002", 3, BROKEN_LINK)
    assert HASH_MISMATCH in finding.detail


def test_a_truncated_tail_after_a_seal_is_named(day: Day) -> None:
    day.desk.seal_audit_log(actor="ops")
    day.raw.delete(day.mail.id, 5, 6)
    # The record's own chain cannot tell: what is left of it is intact.
    assert verify_record(day.desk, day.mail.number).ok

    verification = verify_store(day.desk)

    reasons = {(f.subject, f.reason) for f in verification.findings}
    assert reasons == {("INC0000002", TRUNCATED), ("seal 1", COUNT_MISMATCH)}
    truncated = next(f for f in verification.findings if f.reason == TRUNCATED)
    assert "version 6" in truncated.detail
    assert "only up to version 4" in truncated.detail


def test_a_deleted_record_is_named_by_its_number_even_without_a_seal(day: Day) -> None:
    day.raw.delete_stream(day.mail.id)

    finding = _only(verify_store(day.desk))

    assert (finding.subject, finding.reason, finding.check) == (
        "INC0000002", MISSING_RECORD, "numbering")
    assert str(day.mail.id) in finding.detail
    assert _only(verify_record(day.desk, "INC0000002")).reason == MISSING_RECORD


def test_a_deleted_record_after_a_seal_is_named_by_the_seal_too(day: Day) -> None:
    day.desk.seal_audit_log(actor="ops")
    day.raw.delete_stream(day.mail.id)

    findings = verify_store(day.desk).findings

    assert {(f.check, f.reason) for f in findings} == {
        ("numbering", MISSING_RECORD), ("seal", MISSING_RECORD), ("seal", COUNT_MISMATCH)}
    assert {f.stream_id for f in findings if f.reason == MISSING_RECORD} == {day.mail.id}


def test_a_consistently_rehashed_chain_before_a_seal_breaks_the_seal(day: Day) -> None:
    day.desk.seal_audit_log(actor="ops")
    day.raw.rehash_from(day.mail.id, 1, _retitle)
    assert verify_record(day.desk, day.mail.number).ok  # the chain alone is fooled

    finding = _only(verify_store(day.desk))

    assert (finding.subject, finding.reason) == ("seal 1", DIGEST_MISMATCH)


def test_a_rehashed_chain_after_the_last_seal_is_not_detectable(day: Day) -> None:
    """The documented limit: after the last seal, only the chains guard, and a careful
    attacker rewrites the chain too. docs/audit.md tells operators to seal often."""
    day.desk.seal_audit_log(actor="ops")
    day.desk.add_incident_note(day.mail.number, actor="bob", text="Follow-up")
    day.raw.rehash_from(day.mail.id, 7, lambda state: state.update(text="Nothing"))

    assert verify_store(day.desk).ok


def test_seals_after_the_damage_still_localise_it(day: Day) -> None:
    day.desk.seal_audit_log(actor="ops")
    day.desk.add_incident_note(day.mail.number, actor="bob", text="Follow-up")
    day.desk.seal_audit_log(actor="ops")
    day.raw.rehash_from(day.mail.id, 7, lambda state: state.update(text="Nothing"))

    finding = _only(verify_store(day.desk))

    assert (finding.subject, finding.reason) == ("seal 2", DIGEST_MISMATCH)
    assert "since seal 1" in finding.detail


@pytest.mark.parametrize("parallel", [True, False], ids=["workers", "in-process"])
def test_worker_processes_find_exactly_what_the_verifying_process_finds(
        day: Day, parallel: bool) -> None:
    day.desk.seal_audit_log(actor="ops")
    day.raw.change(day.mail.id, 2, lambda state: state.update(assignee="mallory"))
    day.raw.delete(day.mail.id, 6)
    day.raw.change(day.mail.id, 3, lambda state: state.update(hash="0" * 63 + "1"))

    findings = verify_store(day.desk, parallel=parallel).findings

    assert [(f.subject, f.version, f.reason) for f in findings] == [
        ("INC0000002", 6, TRUNCATED), ("INC0000002", 2, HASH_MISMATCH),
        ("seal 1", 2, COUNT_MISMATCH)]
    assert [f.line() for f in findings] == [
        f.line() for f in verify_store(day.desk, parallel=not parallel).findings]


def test_a_deleted_seal_breaks_the_seal_chain_and_the_other_seals_still_count(day: Day) -> None:
    for text in ("First look", "Second look"):
        day.desk.seal_audit_log(actor="ops")
        day.desk.add_incident_note(day.mail.number, actor="bob", text=text)
    day.desk.seal_audit_log(actor="ops")
    day.raw.delete(AUDIT_SEAL_ID, 3)  # seal 2 of 3

    verification = verify_store(day.desk)

    finding = _only(verification)
    assert (finding.subject, finding.version, finding.reason) == (
        f"AuditSeal {AUDIT_SEAL_ID}", 4, MISSING_VERSION)
    assert verification.seals_checked == 2
    assert verification.latest_seal is not None
    assert verification.latest_seal.number == 3
