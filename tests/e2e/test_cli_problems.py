"""`tandem problem ...` (and the incident side of it) driven as a user would (design 3 and 9)."""

from tests.e2e.conftest import PROBLEM_KEYS, Cli, only_json


def test_problem_from_recurring_incidents_to_known_error_fix_and_closure(cli: Cli) -> None:
    relay = cli.open_incident("--title", "Mail queue stuck", "--service", "email",
                              "--impact", "2", "--urgency", "1")
    outlook = cli.open_incident("--title", "Cannot send from Outlook", "--service", "email")
    again_opened = cli.json("incident", "open", "--title", "Mail queue stuck again",
                            "--service", "email", "--json")
    again, again_id = again_opened["number"], again_opened["id"]
    slow = cli.open_incident("--title", "Email slow", "--service", "email")
    cli.ok("incident", "assign", outlook, "--group", "messaging")
    cli.ok("incident", "assign", again, "--group", "messaging", "--assignee", "bob")

    result = cli.ok("problem", "open", "--title", "Outbound mail stalls on mx1", "--service",
                    "email", "--incident", relay, "--incident", outlook, "--json")
    opened = only_json(result.out)
    assert isinstance(opened, dict)
    assert opened.keys() >= PROBLEM_KEYS
    problem, problem_id = opened["number"], opened["id"]
    assert (problem, opened["state"], opened["known_error"], opened["incidents"]) == (
        "PRB0000001", "new", False, [relay, outlook])
    assert cli.incident(relay)["problem"] == problem

    # Link by UUID and by number, unlink: addressable both ways on both sides.
    cli.ok("problem", "link", problem, again_id)
    cli.ok("problem", "link", problem_id, slow)
    cli.ok("problem", "unlink", problem, outlook)
    view = cli.problem(problem)
    assert (view["state"], view["incidents"], view["version"]) == (
        "new", [relay, again, slow], opened["version"] + 3)

    # (command after `tandem problem`, expected in `problem show --json`)
    steps = [
        (["note", problem, "--text", "Stalls began after the cert rotation"],
         {"state": "assessing", "known_error": False}),
        (["root-cause", problem_id, "--text", "TLS session cache exhausted"],
         {"state": "root_cause_analysis", "root_cause": "TLS session cache exhausted"}),
        (["known-error", problem, "--workaround", "Restart tlsmgr, flush the queue"],
         {"state": "root_cause_analysis", "known_error": True,
          "workaround": "Restart tlsmgr, flush the queue"}),
    ]
    version = view["version"]
    for args, expected in steps:
        cli.ok("problem", *args)
        view = cli.problem(problem)
        version += 1
        assert view["version"] == version, args
        assert {key: view[key] for key in expected} == expected, args
    outlook_view, again_view = cli.show_all("incident", outlook, again)
    assert outlook_view["problem"] is None
    assert again_view["problem"] == problem

    # The incident handler applies the known error's workaround, then waits for the fix.
    cli.ok("incident", "workaround", again, "--text", "Restarted tlsmgr",
           "--known-error", problem)
    cli.ok("incident", "hold", again, "--reason", "awaiting_problem")
    shown = cli.incident(again)
    assert (shown["state"], shown["workaround"], shown["known_error"]) == (
        "on_hold", "Restarted tlsmgr", problem)
    cli.ok("incident", "resolve", slow, "--code", "resolved_by_caller", "--notes", "Fine now")
    slow_before = cli.incident(slow)

    cli.ok("problem", "request-change", problem, "--change-ref", "CHG0001234")
    view = cli.problem(problem_id)
    assert (view["state"], view["change_refs"]) == ("fix_in_progress", ["CHG0001234"])

    cli.ok("problem", "resolve", problem, "--notes", "CHG0001234 raised the cache size",
           "--resolve-incidents")
    resolved, *incidents = cli.json_all([
        ["problem", "show", problem, "--json"],
        *(["incident", "show", number, "--json"] for number in (relay, again, slow, outlook))])
    assert resolved["state"] == "resolved"
    for incident in incidents[:2]:  # linked and open: resolved by the problem
        assert (incident["state"], incident["resolution_code"], incident["hold_reason"]) == (
            "resolved", "resolved_by_problem", None), incident["number"]
    assert incidents[2] == slow_before, "an already resolved incident is left alone"
    assert incidents[3]["state"] == "in_progress", "unlinked: not resolved"

    cli.ok("problem", "close", problem)
    closed, listed = cli.json_all([["problem", "show", problem, "--json"],
                                   ["problem", "list", "--json"]])
    assert (closed["state"], closed["known_error"], closed["incidents"]) == (
        "closed", True, [relay, again, slow])
    assert isinstance(listed, list)
    assert [p["number"] for p in listed] == [problem]
    assert listed[0].keys() >= PROBLEM_KEYS
    # The list reads the read model: every key it has agrees with the record itself.
    assert listed[0] == {key: closed[key] for key in listed[0]}


def test_problem_refusals_and_list_filter(cli: Cli) -> None:
    incident = cli.open_incident("--title", "Backup failed", "--service", "backup")
    other = cli.open_incident("--title", "Backup slow", "--service", "backup")

    # Unknown incident or missing title: refused, and no problem number is used up.
    lines = cli.refused_all([
        ["problem", "open", "--title", "Backups", "--incident", "INC0000099"],
        ["problem", "open", "--service", "backup"],
        ["problem", "show", "PRB0000001"],
    ])
    assert "INC0000099" in lines[0]
    assert "--title" in lines[1]
    assert "PRB0000001" in lines[2]
    assert cli.json("problem", "list", "--json") == []

    first = cli.ok("problem", "open", "--title", "Backups fail", "--incident", incident).out
    assert first == "PRB0000001\n"
    first = first.strip()
    second = cli.ok("problem", "open", "--title", "Storage latency").out.strip()
    assert second == "PRB0000002"
    before = cli.problem(first)

    lines = cli.refused_all([
        # illegal transitions on a new problem
        ["problem", "resolve", first, "--notes", "done"],
        ["problem", "close", first],
        ["problem", "request-change", first, "--change-ref", "CHG1"],
        # the incident is already linked to PRB0000001
        ["problem", "link", second, incident],
        # not linked, so it cannot be unlinked
        ["problem", "unlink", first, other],
        # no known error yet
        ["incident", "workaround", incident, "--text", "t", "--known-error", first],
        # wrong kind of record
        ["problem", "show", incident],
        ["incident", "workaround", incident, "--text", "t", "--known-error", other],
        # invalid input
        ["problem", "list", "--state", "pondering"],
        ["problem", "note", first, "--text", " "],
    ])
    for line in lines[:3]:
        assert first in line, line
        assert "new" in line, line
    assert "resolve" in lines[0]
    assert "close" in lines[1]
    assert "change" in lines[2]
    assert incident in lines[3]
    assert first in lines[3]
    assert other in lines[4]
    assert first in lines[5]
    assert incident in lines[6]
    assert other in lines[7]
    assert "state" in lines[8]
    assert "text" in lines[9]
    first_after, second_after = cli.show_all("problem", first, second)
    assert first_after == before
    assert second_after["incidents"] == []

    # Resolving without --resolve-incidents leaves the incidents as they are.
    cli.ok("problem", "note", first, "--text", "Looking")
    cli.ok("problem", "resolve", first, "--notes", "Tape drive replaced")
    assert cli.incident(incident)["state"] == "new"
    cli.ok("problem", "cancel", second, "--reason", "Not a problem after all")
    line = cli.refused("problem", "link", second, other)
    assert second in line
    assert "canceled" in line

    lists = cli.json_all([["problem", "list", *options, "--json"] for options in
                          ([], ["--state", "canceled"], ["--state", "new"])])
    assert [[(view["number"], view["state"]) for view in views] for views in lists] == [
        [(first, "resolved"), (second, "canceled")], [(second, "canceled")], []]
