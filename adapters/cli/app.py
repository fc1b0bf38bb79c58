"""Entry point: global options, sub-commands, the exit codes (0 done, 2 refused, 1 failed)."""

import sys
from typing import Annotated

import typer

from adapters.cli import (
    alerts,
    audit,
    demo,
    incidents,
    problems,
    projections,
    relay,
    serve,
    sla,
    token,
)
from adapters.cli.context import Session
from adapters.config import ConfigurationError
from domain.errors import DomainError

app = typer.Typer(
    help="Tandem: event-sourced incident and problem management.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(incidents.app, name="incident")
app.add_typer(problems.app, name="problem")
app.add_typer(audit.app, name="audit")
app.add_typer(projections.app, name="projections")
app.command("demo")(demo.run)
app.add_typer(relay.app, name="relay")
app.add_typer(sla.app, name="sla")
app.add_typer(alerts.alert_app, name="alert")
app.add_typer(alerts.recurrence_app, name="recurrence")
incidents.app.command("suggest")(alerts.suggest)
app.command("serve")(serve.run)
app.add_typer(token.app, name="token")


@app.callback()
def main_options(
    ctx: typer.Context,
    actor: Annotated[str | None, typer.Option(help="Who is acting (default: the OS user).")]
    = None,
) -> None:
    ctx.obj = Session(actor=actor) if actor is not None else Session()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every refusal or bad input is one line on stderr and exit code 2."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="tandem", standalone_mode=False)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.TyperException as usage:  # bad or missing options: click's usage errors
        _fail(usage.format_message(), usage.exit_code)
    except (DomainError, ConfigurationError) as refused:
        _fail(str(refused), 2)
    except typer.Abort:
        _fail("aborted", 1)
    except Exception as failure:
        _fail(f"unexpected failure: {type(failure).__name__}: {failure}", 1)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> None:
    print(f"tandem: {message}", file=sys.stderr)
    sys.exit(code)
