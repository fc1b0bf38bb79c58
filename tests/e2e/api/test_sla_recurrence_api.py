"""SLA clocks, known-error suggestions and recurrence over HTTP: what the CLI's --json prints."""

from pathlib import Path
from typing import Any

from tests.e2e.api.conftest import ApiServer, opened
from tests.e2e.conftest import Cli

MOVING = {"elapsed_seconds", "remaining_seconds", "percent"}
"""Keys that change with every read of a running clock."""


def _still(clocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: value for key, value in clock.items() if key not in MOVING}
            for clock in clocks]


def test_sla_is_the_clocks_of_sla_show(server: ApiServer, sqlite_url: str,
                                       tmp_path: Path) -> None:
    with server.client() as admin:
        number = opened(admin, impact=1, urgency=1)["number"]
        assert admin.post(f"/incidents/{number}/assign", json={"group": "mail"}).is_success
        clocks = admin.get(f"/incidents/{number}/sla").json()
        unknown = admin.get("/incidents/INC0000099/sla")
    shown = Cli(tmp_path, sqlite_url).json("sla", "show", number, "--json")
    assert _still(clocks) == _still(shown)
    assert [(c["target"], c["state"], c["priority"]) for c in clocks] == [
        ("response", "met", "P1"), ("resolution", "running", "P1")]
    assert {"target", "state", "due_at", "elapsed_seconds", "percent"} <= set(clocks[0])
    assert unknown.status_code == 404


def test_suggestions_rank_known_errors_as_incident_suggest(server: ApiServer, sqlite_url: str,
                                                           tmp_path: Path) -> None:
    with server.client() as admin:
        number = opened(admin, title="Mail relay queue stuck on relay-7")["number"]
        for title, service in (("Mail relay queue stuck on relay-2", "email"),
                               ("Printer jam on floor 3", "printing")):
            problem = admin.post("/problems", json={"title": title, "service": service}).json()
            assert admin.post(f"/problems/{problem['number']}/known-error",
                              json={"workaround": "Restart the relay"}).is_success
        ranked = admin.get(f"/incidents/{number}/suggestions").json()
    assert ranked == Cli(tmp_path, sqlite_url).json("incident", "suggest", number, "--json")
    assert (ranked[0]["problem"], ranked[0]["same_service"]) == ("PRB0000001", True)
    assert ranked == sorted(ranked, key=lambda s: -s["score"])


def test_recurrence_lists_the_patterns_of_recurrence_list(server: ApiServer, sqlite_url: str,
                                                          tmp_path: Path) -> None:
    with server.client() as admin:
        numbers = [opened(admin, title=f"Disk {n}% full on db-0{n}")["number"]
                   for n in (1, 2, 3)]
        opened(admin, title="Printer jam")
        found = admin.get("/recurrence").json()
    assert found == Cli(tmp_path, sqlite_url).json("recurrence", "list", "--json")
    assert [(p["fingerprint"], p["incidents"], p["threshold_crossed"], p["candidate"])
            for p in found] == [("disk <NUM>% full on <ID>", numbers, "3 in 168 h", True)]
