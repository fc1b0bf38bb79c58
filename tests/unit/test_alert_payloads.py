"""Alertmanager v4 webhook payloads and the generic form, parsed into normalised alerts."""

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.alerts.alertmanager import parse_alertmanager
from adapters.alerts.generic import parse_generic
from domain.alert import AlertStatus
from domain.errors import ValidationFailed

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alerts"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_a_grouped_firing_payload_gives_one_alert_per_label_set() -> None:
    first, second = parse_alertmanager(fixture("alertmanager_firing.json"))

    assert (first.source, first.dedup_key, first.service, first.severity) == (
        "alertmanager", "5c6a4f4d1b9e2a10", "billing-db", "critical")
    assert first.summary == "Disk 91% full on db-01"
    assert first.description == "Filesystem /var/lib/pg on db-01 has 9% space left."
    assert first.status is AlertStatus.FIRING
    assert first.fired_at.isoformat() == "2026-03-02T08:58:30.512794+00:00"
    assert first.labels["instance"] == "db-01:9100"
    assert second.dedup_key == "8e1f03c2aa47d6b9"
    # Both disks show one symptom: the fingerprint masks the numbers and the host.
    assert first.fingerprint == second.fingerprint == "disk <NUM>% full on <ID>"


def test_a_resolved_alert_is_dated_by_its_end() -> None:
    (resolved,) = parse_alertmanager(fixture("alertmanager_resolved.json"))
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.dedup_key == "5c6a4f4d1b9e2a10"
    assert resolved.fired_at.isoformat() == "2026-03-02T09:20:30.512794+00:00"


def test_without_service_label_or_fingerprint_job_and_a_label_hash_stand_in() -> None:
    payload = fixture("alertmanager_job_only.json")
    (probe,) = parse_alertmanager(payload)
    (again,) = parse_alertmanager(payload)

    assert probe.service == "http_checks"
    assert probe.summary == "Instance https://shop.example.org has been down for over 5m."
    assert probe.description == ""
    assert probe.fired_at.isoformat() == "2026-03-02T07:55:45.828000+00:00"
    assert len(probe.dedup_key) == 16
    assert probe.dedup_key == again.dedup_key


def _changed(path: list[str | int], value: Any) -> Any:
    payload = fixture("alertmanager_firing.json")
    target = payload
    for step in path[:-1]:
        target = target[step]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return payload


@pytest.mark.parametrize(("path", "value", "field"), [
    (["version"], "3", "version"),
    (["alerts"], [], "alerts"),
    (["alerts", 1, "startsAt"], "yesterday", "alerts[1].startsAt"),
    (["alerts", 0, "status"], "pending", "alerts[0].status"),
    (["alerts", 0, "labels", "alertname"], None, "alerts[0].labels.alertname"),
    (["alerts", 1, "labels"], {"alertname": "DiskAlmostFull", "severity": "critical"},
     "alerts[1].labels.service"),
    (["alerts", 0, "labels"], {"alertname": "X", "job": "j", "severity": 3},
     "alerts[0].labels.severity"),
    # PostgreSQL text cannot hold NUL: one in an event would stop the read models there.
    (["alerts", 0, "annotations", "summary"], "Disk\x00full", "alerts[0].summary"),
    (["alerts", 0, "labels", "instance"], "db\x0001", "alerts[0].labels.instance"),
    (["alerts", 0, "annotations", "description"], "see\x00runbook", "alerts[0].description"),
])
def test_an_invalid_alertmanager_payload_names_the_field(path: list[str | int], value: Any,
                                                          field: str) -> None:
    payload = _changed(path, value)
    with pytest.raises(ValidationFailed) as refused:
        parse_alertmanager(payload)
    assert refused.value.field == field


def test_the_generic_form_maps_field_by_field() -> None:
    (alert,) = parse_generic(fixture("generic.json"))
    assert (alert.source, alert.dedup_key, alert.service, alert.category) == (
        "zabbix", "mail-relay-2/queue", "email", "messaging")
    assert alert.fingerprint == "mail queue on <ID> above <NUM> messages"
    assert alert.labels == {"host": "relay-2", "trigger": "queue_length"}
    assert alert.actor == "monitor:zabbix"


def test_a_single_generic_alert_object_is_accepted() -> None:
    (only,) = fixture("generic.json")["alerts"]
    assert parse_generic(only) == parse_generic(fixture("generic.json"))
