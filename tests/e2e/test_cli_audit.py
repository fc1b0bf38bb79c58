"""`tandem audit ...` driven as a user would: history, state, verify, seal, export."""

import json
import sqlite3
from pathlib import Path

import msgpack

from tests.e2e.conftest import INCIDENT_KEYS, Cli, only_json

ENVELOPE = {"event_id", "position", "stream_id", "stream_type", "version", "type", "schema",
            "occurred_at", "actor", "data", "hash", "prev_hash"}


def _incident(cli: Cli) -> str:
    number = cli.open_incident("--title", "Mail delayed", "--service", "email",
                               "--impact", "2", "--urgency", "1")
    cli.ok("--actor", "bob", "incident", "assign", number, "--group", "messaging")
    cli.ok("--actor", "bob", "incident", "hold", number, "--reason", "awaiting_vendor")
    return number


def test_history_state_and_export(cli: Cli, tmp_path: Path) -> None:
    number = _incident(cli)

    entries = cli.json("audit", "history", number, "--json")
    assert [e["type"] for e in entries] == ["IncidentOpened", "IncidentAssigned",
                                            "IncidentPutOnHold"]
    assert all(e.keys() >= ENVELOPE | {"summary", "changes"} for e in entries)
    assert {"field": "state", "old": "in_progress", "new": "on_hold"} in entries[2]["changes"]
    opened_at, assigned_at, held_at = (e["occurred_at"] for e in entries)
    partial, state, first = cli.json_all([
        ["audit", "history", number, "--as-of", assigned_at, "--json"],
        ["audit", "state", number, "--as-of", held_at, "--json"],
        ["audit", "state", entries[0]["stream_id"], "--as-of", opened_at, "--json"],
    ])
    assert [e["version"] for e in partial] == [1, 2]
    assert state.keys() >= INCIDENT_KEYS
    assert (state["state"], state["version"]) == ("on_hold", 3)
    assert first["state"] == "new"
    text = cli.ok("audit", "history", number).out
    assert "IncidentPutOnHold" in text
    assert "state: in_progress -> on_hold" in text

    too_early, no_zone, unknown, neither = cli.refused_all([
        ["audit", "state", number, "--as-of", "2001-01-01T00:00:00Z"],
        ["audit", "history", number, "--as-of", "2026-03-02T09:00"],
        ["audit", "history", "INC0000042"],
        ["audit", "export", "--format", "jsonl", "--out", "x.jsonl"],
    ])
    assert number in too_early
    assert "did not exist yet" in too_early
    assert "time zone" in no_zone
    assert unknown.endswith("INC0000042 not found")
    assert "--all" in neither
    assert cli("audit", "state", number).code == 2  # --as-of is required

    assert cli.ok("audit", "export", "--all", "--format", "jsonl", "--out",
                  "all.jsonl").out == "5 events written to all.jsonl\n"
    lines = [json.loads(line) for line in (tmp_path / "all.jsonl").read_text().splitlines()]
    assert [line["position"] for line in lines] == list(range(1, 6))
    assert all(line.keys() == ENVELOPE for line in lines)
    cli.ok("audit", "export", number, "--format", "csv", "--out", "one.csv")
    assert (tmp_path / "one.csv").read_text().startswith("event_id,position,stream_id,")
    assert cli("audit", "export", number, "--format", "xml", "--out", "x.xml").code == 2
    assert not (tmp_path / "x.jsonl").exists()


def test_verify_seal_and_a_tampered_row(cli: Cli, tmp_path: Path) -> None:
    number = _incident(cli)
    assert "verified" in cli.ok("audit", "verify").out

    sealed = cli.ok("--actor", "ops", "audit", "seal").out
    digest = next(line.split()[1] for line in sealed.splitlines() if line.startswith("digest"))
    assert len(digest) == 64
    report = cli.json("audit", "verify", "--all", "--json")
    assert report["ok"] is True
    assert report["latest_seal"]["digest"] == digest  # for operators to keep elsewhere

    incident_id = cli.incident(number)["id"].replace("-", "")
    with sqlite3.connect(tmp_path / "tandem.db") as connection:
        (state,) = connection.execute(
            "SELECT state FROM stored_events WHERE originator_id = ? AND "
            "originator_version = 2", (incident_id,)).fetchone()
        changed = msgpack.unpackb(state, raw=False, strict_map_key=False,
                                  ext_hook=msgpack.ExtType)
        changed["assignment_group"] = "elsewhere"
        connection.execute("UPDATE stored_events SET state = ? WHERE originator_id = ? AND "
                           "originator_version = 2",
                           (msgpack.packb(changed, use_bin_type=True), incident_id))

    store, one, both = cli.run_all([["audit", "verify"], ["audit", "verify", number, "--json"],
                                    ["audit", "verify", number, "--all"]])
    assert (store.code, store.err) == (1, "")
    assert f"{number} (version 2, position" in store.out
    assert "hash mismatch" in store.out
    assert one.code == 1
    assert [(f["subject"], f["version"], f["reason"])
            for f in only_json(one.out)["findings"]] == [(number, 2, "hash mismatch")]
    assert both.code == 2
    assert "not both" in both.err
