"""What every CLI command shares: who is acting, the store, and how results are printed."""

import getpass
import json
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

import typer

from adapters.bootstrap import Settings, open_read_store, open_service_desk, projection_runner
from adapters.config import TandemConfig
from domain.service_desk import ServiceDesk
from projections.runner import ProjectionRunner, RebuildInProgress
from projections.store import ReadStore

if TYPE_CHECKING:
    from rich.console import Console


@cache
def console() -> "Console":
    """Where tables and progress go; rich loads here, so `--json` and plain output skip it."""
    from rich.console import Console

    terminal = Console()
    # Piped output: rich would assume 80 columns and cut numbers; give tables room instead.
    return terminal if terminal.is_terminal else Console(width=200)


@dataclass
class Session:
    """Per-invocation state kept in typer's context object."""

    actor: str = field(default_factory=getpass.getuser)
    _desk: ServiceDesk | None = None
    _read_store: ReadStore | None = None
    _runner: ProjectionRunner | None = None
    _config: TandemConfig | None = None

    @property
    def config(self) -> TandemConfig:
        """`tandem.toml` (TANDEM_CONFIG), read once per invocation."""
        if self._config is None:
            self._config = Settings.from_environment().config()
        return self._config

    @property
    def desk(self) -> ServiceDesk:
        if self._desk is None:
            self._desk = open_service_desk(Settings.from_environment().database_url)
        return self._desk

    @property
    def runner(self) -> ProjectionRunner:
        if self._runner is None:
            self._read_store = open_read_store(Settings.from_environment().database_url)
            self._runner = projection_runner(self.desk, self._read_store, config=self.config)
        return self._runner

    def read_models(self) -> ReadStore:
        """The read models, caught up with every event stored so far (no server needed); one
        another version built is rebuilt first, and said so on stderr."""
        self.upgrade_read_models()
        self.runner.catch_up()
        return self.runner.store

    def upgrade_read_models(self) -> None:
        """Rebuild the read models an older version built, saying so on stderr (while another
        process rebuilds them, the old ones answer)."""
        try:
            rebuilt = self.runner.rebuild_outdated()
        except RebuildInProgress as busy:
            typer.echo(f"tandem: {busy}", err=True)
            return
        for name in rebuilt:
            typer.echo(f"tandem: read model {name} rebuilt for this version", err=True)


def session(ctx: typer.Context) -> Session:
    obj = ctx.find_root().obj
    assert isinstance(obj, Session)
    return obj


def print_json(value: Any) -> None:
    """Exactly one JSON document on stdout, nothing else."""
    typer.echo(json.dumps(value, ensure_ascii=False))


def print_record(view: dict[str, Any], title: str) -> None:
    from rich.table import Table  # rich only when a table is printed

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in view.items():
        table.add_row(key, _cell(value))
    console().print(table)


def print_rows(views: list[dict[str, Any]], columns: list[str], title: str) -> None:
    from rich.table import Table  # rich only when a table is printed

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, no_wrap=column != "title")
    for view in views:
        table.add_row(*(_cell(view[column]) for column in columns))
    console().print(table)


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)
