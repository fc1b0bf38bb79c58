"""Many clients at once: If-Match loses no update, Idempotency-Key makes no duplicate."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest

from adapters.http.access import Role
from tests.e2e.api.conftest import ROLE_TOKENS, ApiServer, opened

CLIENTS = 20


def test_twenty_clients_updating_one_incident_lose_no_update(
        start_server: Callable[[str], ApiServer], store_url: str) -> None:
    server = start_server(store_url)
    with server.client() as admin:
        number = opened(admin)["number"]
    start = Barrier(CLIENTS)

    def update(n: int) -> int:
        with server.client() as client:
            read = client.get(f"/incidents/{number}")
            start.wait()
            return client.post(f"/incidents/{number}/notes", json={"text": f"note {n}"},
                               headers={"If-Match": read.headers["etag"]}).status_code

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = list(pool.map(update, range(CLIENTS)))
    assert sorted(set(statuses)) == [200, 409]
    assert statuses.count(200) == 1  # all read version 1: exactly one write can win
    with server.client() as admin:
        incident = admin.get(f"/incidents/{number}").json()
        history = admin.get(f"/incidents/{number}/history").json()
    assert (incident["version"], incident["work_notes"], len(history)) == (2, 1, 2)


def test_twenty_clients_retrying_until_they_win_all_get_their_note_in(
        start_server: Callable[[str], ApiServer], sqlite_url: str) -> None:
    server = start_server(sqlite_url)
    with server.client() as admin:
        number = opened(admin)["number"]

    def update(n: int) -> int:
        conflicts = 0
        with server.client() as client:
            while True:
                etag = client.get(f"/incidents/{number}").headers["etag"]
                answer = client.post(f"/incidents/{number}/notes", json={"text": f"note {n}"},
                                     headers={"If-Match": etag})
                if answer.status_code == 200:
                    return conflicts
                assert answer.status_code == 409, answer.text
                conflicts += 1

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(update, range(CLIENTS)))
    with server.client() as admin:
        incident = admin.get(f"/incidents/{number}").json()
    assert (incident["version"], incident["work_notes"]) == (CLIENTS + 1, CLIENTS)


def test_a_retried_open_with_the_same_key_replays_the_first_answer(admin: httpx.Client) -> None:
    body = {"title": "Payroll export fails", "service": "payroll"}
    key = {"Idempotency-Key": "open-payroll-1"}
    first = admin.post("/incidents", json=body, headers=key)
    again = admin.post("/incidents", json=dict(reversed(body.items())), headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert [i["number"] for i in admin.get("/incidents").json()["items"]] == ["INC0000001"]
    other = admin.post("/incidents", json=body, headers={"Idempotency-Key": "open-payroll-2"})
    assert other.json()["number"] == "INC0000002"


def test_a_key_reused_for_a_different_request_is_refused(admin: httpx.Client) -> None:
    key = {"Idempotency-Key": "k-1"}
    admin.post("/incidents", json={"title": "A", "service": "s"}, headers=key)
    reused = admin.post("/incidents", json={"title": "B", "service": "s"}, headers=key)
    assert reused.status_code == 422
    assert reused.json()["type"] == "urn:tandem:error:idempotency-key-reused"
    assert reused.json()["field"] == "Idempotency-Key"
    assert len(admin.get("/incidents").json()["items"]) == 1


def test_a_refused_command_does_not_use_up_its_key(admin: httpx.Client) -> None:
    number = opened(admin)["number"]
    key = {"Idempotency-Key": "close-1"}
    assert admin.post(f"/incidents/{number}/close", json={}, headers=key).status_code == 409
    admin.post(f"/incidents/{number}/assign", json={"group": "g"})
    admin.post(f"/incidents/{number}/resolve", json={"code": "duplicate", "notes": "dup"})
    assert admin.post(f"/incidents/{number}/close", json={}, headers=key).status_code == 200


def test_keys_belong_to_their_principal(server: ApiServer) -> None:
    key = {"Idempotency-Key": "same-key"}
    with server.client() as admin, server.client(ROLE_TOKENS[Role.AGENT]) as agent:
        one = admin.post("/incidents", json={"title": "t", "service": "s"}, headers=key)
        two = agent.post("/incidents", json={"title": "t", "service": "s"}, headers=key)
    assert (one.json()["number"], two.json()["number"]) == ("INC0000001", "INC0000002")


@pytest.mark.parametrize("store", ["sqlite_url", pytest.param("postgres_url",
                                                              marks=pytest.mark.postgres)])
def test_concurrent_requests_with_one_key_open_one_incident(
        start_server: Callable[[str], ApiServer], request: pytest.FixtureRequest,
        store: str) -> None:
    server = start_server(request.getfixturevalue(store))
    start = Barrier(10)

    def post(_: int) -> tuple[int, str]:
        with server.client() as client:
            start.wait()
            answer = client.post("/incidents", json={"title": "t", "service": "s"},
                                 headers={"Idempotency-Key": "burst"})
            return answer.status_code, answer.json()["number"]

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(post, range(10)))
    assert set(answers) == {(201, "INC0000001")}
    with server.client() as admin:
        assert len(admin.get("/incidents").json()["items"]) == 1
