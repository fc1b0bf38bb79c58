"""`tandem incident ...` driven as a user would, against the contract in design section 9."""

import uuid
from typing import Any

from tests.e2e.conftest import INCIDENT_KEYS, Cli, only_json


def _subset(view: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    return {key: view.get(key) for key in expected}


# -- opening ---------------------------------------------------------------------------------


def test_open_with_json_prints_exactly_one_object_with_the_contract_keys(cli: Cli) -> None:
    result = cli.ok("incident", "open", "--title", "Café printer ☕ jammed", "--service",
                    "printing", "--category", "hardware", "--impact", "2", "--urgency", "1",
                    "--description", "Paper stuck in tray 2", "--caller", "alice", "--json")
    opened = only_json(result.out)

    assert isinstance(opened, dict)
    assert opened.keys() >= INCIDENT_KEYS
    assert str(uuid.UUID(opened["id"])) == opened["id"]
    expected = {
        "number": "INC0000001", "title": "Café printer ☕ jammed", "service": "printing",
        "state": "new", "impact": 2, "urgency": 1, "priority": "P2",
        "assignment_group": None, "assignee": None, "problem": None, "version": 1,
    }
    assert _subset(opened, expected) == expected
    # What was printed at opening is what is stored: show by UUID and by number agree.
    assert cli.show_all("incident", opened["id"], "INC0000001") == [opened, opened]


def test_open_prints_just_the_number_numbers_follow_on_and_priority_follows_the_matrix(
        cli: Cli) -> None:
    # (impact, urgency) -> priority, from design section 3; None means the default (3, 3).
    cases = [((1, 1), "P1"), ((1, 2), "P2"), ((3, 1), "P3"), ((2, 3), "P4"), (None, "P5")]
    for ordinal, (levels, _) in enumerate(cases, start=1):
        options = [] if levels is None else ["--impact", str(levels[0]),
                                             "--urgency", str(levels[1])]
        number = cli.open_incident("--title", f"Case {ordinal}", "--service", "email", *options)
        assert number == f"INC{ordinal:07d}"

    listed = cli.json("incident", "list", "--json")
    assert isinstance(listed, list)
    assert [(i["number"], i["priority"]) for i in listed] == [
        (f"INC{ordinal:07d}", priority) for ordinal, (_, priority) in enumerate(cases, start=1)]
    assert [(i["impact"], i["urgency"]) for i in listed][-1] == (3, 3)


def test_concurrent_opens_get_distinct_gap_free_numbers(cli: Cli) -> None:
    runs = cli.run_all([["incident", "open", "--title", f"Storm {n}", "--service", "email"]
                        for n in range(5)])
    assert all(run.code == 0 and run.err == "" for run in runs), runs
    assert sorted(run.out for run in runs) == [f"INC{n:07d}\n" for n in range(1, 6)]


# -- a whole life ----------------------------------------------------------------------------


def test_incident_lifecycle_from_open_to_close_as_alice(cli: Cli) -> None:
    opened = cli.json("--actor", "alice", "incident", "open", "--title", "VPN drops",
                      "--service", "vpn", "--impact", "2", "--urgency", "2", "--caller",
                      "dave", "--json")
    number, record_id = opened["number"], opened["id"]
    assert (number, opened["state"], opened["priority"], opened["version"]) == (
        "INC0000001", "new", "P3", 1)

    # (command and options after `tandem --actor alice incident`, expected in show --json)
    steps: list[tuple[list[str], dict[str, Any]]] = [
        (["assign", number, "--group", "service-desk", "--assignee", "bob"],
         {"state": "in_progress", "assignment_group": "service-desk", "assignee": "bob"}),
        (["categorize", record_id, "--category", "network", "--subcategory", "vpn"],
         {"category": "network", "subcategory": "vpn", "state": "in_progress"}),
        (["prioritize", number, "--impact", "1", "--urgency", "2"],
         {"impact": 1, "urgency": 2, "priority": "P2"}),
        (["escalate", number, "--kind", "functional", "--to", "network-ops",
          "--reason", "Tunnel resets point at the concentrator"],
         {"state": "in_progress", "assignment_group": "network-ops", "assignee": None,
          "escalation_level": 0}),
        (["escalate", number, "--kind", "hierarchical", "--to", "it-ops-manager",
          "--reason", "Three hours without VPN"],
         {"state": "in_progress", "assignment_group": "network-ops", "escalation_level": 1}),
        (["assign", number, "--group", "network-ops", "--assignee", "erin"],
         {"state": "in_progress", "assignment_group": "network-ops", "assignee": "erin"}),
        (["hold", number, "--reason", "awaiting_vendor"],
         {"state": "on_hold", "hold_reason": "awaiting_vendor"}),
        (["resume", record_id], {"state": "in_progress", "hold_reason": None}),
        (["note", number, "--text", "Vendor confirmed a firmware bug"],
         {"state": "in_progress", "work_notes": 1}),
        (["workaround", number, "--text", "Pin clients to concentrator B"],
         {"state": "in_progress", "workaround": "Pin clients to concentrator B",
          "known_error": None}),
        (["resolve", number, "--code", "workaround_provided", "--notes", "Pinned to B"],
         {"state": "resolved", "resolution_code": "workaround_provided",
          "resolution_notes": "Pinned to B"}),
        (["reopen", number, "--reason", "Drops again on concentrator B"],
         {"state": "in_progress", "reopen_count": 1, "resolution_code": None}),
        (["resolve", record_id, "--code", "solution_provided", "--notes", "Firmware 5.2"],
         {"state": "resolved", "resolution_code": "solution_provided"}),
        (["close", number], {"state": "closed", "close_code": "solution_provided"}),
    ]
    version = 1
    for index, (args, expected) in enumerate(steps):
        cli.ok("--actor", "alice", "incident", *args)
        view = cli.incident(record_id if index % 2 else number)
        version += 1
        assert view["version"] == version, args
        assert (view["id"], view["number"]) == (record_id, number)
        assert _subset(view, expected) == expected, args

    assert view["resolved_at"] is not None
    assert view["closed_at"] is not None
    # Closed is final.
    line = cli.refused("incident", "reopen", number, "--reason", "again")
    assert number in line
    assert "closed" in line
    assert "reopen" in line


# -- refusals ---------------------------------------------------------------------------------


def test_illegal_transitions_are_refused_naming_record_state_and_command(cli: Cli) -> None:
    number = cli.open_incident("--title", "Printer offline", "--service", "printing")
    before = cli.incident(number)
    # (the command, a word of it the refusal must name) on a `new` incident.
    illegal = [
        (["close", number], "close"),
        (["reopen", number, "--reason", "why not"], "reopen"),
        (["resume", number], "resume"),
        (["hold", number, "--reason", "awaiting_caller"], "hold"),
    ]
    lines = cli.refused_all([["incident", *args] for args, _ in illegal])
    for line, (_, command_word) in zip(lines, illegal, strict=True):
        assert number in line, line
        assert "new" in line, line
        assert command_word in line, line
    assert cli.incident(number) == before, "a refused command must not write anything"

    # The same in another state: in progress cannot be resumed or closed; functional
    # escalation to the group it already has is refused too.
    cli.ok("incident", "assign", number, "--group", "desk")
    illegal = [
        (["resume", number], "resume"),
        (["close", number], "close"),
        (["escalate", number, "--kind", "functional", "--to", "desk", "--reason", "loop"],
         "escalate"),
    ]
    lines = cli.refused_all([["incident", *args] for args, _ in illegal])
    for line, (_, command_word) in zip(lines, illegal, strict=True):
        assert number in line, line
        assert command_word in line, line
    assert "in_progress" in lines[0]
    assert "in_progress" in lines[1]
    assert cli.incident(number)["version"] == 2

    # Canceled is final.
    cli.ok("incident", "cancel", number, "--reason", "Logged in error")
    line = cli.refused("incident", "assign", number, "--group", "printing")
    assert number in line
    assert "canceled" in line
    assert "assign" in line
    canceled = cli.incident(number)
    assert (canceled["state"], canceled["version"]) == ("canceled", 3)


def test_invalid_input_is_refused_with_one_line_naming_the_field(cli: Cli) -> None:
    # Refused opens write nothing and do not use up a number.
    bad_opens = [
        (["--title", "Disk full", "--service", "files", "--impact", "7"], "impact"),
        (["--title", "", "--service", "files"], "title"),
        (["--title", "   ", "--service", "files"], "title"),
        (["--title", "Disk full", "--service", ""], "service"),
    ]
    lines = cli.refused_all([["incident", "open", *options] for options, _ in bad_opens])
    for line, (options, field) in zip(lines, bad_opens, strict=True):
        assert field in line, (options, line)
    assert cli.json("incident", "list", "--json") == []
    number = cli.open_incident("--title", "Disk full", "--service", "files")
    assert number == "INC0000001"

    cli.ok("incident", "assign", number, "--group", "storage")
    bad_commands = [
        (["incident", "hold", number, "--reason", "lunch_break"], "reason"),
        (["incident", "resolve", number, "--code", "fixed_it", "--notes", "done"], "code"),
        (["incident", "prioritize", number, "--impact", "1", "--urgency", "one"], "urgency"),
        (["incident", "escalate", number, "--kind", "sideways", "--to", "x", "--reason", "r"],
         "kind"),
        (["incident", "note", number, "--text", ""], "text"),
        (["incident", "list", "--state", "sleeping"], "state"),
        (["--actor", "", "incident", "note", number, "--text", "hello"], "actor"),
    ]
    lines = cli.refused_all([args for args, _ in bad_commands])
    for line, (args, field) in zip(lines, bad_commands, strict=True):
        assert field in line, (args, line)
    shown = cli.incident(number)
    assert (shown["state"], shown["version"]) == ("in_progress", 2)


def test_unknown_records_and_missing_options_exit_2(cli: Cli) -> None:
    number = cli.open_incident("--title", "Phone dead", "--service", "telephony")
    stranger = str(uuid.uuid4())
    unknown = [
        (["assign", "INC0000099", "--group", "desk"], "INC0000099"),
        (["show", stranger, "--json"], stranger),
        (["show", "banana"], "banana"),
        (["show", "PRB0000001"], "PRB0000001"),
    ]
    missing = [
        (["assign", number], "--group"),
        (["open", "--service", "telephony"], "--title"),
        (["resolve", number, "--code", "solution_provided"], "--notes"),
    ]
    cases = unknown + missing
    lines = cli.refused_all([["incident", *args] for args, _ in cases])
    for line, (args, named) in zip(lines, cases, strict=True):
        assert named in line, (args, line)
    assert cli.incident(number)["version"] == 1
    assert len(cli.json("incident", "list", "--json")) == 1


def test_an_out_of_range_number_is_an_unknown_record(cli: Cli) -> None:
    huge = "INC" + "9" * 20
    assert huge in cli.refused("incident", "show", huge, "--json")


# -- lists -------------------------------------------------------------------------------------


def test_list_json_and_its_state_and_group_filters(cli: Cli) -> None:
    numbers = [cli.open_incident("--title", f"Ticket {n}", "--service", "email")
               for n in range(1, 5)]
    cli.ok("incident", "assign", numbers[0], "--group", "network")
    cli.ok("incident", "assign", numbers[1], "--group", "network")
    cli.ok("incident", "assign", numbers[2], "--group", "messaging")
    cli.ok("incident", "hold", numbers[1], "--reason", "awaiting_caller")

    filters = [[], ["--state", "in_progress"], ["--state", "new"], ["--group", "network"],
               ["--state", "on_hold", "--group", "network"], ["--state", "closed"],
               ["--group", "nobody"]]
    lists = cli.json_all([["incident", "list", *options, "--json"] for options in filters])
    assert all(isinstance(views, list) for views in lists)
    assert all(view.keys() >= INCIDENT_KEYS for views in lists for view in views)
    assert [[view["number"] for view in views] for views in lists] == [
        numbers,
        [numbers[0], numbers[2]],
        [numbers[3]],
        numbers[:2],
        [numbers[1]],
        [],
        [],
    ]
