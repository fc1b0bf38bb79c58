"""Access control: each role against every endpoint (2xx or 403), no token 401, /health open."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from adapters.http.access import Role
from tests.e2e.api.conftest import ROLE_TOKENS, ApiServer, opened

R, A, M, U, D = Role.REPORTER, Role.AGENT, Role.MANAGER, Role.AUDITOR, Role.ADMIN
EVERYONE = {R, A, M, U, D}
"""Every role but the monitor, whose token only posts alerts."""
WORKERS = {A, M, D}
ALERTERS = {Role.MONITOR, D}
ALERTMANAGER = {"version": "4", "alerts": [{
    "status": "firing", "labels": {"alertname": "DiskFull", "service": "storage"},
    "startsAt": "2026-03-02T08:40:00Z", "fingerprint": "f00d"}]}
GENERIC = {"source": "zabbix", "dedup_key": "relay-2/queue", "service": "email",
           "summary": "Mail queue above 1,024", "fired_at": "2026-03-02T08:40:00Z"}


def incident(admin: httpx.Client, *steps: tuple[str, dict[str, Any]]) -> str:
    number = opened(admin)["number"]
    for command, body in steps:
        assert admin.post(f"/incidents/{number}/{command}", json=body).status_code == 200
    return str(number)


def problem(admin: httpx.Client, *steps: tuple[str, dict[str, Any]]) -> str:
    number = admin.post("/problems", json={"title": "Relay stalls"}).json()["number"]
    for command, body in steps:
        assert admin.post(f"/problems/{number}/{command}", json=body).status_code == 200
    return str(number)


ASSIGNED = ("assign", {"group": "mail"})
RESOLVED = ("resolve", {"code": "solution_provided", "notes": "done"})
NOTED = ("notes", {"text": "seen"})
PRB_RESOLVED = ("resolve", {"notes": "fixed"})


@dataclass(frozen=True)
class Endpoint:
    """One route, the roles the permission matrix grants it, and how to call it once."""

    method: str
    template: str
    roles: set[Role]
    ref: Callable[[httpx.Client], str] = lambda admin: ""
    body: dict[str, Any] | Callable[[httpx.Client, str], dict[str, Any]] | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def call(self, client: httpx.Client, admin: httpx.Client) -> httpx.Response:
        ref = self.ref(admin)
        path = self.template.replace("{ref}", ref).replace("{group}", "mail")
        body = self.body(admin, ref) if callable(self.body) else self.body
        return client.request(self.method, path, json=body)


ENDPOINTS = [
    Endpoint("GET", "/metrics", {U, D}),
    Endpoint("GET", "/openapi.json", EVERYONE),
    Endpoint("GET", "/docs", EVERYONE),
    Endpoint("POST", "/incidents", {R, A, M, D}, body={"title": "t", "service": "s"}),
    Endpoint("GET", "/incidents", EVERYONE),
    Endpoint("GET", "/incidents/{ref}", EVERYONE, incident),
    Endpoint("GET", "/incidents/{ref}/history", {M, U, D}, incident),
    Endpoint("POST", "/incidents/{ref}/assign", WORKERS, incident, {"group": "mail"}),
    Endpoint("POST", "/incidents/{ref}/categorize", WORKERS, incident, {"category": "c"}),
    Endpoint("POST", "/incidents/{ref}/prioritize", WORKERS, incident,
             {"impact": 1, "urgency": 1}),
    Endpoint("POST", "/incidents/{ref}/escalate", WORKERS,
             lambda admin: incident(admin, ASSIGNED),
             {"kind": "functional", "to": "network", "reason": "r"}),
    Endpoint("POST", "/incidents/{ref}/hold", WORKERS, lambda admin: incident(admin, ASSIGNED),
             {"reason": "awaiting_caller"}),
    Endpoint("POST", "/incidents/{ref}/resume", WORKERS, lambda admin: incident(
        admin, ASSIGNED, ("hold", {"reason": "awaiting_caller"})), {}),
    Endpoint("POST", "/incidents/{ref}/notes", {R, A, M, D}, incident, {"text": "t"}),
    Endpoint("POST", "/incidents/{ref}/workaround", WORKERS, incident, {"text": "t"}),
    Endpoint("POST", "/incidents/{ref}/resolve", WORKERS, lambda admin: incident(
        admin, ASSIGNED), {"code": "solution_provided", "notes": "n"}),
    Endpoint("POST", "/incidents/{ref}/reopen", WORKERS, lambda admin: incident(
        admin, ASSIGNED, RESOLVED), {"reason": "r"}),
    Endpoint("POST", "/incidents/{ref}/close", WORKERS, lambda admin: incident(
        admin, ASSIGNED, RESOLVED), {}),
    Endpoint("POST", "/incidents/{ref}/cancel", WORKERS, incident, {"reason": "r"}),
    Endpoint("POST", "/problems", WORKERS, body={"title": "t"}),
    Endpoint("GET", "/problems", EVERYONE),
    Endpoint("GET", "/problems/{ref}", EVERYONE, problem),
    Endpoint("GET", "/problems/{ref}/history", {M, U, D}, problem),
    Endpoint("POST", "/problems/{ref}/link", WORKERS, problem,
             lambda admin, _: {"incident": incident(admin)}),
    Endpoint("POST", "/problems/{ref}/unlink", WORKERS, lambda admin: problem(
        admin, ("link", {"incident": incident(admin)})),
        lambda admin, ref: {"incident": admin.get(f"/problems/{ref}").json()["incidents"][0]}),
    Endpoint("POST", "/problems/{ref}/notes", WORKERS, problem, {"text": "t"}),
    Endpoint("POST", "/problems/{ref}/root-cause", WORKERS, problem, {"text": "t"}),
    Endpoint("POST", "/problems/{ref}/known-error", {M, D}, problem, {"workaround": "w"}),
    Endpoint("POST", "/problems/{ref}/request-change", {M, D},
             lambda admin: problem(admin, NOTED), {"change_ref": "CHG1"}),
    Endpoint("POST", "/problems/{ref}/resolve", {M, D}, lambda admin: problem(admin, NOTED),
             {"notes": "n"}),
    Endpoint("POST", "/problems/{ref}/close", {M, D},
             lambda admin: problem(admin, NOTED, PRB_RESOLVED), {}),
    Endpoint("POST", "/problems/{ref}/cancel", {M, D}, problem, {"reason": "r"}),
    Endpoint("GET", "/queues/{group}", {A, M, U, D}),
    Endpoint("GET", "/incidents/{ref}/sla", EVERYONE, incident),
    Endpoint("GET", "/incidents/{ref}/suggestions", {A, M, U, D}, incident),
    Endpoint("GET", "/recurrence", {A, M, U, D}),
    Endpoint("POST", "/alerts/alertmanager", ALERTERS, body=ALERTMANAGER),
    Endpoint("POST", "/alerts", ALERTERS, body=GENERIC),
]


def test_the_matrix_covers_every_route_of_the_app(server: ApiServer) -> None:
    documented = {(method.upper(), path)
                  for path, operations in server.api.app.openapi()["paths"].items()
                  for method in operations}
    covered = {(endpoint.method, endpoint.template) for endpoint in ENDPOINTS}
    assert documented | {("GET", "/openapi.json"), ("GET", "/docs")} == covered | {
        ("GET", "/health")}


def test_each_role_gets_2xx_where_granted_and_403_elsewhere(server: ApiServer) -> None:
    clients = {role: server.client(token) for role, token in ROLE_TOKENS.items()}
    with server.client() as admin:
        wrong = []
        for endpoint in ENDPOINTS:
            for role, client in clients.items():
                answer = endpoint.call(client, admin)
                granted = role in endpoint.roles
                if (200 <= answer.status_code < 300) != granted or (
                        not granted and answer.status_code != 403):
                    wrong.append((role.value, endpoint.method, endpoint.template,
                                  answer.status_code, answer.text[:120]))
    for client in clients.values():
        client.close()
    assert wrong == []


def test_a_403_says_who_lacks_which_permission_and_which_roles_have_it(
        server: ApiServer) -> None:
    with server.client(ROLE_TOKENS[Role.AUDITOR]) as auditor:
        answer = auditor.post("/incidents", json={"title": "t", "service": "s"})
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == (
        "audrey (roles: auditor) may not open incident: that needs one of the roles "
        "admin, agent, manager, reporter")


def test_without_a_known_token_every_endpoint_answers_401(server: ApiServer) -> None:
    with server.client(None) as anonymous, server.client("not-a-token") as stranger:
        for endpoint in ENDPOINTS:
            path = endpoint.template.replace("{ref}", "INC0000001").replace("{group}", "mail")
            for client in (anonymous, stranger):
                answer = client.request(endpoint.method, path, json=endpoint.body
                                        if isinstance(endpoint.body, dict) else None)
                assert answer.status_code == 401, (endpoint, answer.text)
                assert answer.headers["www-authenticate"].startswith("Bearer")
                assert answer.headers["content-type"] == "application/problem+json"


def test_health_answers_without_a_token_and_nothing_else_does(server: ApiServer) -> None:
    with server.client(None) as anonymous, server.client() as admin:
        answer = anonymous.get("/health")
        assert answer.status_code == 200
        assert answer.json()["status"] == "ok"
        assert anonymous.get("/no/such/path").status_code == 401
        assert anonymous.delete("/incidents").status_code == 401
        assert admin.get("/no/such/path").status_code == 404
        assert admin.delete("/incidents").status_code == 405
