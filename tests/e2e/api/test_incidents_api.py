"""Incidents over HTTP: the whole lifecycle, ETags, If-Match, and refusals as problem+json."""

from typing import Any

import httpx

from adapters.http.access import Role
from tests.e2e.api.conftest import NAMES, ROLE_TOKENS, ApiServer, opened
from tests.e2e.conftest import INCIDENT_KEYS


def test_an_incident_is_opened_worked_and_closed_with_each_answer_showing_the_record(
        admin: httpx.Client) -> None:
    created = admin.post("/incidents", json={"title": "VPN drops every hour",
                                             "service": "vpn", "impact": 1, "urgency": 2,
                                             "caller": "dana"})
    assert created.status_code == 201
    incident = created.json()
    assert incident.keys() >= INCIDENT_KEYS
    assert (incident["number"], incident["priority"], incident["state"]) == (
        "INC0000001", "P2", "new")
    assert created.headers["location"] == "/incidents/INC0000001"
    assert created.headers["etag"] == '"1"'

    steps: list[tuple[str, dict[str, Any], str]] = [
        ("assign", {"group": "network", "assignee": "bob"}, "in_progress"),
        ("categorize", {"category": "network", "subcategory": "vpn"}, "in_progress"),
        ("prioritize", {"impact": 1, "urgency": 1}, "in_progress"),
        ("escalate", {"kind": "hierarchical", "to": "duty manager", "reason": "VIP"},
         "in_progress"),
        ("hold", {"reason": "awaiting_vendor"}, "on_hold"),
        ("resume", {}, "in_progress"),
        ("notes", {"text": "Vendor patched the concentrator"}, "in_progress"),
        ("workaround", {"text": "Reconnect with the backup profile"}, "in_progress"),
        ("resolve", {"code": "solution_provided", "notes": "Firmware updated"}, "resolved"),
        ("reopen", {"reason": "Dropped again"}, "in_progress"),
        ("resolve", {"code": "solution_provided", "notes": "Second patch"}, "resolved"),
        ("close", {}, "closed"),
    ]
    for version, (command, body, state) in enumerate(steps, start=2):
        answer = admin.post(f"/incidents/INC0000001/{command}", json=body)
        assert answer.status_code == 200, (command, answer.text)
        assert answer.json()["state"] == state, command
        assert answer.json()["version"] == version
        assert answer.headers["etag"] == f'"{version}"'

    shown = admin.get(f"/incidents/{incident['id']}")  # by UUID as well as by number
    assert shown.status_code == 200
    assert shown.headers["etag"] == '"13"'
    final = shown.json()
    assert (final["priority"], final["escalation_level"], final["reopen_count"],
            final["work_notes"], final["close_code"]) == ("P1", 1, 1, 1, "solution_provided")
    assert shown.json() == admin.get("/incidents/INC0000001").json()


def test_every_event_names_the_authenticated_principal_as_its_actor(server: ApiServer) -> None:
    with server.client(ROLE_TOKENS[Role.REPORTER]) as reporter, \
            server.client(ROLE_TOKENS[Role.AGENT]) as agent, server.client() as admin:
        number = opened(reporter)["number"]
        assert agent.post(f"/incidents/{number}/assign", json={"group": "mail"},
                          headers={"X-Actor": "mallory"}).status_code == 200
        actors = [entry["actor"] for entry in admin.get(f"/incidents/{number}/history").json()]
    assert actors == [NAMES[Role.REPORTER], NAMES[Role.AGENT]]


def test_a_client_supplied_actor_is_refused_and_nothing_is_written(admin: httpx.Client) -> None:
    number = opened(admin)["number"]
    answer = admin.post(f"/incidents/{number}/notes", json={"text": "hi", "actor": "mallory"})
    assert answer.status_code == 422
    assert answer.json()["field"] == "actor"
    assert admin.get(f"/incidents/{number}").json()["version"] == 1


def test_a_stale_if_match_is_refused_with_409_and_the_current_etag_works(
        admin: httpx.Client) -> None:
    number = opened(admin)["number"]
    first = admin.post(f"/incidents/{number}/notes", json={"text": "one"},
                       headers={"If-Match": '"1"'})
    assert first.status_code == 200
    stale = admin.post(f"/incidents/{number}/notes", json={"text": "two"},
                       headers={"If-Match": '"1"'})
    assert stale.status_code == 409
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["type"] == "urn:tandem:error:stale-version"
    assert "version 2, not 1" in stale.json()["detail"]
    bare = admin.post(f"/incidents/{number}/notes", json={"text": "two"},
                      headers={"If-Match": "2"})  # a bare version is accepted too
    assert bare.status_code == 200
    assert bare.headers["etag"] == '"3"'
    assert admin.get(f"/incidents/{number}").json()["work_notes"] == 2


def test_a_malformed_if_match_names_the_header(admin: httpx.Client) -> None:
    number = opened(admin)["number"]
    answer = admin.post(f"/incidents/{number}/notes", json={"text": "x"},
                        headers={"If-Match": "yesterday"})
    assert answer.status_code == 422
    assert answer.json()["field"] == "If-Match"


def test_refusals_are_problem_json_naming_the_record_state_or_field(
        admin: httpx.Client) -> None:
    number = opened(admin)["number"]
    illegal = admin.post(f"/incidents/{number}/close", json={})
    assert illegal.status_code == 409
    body = illegal.json()
    assert body["type"] == "urn:tandem:error:illegal-transition"
    assert body["state"] == "new"
    assert number in body["detail"]
    assert body["instance"] == f"/incidents/{number}/close"

    invalid = admin.post(f"/incidents/{number}/prioritize", json={"impact": 7, "urgency": 1})
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    assert invalid.json()["field"] == "impact"

    missing = admin.post("/incidents", json={"service": "email"})
    assert missing.status_code == 422
    assert missing.json()["field"] == "title"

    blank = admin.post("/incidents", json={"title": "   ", "service": "email"})
    assert blank.status_code == 422
    assert blank.json()["field"] == "title"

    nul = admin.post("/incidents", json={"title": "a\u0000b", "service": "email"})
    assert nul.status_code == 422  # PostgreSQL text cannot hold it: it would stop projections
    assert nul.json()["field"] == "title"

    not_json = admin.post("/incidents", content=b"{", headers={"content-type": "application/json"})
    assert (not_json.status_code, not_json.json()["field"]) == (422, "body")

    unknown = admin.get("/incidents/INC0009999")
    assert unknown.status_code == 404
    assert "INC0009999" in unknown.json()["detail"]
    assert admin.get("/incidents/PRB0000001").status_code == 404
    assert admin.post("/incidents/not-a-ref/notes", json={"text": "x"}).status_code == 404
    assert admin.get(f"/incidents/{number}").json()["version"] == 1
