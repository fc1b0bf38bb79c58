"""End-to-end helpers: drive the installed `tandem` script as a subprocess, as a user would.

Every test gets its own working directory (tmp_path) and its own store (a SQLite file in it,
through TANDEM_DATABASE_URL), so nothing leaks between tests or into the repository.
"""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pytest

TANDEM = shutil.which("tandem", path=os.path.dirname(sys.executable))
TIMEOUT_SECONDS = 60

# The keys design section 9 promises in `incident show --json` and `problem show --json`.
INCIDENT_KEYS = {"id", "number", "title", "service", "state", "impact", "urgency", "priority",
                 "assignment_group", "assignee", "problem", "version"}
PROBLEM_KEYS = {"id", "number", "state", "known_error", "incidents", "version"}


class Result(NamedTuple):
    """What a user sees: the exit code, stdout and stderr (decoded as UTF-8)."""

    code: int
    out: str
    err: str


def base_environment(database_url: str | None) -> dict[str, str]:
    """The caller's environment without anything that would change the CLI's behaviour."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"TANDEM_DATABASE_URL", "TANDEM_CONFIG", "COLUMNS", "LINES"}}
    if database_url is not None:
        env["TANDEM_DATABASE_URL"] = database_url
    return env


class Cli:
    """`tandem ARGS...` in a fixed working directory and environment."""

    def __init__(self, cwd: Path, database_url: str | None) -> None:
        assert TANDEM is not None, "the `tandem` script is not installed beside this Python"
        self.cwd = cwd
        self.database_url = database_url
        self.env = base_environment(database_url)

    def command(self, *args: str) -> list[str]:
        assert TANDEM is not None
        return [TANDEM, *args]

    def __call__(self, *args: str, env: Mapping[str, str] | None = None) -> Result:
        done = subprocess.run(
            self.command(*args), cwd=self.cwd, env=dict(env) if env is not None else self.env,
            capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
        return Result(done.returncode, done.stdout.decode("utf-8"),
                      done.stderr.decode("utf-8"))

    def run_all(self, commands: Sequence[Sequence[str]]) -> list[Result]:
        """Run several independent commands at once (they must not depend on each other)."""
        processes = [subprocess.Popen(self.command(*args), cwd=self.cwd, env=self.env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                     for args in commands]
        results = []
        for process in processes:
            out, err = process.communicate(timeout=TIMEOUT_SECONDS)
            results.append(Result(process.returncode, out.decode("utf-8"), err.decode("utf-8")))
        return results

    def ok(self, *args: str) -> Result:
        """Run a command that must succeed: exit 0 and nothing on stderr."""
        result = self(*args)
        assert result.code == 0, f"tandem {' '.join(args)} -> {result}"
        assert result.err == "", f"tandem {' '.join(args)} wrote to stderr: {result.err!r}"
        return result

    def json(self, *args: str) -> Any:
        """Run a `--json` command: exit 0, exactly one JSON document on stdout and nothing else."""
        return only_json(self.ok(*args).out)

    def json_all(self, commands: Sequence[Sequence[str]]) -> list[Any]:
        """`json` for several read-only commands at once; their documents, in order."""
        documents = []
        for args, result in zip(commands, self.run_all(commands), strict=True):
            assert result.code == 0, f"tandem {' '.join(args)} -> {result}"
            assert result.err == "", f"tandem {' '.join(args)} wrote to stderr: {result.err!r}"
            documents.append(only_json(result.out))
        return documents

    def show_all(self, kind: str, *refs: str) -> list[dict[str, Any]]:
        """`tandem KIND show REF --json` for several records at once."""
        return self.json_all([[kind, "show", ref, "--json"] for ref in refs])

    def refused(self, *args: str) -> str:
        """Run a command that must be refused: exit 2, nothing on stdout, ONE line on stderr."""
        return refusal_line(args, self(*args))

    def refused_all(self, commands: Sequence[Sequence[str]]) -> list[str]:
        """`refused` for several read-only refusals at once; their stderr lines, in order."""
        return [refusal_line(args, result)
                for args, result in zip(commands, self.run_all(commands), strict=True)]

    def open_incident(self, *options: str) -> str:
        """`incident open` without --json: stdout is just the new number (and a newline)."""
        out = self.ok("incident", "open", *options).out
        assert out.endswith("\n"), f"want one line, got {out!r}"
        assert out.count("\n") == 1, f"want one line, got {out!r}"
        return out.strip()

    def incident(self, ref: str) -> dict[str, Any]:
        view = self.json("incident", "show", ref, "--json")
        assert isinstance(view, dict)
        return view

    def problem(self, ref: str) -> dict[str, Any]:
        view = self.json("problem", "show", ref, "--json")
        assert isinstance(view, dict)
        return view


def refusal_line(args: Sequence[str], result: Result) -> str:
    """The one stderr line of a refusal: exit 2, nothing on stdout (design section 9)."""
    shown = "tandem " + " ".join(args)
    assert result.code == 2, f"{shown} -> {result}"
    assert result.out == "", f"{shown} wrote to stdout: {result.out!r}"
    lines = result.err.splitlines()
    assert len(lines) == 1, f"{shown}: want one stderr line, got {lines!r}"
    assert lines[0].strip(), f"{shown}: the refusal line is blank"
    return lines[0]


def only_json(out: str) -> Any:
    """The single JSON document that `out` holds; fails on any other text around it."""
    decoder = json.JSONDecoder()
    text = out.lstrip()
    value, end = decoder.raw_decode(text)
    assert text[end:].strip() == "", f"stdout has more than one JSON document: {out!r}"
    return value


@pytest.fixture
def make_cli(tmp_path: Path) -> Callable[..., Cli]:
    """A Cli factory: `make_cli(database_url=None)` runs with the variable unset."""

    def make(database_url: str | None = None, cwd: Path | None = None) -> Cli:
        return Cli(cwd or tmp_path, database_url)

    return make


@pytest.fixture
def cli(make_cli: Callable[..., Cli], tmp_path: Path) -> Cli:
    """The CLI on a fresh SQLite file in this test's directory (absolute sqlite:////PATH)."""
    return make_cli(f"sqlite:///{tmp_path / 'tandem.db'}")
