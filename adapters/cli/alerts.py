"""`tandem alert receive`, `tandem recurrence list|tick`, `tandem incident suggest`."""

import json as json_module
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.bootstrap import Settings, alert_intake, recurrence_policy
from adapters.cli.context import print_json, print_rows, session
from domain.errors import ValidationFailed
from domain.service_desk import system_clock

alert_app = typer.Typer(help="Receive monitoring alerts.", no_args_is_help=True)
recurrence_app = typer.Typer(help="Recurring incident patterns and problem candidates.",
                             no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
PATTERN_COLUMNS = ["pattern", "service", "category", "fingerprint", "last_24h", "last_7d",
                   "last_30d", "total", "covered_by", "candidate"]
SUGGESTION_COLUMNS = ["problem", "score", "service", "workaround"]


class PayloadFormat(StrEnum):
    ALERTMANAGER = "alertmanager"
    GENERIC = "generic"


@alert_app.command()
def receive(
    ctx: typer.Context,
    file: Annotated[Path, typer.Option(help="The JSON payload, as the webhook would post it.")],
    payload_format: Annotated[PayloadFormat, typer.Option(
        "--format", help="alertmanager (webhook v4) or generic (docs/alerts.md).")]
    = PayloadFormat.ALERTMANAGER,
    json: Json = False,
) -> None:
    """Route a payload's alerts to incidents; repeats are written as occurrence counts."""
    # the payload parsers' pydantic models: only this command needs them
    from adapters.alerts.alertmanager import parse_alertmanager
    from adapters.alerts.generic import parse_generic

    parse = (parse_alertmanager if payload_format is PayloadFormat.ALERTMANAGER
             else parse_generic)
    alerts = parse(_read_json(file))
    s = session(ctx)
    intake = alert_intake(s.desk, Settings.from_environment().config())
    try:
        results = intake.receive(alerts)
    finally:
        intake.close()
    rows = [{"source": alert.source, "dedup_key": alert.dedup_key, "status": alert.status.value,
             "outcome": result.outcome.value, "incident": result.incident}
            for alert, result in zip(alerts, results, strict=True)]
    if json:
        print_json(rows)
    else:
        for row in rows:
            typer.echo(f"{row['status']} {row['source']}/{row['dedup_key']}: {row['outcome']}"
                       + (f" {row['incident']}" if row["incident"] else ""))


@recurrence_app.command("list")
def list_(ctx: typer.Context, json: Json = False) -> None:
    """Recurring patterns (2+ incidents), with window counts and problem coverage."""
    from adapters.recurrence_policy import thresholds_of  # pydantic models, statistics: only here
    from projections.patterns import patterns

    thresholds = thresholds_of(Settings.from_environment().config().recurrence)
    found = patterns(session(ctx).read_models(), now=system_clock(), thresholds=thresholds)
    if json:
        print_json(found)
    else:
        print_rows(found, PATTERN_COLUMNS, f"{len(found)} pattern(s)")


@recurrence_app.command()
def tick(ctx: typer.Context) -> None:
    """Run the problem-candidate policy once: open problems for uncovered patterns."""
    s = session(ctx)
    policy = recurrence_policy(s.desk, s.runner, Settings.from_environment().config())
    for problem in policy.tick():
        typer.echo(f"{problem.number} opened for {len(problem.incidents)} incident(s): "
                   f"{problem.title}")


def suggest(ctx: typer.Context,
            ref: Annotated[str, typer.Argument(help="Incident number (INC0000001) or UUID.")],
            json: Json = False) -> None:
    """Known errors whose workaround may restore this incident's service, best first."""
    from projections.suggestions import suggestions  # rapidfuzz: only this command

    s = session(ctx)
    incident = s.desk.incident(ref)
    ranked = suggestions(s.read_models(), service=incident.service,
                         text=f"{incident.title} {incident.description}")
    if json:
        print_json(ranked)
    else:
        print_rows(ranked, SUGGESTION_COLUMNS,
                   f"{len(ranked)} suggestion(s) for {incident.number}")


def _read_json(file: Path) -> Any:
    try:
        return json_module.loads(file.read_bytes())
    except OSError as error:
        raise ValidationFailed("file", f"cannot read {file}: {error.strerror}") from None
    except ValueError as error:
        raise ValidationFailed("file", f"{file} is not JSON: {error}") from None
