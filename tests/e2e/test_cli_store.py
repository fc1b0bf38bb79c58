"""Where the CLI keeps its records: the default store, `tandem demo`, PostgreSQL (design 9)."""

from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from tests.e2e.conftest import INCIDENT_KEYS, Cli


def test_default_store_is_var_tandem_db_under_the_current_directory(
        make_cli: Callable[..., Cli], tmp_path: Path) -> None:
    here = tmp_path / "desk"
    here.mkdir()
    cli = make_cli(database_url=None, cwd=here)
    assert "TANDEM_DATABASE_URL" not in cli.env

    number = cli.open_incident("--title", "Where am I stored?", "--service", "files")
    assert number == "INC0000001"
    store = here / "var" / "tandem.db"
    assert store.is_file()
    assert store.stat().st_size > 0
    # A later command in the same directory reads the same store; another directory does not.
    assert cli.incident(number)["title"] == "Where am I stored?"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert make_cli(database_url=None, cwd=elsewhere).json("incident", "list", "--json") == []
    assert (elsewhere / "var" / "tandem.db").is_file()

    # sqlite:///PATH with a relative PATH is relative to the current directory too.
    relative = make_cli(database_url="sqlite:///stores/desk.db", cwd=elsewhere)
    assert relative.open_incident("--title", "Relative", "--service", "files") == "INC0000001"
    assert (elsewhere / "stores" / "desk.db").is_file()


def test_store_setting_errors_exit_2_and_failures_exit_1(cli: Cli, tmp_path: Path) -> None:
    # A malformed setting is invalid input: exit 2, one line naming the variable.
    env = {**cli.env, "TANDEM_DATABASE_URL": "mysql://db.example/tandem"}
    result = cli("incident", "list", "--json", env=env)
    assert (result.code, result.out) == (2, "")
    assert len(result.err.splitlines()) == 1
    assert "TANDEM_DATABASE_URL" in result.err

    # A store that is not a database is an unexpected failure: exit 1, nothing on stdout.
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_text("this is not a SQLite file\n" * 100)
    env = {**cli.env, "TANDEM_DATABASE_URL": f"sqlite:///{corrupt}"}
    result = cli("incident", "list", "--json", env=env)
    assert (result.code, result.out) == (1, "")
    assert result.err.strip()


def test_demo_plays_a_day_and_can_be_run_again(make_cli: Callable[..., Cli],
                                               tmp_path: Path) -> None:
    database = tmp_path / "demo" / "demo.db"
    cli = make_cli(database_url=f"sqlite:///{database}")
    for _ in range(2):  # the second run replaces the first one's store
        run = cli("demo", "--database", str(database))
        assert run.code == 0, run
        assert "Incidents" in run.out
        assert "Problems" in run.out
        assert "INC0000001" in run.out
        assert "INC0000006" in run.out

    # The second run recreated the store rather than adding to it; the CLI reads it back.
    incidents, problems = cli.json_all([["incident", "list", "--json"],
                                        ["problem", "list", "--json"]])
    assert [i["number"] for i in incidents] == [f"INC{n:07d}" for n in range(1, 7)]
    assert [(p["number"], p["state"], p["known_error"]) for p in problems] == [
        ("PRB0000001", "resolved", True)]
    assert {i["state"] for i in incidents} <= {"resolved", "closed", "canceled"}


def test_demo_output_names_its_problem_when_piped(make_cli: Callable[..., Cli],
                                                  tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    run = make_cli(database_url=f"sqlite:///{database}")("demo", "--database", str(database))
    assert run.code == 0
    assert "PRB0000001" in run.out
    assert "Cannot send email from Outlook" in run.out


@pytest.mark.postgres
def test_the_cli_on_postgresql(make_cli: Callable[..., Cli], postgres_url: str) -> None:
    cli = make_cli(database_url=postgres_url)
    # Several first commands at once on an empty schema: tables are created once, and the
    # numbers stay unique and gap-free.
    runs = cli.run_all([["incident", "open", "--title", f"Disk {n} full", "--service", "files",
                         "--impact", "1", "--urgency", "2"] for n in range(3)])
    assert all(run.code == 0 and run.err == "" for run in runs), runs
    numbers = sorted(run.out.strip() for run in runs)
    assert numbers == ["INC0000001", "INC0000002", "INC0000003"]

    first = cli.incident(numbers[0])
    assert first.keys() >= INCIDENT_KEYS
    assert (first["state"], first["priority"], first["version"]) == ("new", "P2", 1)
    line = cli.refused("incident", "close", numbers[0])
    assert numbers[0] in line
    assert "new" in line
    cli.ok("--actor", "alice", "incident", "assign", first["id"], "--group", "storage")

    problem = cli.ok("problem", "open", "--title", "Disks fill up", "--incident", numbers[0],
                     "--incident", numbers[1]).out.strip()
    assert problem == "PRB0000001"
    cli.ok("problem", "note", problem, "--text", "Log rotation stopped")
    cli.ok("problem", "resolve", problem, "--notes", "Rotation fixed", "--resolve-incidents")
    states = {i["number"]: i["state"] for i in cli.json("incident", "list", "--json")}
    assert states == {numbers[0]: "resolved", numbers[1]: "resolved", numbers[2]: "new"}
    assert cli.incident(numbers[0])["version"] == 4  # opened, assigned, linked, resolved
    shown = cli.problem(problem)
    assert (shown["state"], shown["incidents"]) == ("resolved", numbers[:2])

    # The records went into the fixture's schema, not into `public`.
    dsn, schema = postgres_url.split("?schema=")
    with psycopg.connect(dsn) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,)).fetchall()
    assert tables
