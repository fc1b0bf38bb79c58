"""`tandem alert receive`, `tandem recurrence list|tick`, `tandem incident suggest` as a user
drives them (design section 9)."""

import json
import shutil
from pathlib import Path

from tests.e2e.conftest import Cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "alerts"


def payload(tmp_path: Path, name: str) -> str:
    target = tmp_path / name
    shutil.copy(FIXTURES / name, target)
    return str(target)


def test_alertmanager_payloads_open_dedup_and_recover_incidents(cli: Cli,
                                                                tmp_path: Path) -> None:
    firing = payload(tmp_path, "alertmanager_firing.json")

    opened = cli.json("alert", "receive", "--file", firing, "--json")
    again = cli.json("alert", "receive", "--file", firing, "--format", "alertmanager", "--json")
    recovered = cli.json("alert", "receive", "--file",
                         payload(tmp_path, "alertmanager_resolved.json"), "--json")

    assert [(r["dedup_key"], r["outcome"], r["incident"]) for r in opened] == [
        ("5c6a4f4d1b9e2a10", "opened", "INC0000001"),
        ("8e1f03c2aa47d6b9", "opened", "INC0000002")]
    assert [(r["outcome"], r["incident"]) for r in again] == [
        ("occurred", "INC0000001"), ("occurred", "INC0000002")]
    assert [(r["status"], r["outcome"], r["incident"]) for r in recovered] == [
        ("resolved", "recovered", "INC0000001")]
    first = cli.incident("INC0000001")
    assert (first["title"], first["service"], first["priority"], first["channel"]) == (
        "Disk 91% full on db-01", "billing-db", "P1", "monitoring")
    assert (first["state"], first["alert_occurrences"]) == ("new", 2)
    assert first["alert_recovered_at"] == "2026-03-02T09:20:30.512794Z"
    history = cli.json("audit", "history", "INC0000001", "--json")
    assert {event["actor"] for event in history} == {"monitor:alertmanager"}

    lines = cli.ok("alert", "receive", "--file", firing).out.splitlines()
    assert lines == ["firing alertmanager/5c6a4f4d1b9e2a10: occurred INC0000001",
                     "firing alertmanager/8e1f03c2aa47d6b9: occurred INC0000002"]


def test_the_generic_form_and_invalid_payloads(cli: Cli, tmp_path: Path) -> None:
    (result,) = cli.json("alert", "receive", "--file", payload(tmp_path, "generic.json"),
                         "--format", "generic", "--json")
    assert (result["source"], result["outcome"]) == ("zabbix", "opened")
    assert cli.incident(result["incident"])["priority"] == "P3"

    broken = json.loads((FIXTURES / "alertmanager_firing.json").read_text())
    broken["alerts"][1]["startsAt"] = "soon"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(broken))
    not_json = tmp_path / "not.json"
    not_json.write_text("{")

    refusals = cli.refused_all([["alert", "receive", "--file", str(bad)],
                                ["alert", "receive", "--file", str(not_json)],
                                ["alert", "receive", "--file", str(tmp_path / "missing.json")],
                                ["alert", "receive", "--file", str(bad), "--format", "nagios"]])
    assert refusals[0].startswith("tandem: alerts[1].startsAt: ")
    assert refusals[1].startswith("tandem: file: ")
    assert refusals[2].startswith("tandem: file: cannot read")
    assert "nagios" in refusals[3]
    # The valid first alert of the refused payload was not written either.
    assert [i["number"] for i in cli.json("incident", "list", "--json")] == [
        result["incident"]]


def test_recurrence_list_shows_the_pattern_and_tick_raises_its_problem(cli: Cli) -> None:
    numbers = [cli.open_incident("--title", f"Checkout returns 502 on web-{n}", "--service",
                                 "shop", "--category", "web") for n in range(3)]
    cli.open_incident("--title", "Printer jams", "--service", "shop")

    (pattern,) = cli.json("recurrence", "list", "--json")
    assert (pattern["service"], pattern["category"], pattern["fingerprint"]) == (
        "shop", "web", "checkout returns <NUM> on <ID>")
    assert (pattern["incidents"], pattern["last_24h"], pattern["last_7d"]) == (numbers, 3, 3)
    assert (pattern["candidate"], pattern["covered_by"]) == (True, [])

    ticked = cli.ok("recurrence", "tick").out
    assert ticked.startswith("PRB0000001 opened for 3 incident(s)")
    assert cli.ok("recurrence", "tick").out == ""

    (covered,) = cli.json("recurrence", "list", "--json")
    assert (covered["candidate"], covered["covered_by"]) == (False, ["PRB0000001"])
    assert cli.problem("PRB0000001")["incidents"] == numbers


def test_incident_suggest_ranks_known_errors_and_the_workaround_applies(cli: Cli) -> None:
    problem = cli.json("problem", "open", "--title", "Mail relay-1 queue above 5000 messages",
                       "--service", "email", "--json")["number"]
    cli.ok("problem", "known-error", problem, "--workaround", "Restart the delivery agent")
    incident = cli.open_incident("--title", "Mail relay-3 queue above 1,200 messages",
                                 "--service", "email")

    (best,) = cli.json("incident", "suggest", incident, "--json")
    assert (best["problem"], best["workaround"], best["same_service"]) == (
        problem, "Restart the delivery agent", True)
    assert best["score"] > 80

    cli.ok("incident", "workaround", incident, "--text", best["workaround"],
           "--known-error", best["problem"])
    assert cli.incident(incident)["known_error"] == problem
    assert cli.refused("incident", "suggest", "INC0000099").startswith("tandem: INC0000099")
