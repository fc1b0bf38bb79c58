"""Problems over HTTP: linking incidents, known errors, and resolving incidents with the fix."""

import httpx

from tests.e2e.api.conftest import opened
from tests.e2e.conftest import PROBLEM_KEYS


def test_a_problem_goes_from_incidents_to_a_known_error_to_a_fix(admin: httpx.Client) -> None:
    first, second, third = (opened(admin)["number"] for _ in range(3))
    created = admin.post("/problems", json={"title": "Relay stalls after cert rotation",
                                            "service": "email", "incidents": [first]})
    assert created.status_code == 201
    assert created.headers["location"] == "/problems/PRB0000001"
    assert created.json().keys() >= PROBLEM_KEYS
    assert created.json()["incidents"] == [first]

    def step(command: str, body: dict[str, object]) -> dict[str, object]:
        answer = admin.post(f"/problems/PRB0000001/{command}", json=body)
        assert answer.status_code == 200, (command, answer.text)
        return dict(answer.json())

    assert step("link", {"incident": second})["incidents"] == [first, second]
    assert step("link", {"incident": third})["incidents"] == [first, second, third]
    assert step("unlink", {"incident": third})["incidents"] == [first, second]
    assert step("notes", {"text": "Happens after every rotation"})["state"] == "assessing"
    assert step("root-cause", {"text": "Relay caches the old cert"})["state"] == \
        "root_cause_analysis"
    assert step("known-error", {"workaround": "Restart the relay"})["known_error"] is True
    assert step("request-change", {"change_ref": "CHG0042"})["state"] == "fix_in_progress"

    applied = admin.post(f"/incidents/{third}/workaround",
                         json={"text": "Restarted the relay", "known_error": "PRB0000001"})
    assert applied.json()["known_error"] == "PRB0000001"
    assert admin.get(f"/incidents/{first}").json()["problem"] == "PRB0000001"
    assert admin.get(f"/incidents/{third}").json()["problem"] is None

    resolved = step("resolve", {"notes": "Relay reloads certs", "resolve_incidents": True})
    assert resolved["state"] == "resolved"
    for number in (first, second):
        incident = admin.get(f"/incidents/{number}").json()
        assert (incident["state"], incident["resolution_code"]) == (
            "resolved", "resolved_by_problem")
    assert admin.get(f"/incidents/{third}").json()["state"] == "new"
    assert step("close", {})["state"] == "closed"
    closed = admin.post("/problems/PRB0000001/cancel", json={"reason": "late"})
    assert closed.status_code == 409
    assert closed.json()["type"] == "urn:tandem:error:illegal-transition"


def test_link_honours_if_match_on_the_problem(admin: httpx.Client) -> None:
    incident = opened(admin)["number"]
    problem = admin.post("/problems", json={"title": "Flaky DNS"})
    admin.post("/problems/PRB0000001/notes", json={"text": "seen twice"})
    stale = admin.post("/problems/PRB0000001/link", json={"incident": incident},
                       headers={"If-Match": problem.headers["etag"]})
    assert stale.status_code == 409
    assert admin.get(f"/incidents/{incident}").json()["problem"] is None


def test_a_problem_is_canceled_with_a_reason_and_unknown_ones_are_404(
        admin: httpx.Client) -> None:
    admin.post("/problems", json={"title": "Duplicate of PRB0000009"})
    assert admin.post("/problems/PRB0000001/cancel", json={}).json()["field"] == "reason"
    canceled = admin.post("/problems/PRB0000001/cancel", json={"reason": "duplicate"})
    assert canceled.json()["state"] == "canceled"
    assert admin.get("/problems/PRB0000404").status_code == 404
    assert admin.get("/problems/INC0000001").status_code == 404
