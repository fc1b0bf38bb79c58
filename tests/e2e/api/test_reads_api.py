"""Lists, queues and history over HTTP: read models, cursor pages, read-your-writes."""

from typing import Any

import httpx

from tests.e2e.api.conftest import opened


def _all_pages(client: httpx.Client, path: str, **params: Any) -> list[list[str]]:
    """The numbers on each page, following next_cursor to the end."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        answer = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append([item["number"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_a_list_pages_through_every_incident_once_in_number_order(admin: httpx.Client) -> None:
    numbers = [opened(admin, title=f"Printer {n} jammed")["number"] for n in range(7)]
    pages = _all_pages(admin, "/incidents", limit=3)
    assert pages == [numbers[0:3], numbers[3:6], numbers[6:7]]


def test_a_write_is_in_the_next_list_read(admin: httpx.Client) -> None:
    for n in range(3):
        number = opened(admin, title=f"Disk full {n}")["number"]
        admin.post(f"/incidents/{number}/assign", json={"group": "storage"})
        listed = admin.get("/incidents", params={"group": "storage"}).json()["items"]
        assert number in [item["number"] for item in listed]
        assert next(i for i in listed if i["number"] == number)["state"] == "in_progress"


def test_lists_filter_by_state_group_and_priority(admin: httpx.Client) -> None:
    p1 = opened(admin, impact=1, urgency=1)["number"]
    p5 = opened(admin)["number"]
    admin.post(f"/incidents/{p1}/assign", json={"group": "network"})
    assert [i["number"] for i in admin.get(
        "/incidents", params={"priority": "P1"}).json()["items"]] == [p1]
    assert [i["number"] for i in admin.get(
        "/incidents", params={"state": "new"}).json()["items"]] == [p5]
    assert [i["number"] for i in admin.get(
        "/incidents", params={"group": "network", "state": "in_progress"}
    ).json()["items"]] == [p1]
    bad = admin.get("/incidents", params={"state": "sleeping"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "state"


def test_a_queue_orders_by_priority_then_age_across_pages(admin: httpx.Client) -> None:
    made = []
    for impact, urgency in [(3, 3), (1, 1), (2, 2), (1, 1), (3, 3)]:
        number = opened(admin, impact=impact, urgency=urgency)["number"]
        admin.post(f"/incidents/{number}/assign", json={"group": "desk"})
        made.append(number)
    held = opened(admin, impact=1, urgency=1)["number"]
    admin.post(f"/incidents/{held}/assign", json={"group": "desk"})
    admin.post(f"/incidents/{held}/hold", json={"reason": "awaiting_caller"})
    elsewhere = opened(admin, impact=1, urgency=1)["number"]
    admin.post(f"/incidents/{elsewhere}/assign", json={"group": "network"})

    pages = _all_pages(admin, "/queues/desk", limit=2)
    assert [n for page in pages for n in page] == [made[1], made[3], made[2], made[0], made[4]]
    assert [len(page) for page in pages] == [2, 2, 1]


def test_a_cursor_not_issued_by_the_api_is_refused(admin: httpx.Client) -> None:
    opened(admin)
    for cursor in ("garbage!", "WzFd", "WyJhIiwxXQ"):  # not base64 JSON; [1]; ["a", 1]
        answer = admin.get("/queues/desk", params={"cursor": cursor})
        assert answer.status_code == 422, cursor
        assert answer.json()["field"] == "cursor"


def test_problems_list_with_their_incidents(admin: httpx.Client) -> None:
    incident = opened(admin)["number"]
    problem = admin.post("/problems", json={"title": "Relay stalls",
                                            "incidents": [incident]}).json()["number"]
    admin.post("/problems", json={"title": "Another"})
    listed = admin.get("/problems", params={"state": "new", "limit": 1}).json()
    assert [(p["number"], p["incidents"]) for p in listed["items"]] == [(problem, [incident])]
    assert listed["next_cursor"] is not None


def test_history_shows_who_did_what_and_as_of_cuts_it(admin: httpx.Client) -> None:
    number = opened(admin)["number"]
    admin.post(f"/incidents/{number}/assign", json={"group": "mail"})
    admin.post(f"/incidents/{number}/notes", json={"text": "looking"})
    history = admin.get(f"/incidents/{number}/history").json()
    assert [entry["type"] for entry in history] == [
        "IncidentOpened", "IncidentAssigned", "IncidentWorkNoteAdded"]
    assert history[1]["changes"][0] == {"field": "state", "old": "new", "new": "in_progress"}
    cut = admin.get(f"/incidents/{number}/history",
                    params={"as_of": history[1]["occurred_at"]}).json()
    assert [entry["version"] for entry in cut] == [1, 2]
    zoneless = admin.get(f"/incidents/{number}/history", params={"as_of": "2026-01-01T00:00"})
    assert zoneless.status_code == 422
    assert zoneless.json()["field"] == "as_of"
    problem = admin.post("/problems", json={"title": "Relay"}).json()["number"]
    assert admin.get(f"/incidents/{problem}/history").status_code == 404
    assert [e["type"] for e in admin.get(f"/problems/{problem}/history").json()] == [
        "ProblemOpened"]
