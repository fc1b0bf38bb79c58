"""The alert webhooks, live: a storm becomes few incidents, a bad payload writes nothing."""

from collections.abc import Callable
from typing import Any

from adapters.http.access import Role
from adapters.http.body_limit import MAX_ALERT_BODY_BYTES, MAX_BODY_BYTES
from tests.e2e.api.conftest import ROLE_TOKENS, ApiServer

KEYS = ["disk-db-01", "disk-db-02", "cpu-web-01", "mem-web-02"]
REQUESTS, PER_REQUEST = 6, 50


def _alertmanager(keys: list[str], *, status: str = "firing") -> dict[str, Any]:
    return {"version": "4", "status": status, "receiver": "tandem", "alerts": [{
        "status": status,
        "labels": {"alertname": "HostTrouble", "service": "storage", "severity": "critical",
                   "instance": key},
        "annotations": {"summary": f"Trouble on {key}"},
        "startsAt": "2026-03-02T08:40:00.123456789Z",
        "endsAt": "2026-03-02T09:40:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "fingerprint": key} for key in keys]}


def test_an_alertmanager_storm_becomes_one_incident_per_key_with_exact_counts(
        start_server: Callable[[str], ApiServer], store_url: str) -> None:
    server = start_server(store_url)
    storm = [KEYS[i % len(KEYS)] for i in range(REQUESTS * PER_REQUEST)]
    with server.client(ROLE_TOKENS[Role.MONITOR]) as monitor, server.client() as admin:
        answers = [monitor.post("/alerts/alertmanager", json=_alertmanager(
            storm[i:i + PER_REQUEST])) for i in range(0, len(storm), PER_REQUEST)]
        assert {answer.status_code for answer in answers} == {202}
        first = answers[0].json()
        assert first["received"] == PER_REQUEST
        assert first["outcomes"] == {"opened": len(KEYS), "accumulated": PER_REQUEST - len(KEYS)}
        assert first["alerts"][0] == {"source": "alertmanager", "dedup_key": KEYS[0],
                                      "status": "firing", "outcome": "opened",
                                      "incident": "INC0000001"}
        assert all(answer.json()["outcomes"] == {"accumulated": PER_REQUEST}
                   for answer in answers[1:])
        server.api.intake.close()  # what SIGTERM does; the server's timer does it every 10 s
        listed = admin.get("/incidents").json()["items"]
        shown = [admin.get(f"/incidents/{item['number']}").json() for item in listed]
        history = admin.get("/incidents/INC0000001/history").json()
        metrics = admin.get("/metrics").text
    assert [(view["title"], view["priority"], view["alert_occurrences"]) for view in shown] == [
        (f"Trouble on {key}", "P1", len(storm) // len(KEYS)) for key in KEYS]
    assert {event["actor"] for event in history} == {"monitor:alertmanager"}
    assert (f'tandem_alerts_received_total{{outcome="accumulated",source="alertmanager"}} '
            f"{len(storm) - len(KEYS)}.0") in metrics


def test_an_invalid_payload_is_refused_naming_the_field_and_nothing_is_written(
        server: ApiServer) -> None:
    payload = _alertmanager(["db-01", "db-02"])
    del payload["alerts"][1]["labels"]["service"]
    with server.client(ROLE_TOKENS[Role.MONITOR]) as monitor, server.client() as admin:
        before = admin.get("/health").json()["position"]
        refused = monitor.post("/alerts/alertmanager", json=payload)
        generic = monitor.post("/alerts", json={"source": "zabbix", "dedup_key": "q",
                                                "service": "email", "summary": "Queue",
                                                "fired_at": "yesterday"})
        not_json = monitor.post("/alerts", content=b"{", headers={
            "content-type": "application/json"})
        after = admin.get("/health").json()["position"]
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["field"] == "alerts[1].labels.service"
    assert (generic.status_code, generic.json()["field"]) == (422, "fired_at")
    assert (not_json.status_code, not_json.json()["field"]) == (422, "body")
    assert after == before


def test_a_generic_alert_opens_an_incident_whose_events_name_its_source(
        server: ApiServer) -> None:
    alert = {"source": "zabbix", "dedup_key": "relay-2/queue", "service": "email",
             "summary": "Mail queue on relay-2 above 1,024 messages", "severity": "warning",
             "fired_at": "2026-03-02T08:40:00Z", "labels": {"host": "relay-2"}}
    with server.client(ROLE_TOKENS[Role.MONITOR]) as monitor, server.client() as admin:
        opened = monitor.post("/alerts", json={"alerts": [alert]})
        again = monitor.post("/alerts", json=alert)
        recovered = monitor.post("/alerts", json={**alert, "status": "resolved"})
        view = admin.get("/incidents/INC0000001").json()
        actors = {event["actor"] for event in admin.get("/incidents/INC0000001/history").json()}
    assert [a.json()["alerts"][0]["outcome"] for a in (opened, again, recovered)] == [
        "opened", "accumulated", "recovered"]
    assert (view["service"], view["channel"], view["alert_occurrences"]) == ("email",
                                                                             "monitoring", 2)
    assert view["alert_recovered_at"] == "2026-03-02T08:40:00.000000Z"
    assert actors == {"monitor:zabbix"}


def test_bodies_above_the_limits_are_refused_unread_and_write_nothing(
        server: ApiServer) -> None:
    huge_title = "x" * (MAX_BODY_BYTES + 1)
    alert_storm = _alertmanager([f"host-{index:06d}" for index in range(2)])
    alert_storm["padding"] = "y" * MAX_ALERT_BODY_BYTES
    with server.client(ROLE_TOKENS[Role.MONITOR]) as monitor, server.client() as admin, \
            server.client(token=None) as stranger:
        before = admin.get("/health").json()["position"]
        command = admin.post("/incidents", json={"title": huge_title, "service": "vpn"})
        chunked = admin.post("/incidents", content=iter([b'{"title": "', huge_title.encode(),
                                                         b'", "service": "vpn"}']),
                             headers={"Content-Type": "application/json"})
        alerts = monitor.post("/alerts/alertmanager", json=alert_storm)
        unknown = stranger.post("/incidents", json={"title": huge_title, "service": "vpn"})
        server.api.intake.close()
        after_refusals = admin.get("/health").json()["position"]
        # An alert group far above a command's limit is within the webhooks' own.
        group = monitor.post("/alerts/alertmanager", json=_alertmanager(
            [f"host-{index:06d}" for index in range(5_000)]))
    for refused in (command, chunked, alerts):
        assert refused.status_code == 413
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:tandem:error:body-too-large"
    assert "content-length" not in chunked.request.headers  # counted as it arrived
    assert unknown.status_code == 401  # nothing but /health answers a caller without a token
    assert after_refusals == before
    assert len(group.request.content) > MAX_BODY_BYTES
    assert group.status_code == 202
    assert group.json()["outcomes"] == {"opened": 5_000}
