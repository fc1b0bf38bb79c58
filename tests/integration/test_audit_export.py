"""Exports verified by the recipe printed in docs/audit.md, run exactly as written there."""

import ast
import csv
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from adapters.audit.export import ExportFormat, export
from adapters.bootstrap import open_service_desk
from adapters.envelope import ENVELOPE_KEYS, EVENT_ID_NAMESPACE
from domain.audit_chain import chain_hash
from domain.service_desk import ServiceDesk
from tests.conftest import FakeClock

AUDIT_DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


def recipe() -> str:
    """The one python block of docs/audit.md that starts with `# verify_export.py`."""
    blocks = re.findall(r"```python\n(.*?)```", AUDIT_DOC.read_text(), flags=re.DOTALL)
    found = [block for block in blocks if block.startswith("# verify_export.py")]
    assert len(found) == 1, "docs/audit.md must hold exactly one verify_export.py block"
    return found[0]


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "verify_export.py"
    path.write_text(recipe())
    return path


def _run(script: Path, export_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script), str(export_file)], capture_output=True,
                          text=True, timeout=60, check=False)


def _busy(desk: ServiceDesk, clock: FakeClock) -> None:
    first = desk.open_incident(actor="carol", title="Café ☕ printer jammed", service="print",
                               impact=2, urgency=1).number
    clock.advance(minutes=3)
    desk.assign_incident(first, actor="sd", group="desk", assignee="bob")
    desk.put_incident_on_hold(first, actor="bob", reason="awaiting_vendor")
    desk.open_problem(actor="pat", title="Printers jam", incidents=[first])
    clock.advance(minutes=3)
    desk.seal_audit_log(actor="ops")
    desk.open_incident(actor="dave", title="VPN drops", service="vpn")
    desk.seal_audit_log(actor="ops")
    desk.add_incident_note(first, actor="bob", text="Vendor replied\nwith a fix")


def test_the_recipe_uses_only_hashlib_and_msgpack() -> None:
    tree = ast.parse(recipe())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported == {"hashlib", "json", "sys", "msgpack"}


def test_a_whole_store_export_verifies_with_the_documented_recipe(
        store_url: str, tmp_path: Path, script: Path) -> None:
    clock = FakeClock()
    desk = open_service_desk(store_url, clock=clock)
    _busy(desk, clock)
    out = tmp_path / "store.jsonl"

    written = export(desk, None, to=out, form=ExportFormat.JSONL)

    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert written == len(lines) == desk.recorder.max_notification_id()
    assert all(tuple(line) == ENVELOPE_KEYS for line in lines)
    assert {line["type"] for line in lines} >= {"IncidentOpened", "AuditSealSealed",
                                                "NumberSequenceNumberIssued"}
    result = _run(script, out)
    assert (result.returncode, result.stdout.strip()) == (0, f"verified {out}"), result


def test_the_recipe_names_a_changed_event_and_a_broken_seal(tmp_path: Path,
                                                           script: Path) -> None:
    clock = FakeClock()
    desk = open_service_desk(f"sqlite:///{tmp_path / 'store.db'}", clock=clock)
    _busy(desk, clock)
    out = tmp_path / "store.jsonl"
    export(desk, None, to=out, form=ExportFormat.JSONL)
    lines = out.read_text(encoding="utf-8").splitlines()
    held = json.loads(lines[3])
    assert held["type"] == "IncidentAssigned"
    held["data"]["assignee"] = "mallory"
    lines[3] = json.dumps(held)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = _run(script, out)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"Incident {held['stream_id']} version 2: content does not match its hash"]

    # A careful forger also fixes the hash and the next event's link: the seal catches it.
    held["hash"] = chain_hash(
        stream_type="Incident", stream_id=held["stream_id"], version=2,
        event_type="IncidentAssigned", schema=1, occurred_at=held["occurred_at"],
        actor=held["actor"], data=held["data"], prev_hash=held["prev_hash"])
    rest = [json.loads(line) for line in lines]
    rest[3] = held
    for line in rest:
        if line["stream_id"] == held["stream_id"] and line["version"] > 2:
            line["prev_hash"] = held["hash"]
            break
    out.write_text("".join(json.dumps(line) + "\n" for line in rest), encoding="utf-8")
    result = _run(script, out)
    assert result.returncode == 1
    assert any(problem.startswith("seal at position") for problem in result.stdout.splitlines())


def test_one_record_exports_as_jsonl_and_csv(tmp_path: Path) -> None:
    clock = FakeClock()
    desk = open_service_desk(f"sqlite:///{tmp_path / 'store.db'}", clock=clock)
    _busy(desk, clock)

    assert export(desk, "INC0000001", to=tmp_path / "one.jsonl", form=ExportFormat.JSONL) == 5
    assert export(desk, "INC0000001", to=tmp_path / "one.csv", form=ExportFormat.CSV) == 5

    envelopes = [json.loads(line) for line in (tmp_path / "one.jsonl").read_text().splitlines()]
    assert [e["event_id"] for e in envelopes] == [
        str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{e['stream_id']}:{e['version']}"))
        for e in envelopes]
    with (tmp_path / "one.csv").open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    assert tuple(header) == ENVELOPE_KEYS
    assert [json.loads(row[ENVELOPE_KEYS.index("data")]) for row in rows] == [
        e["data"] for e in envelopes]
    assert envelopes[-1]["data"]["text"] == "Vendor replied\nwith a fix"
