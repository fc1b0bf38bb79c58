"""`tandem audit ...`: history, state as of a moment, verification, seals and export."""

from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.audit.export import ExportFormat, export
from adapters.audit.history import history, parse_moment, state_as_of
from adapters.audit.seals import Seal, latest_seal
from adapters.audit.verify import Verification, verify_record, verify_store
from adapters.cli.context import print_json, print_record, session
from domain.errors import ValidationFailed
from domain.service_desk import ServiceDesk

app = typer.Typer(help="Audit records: history, past state, tamper evidence, export.",
                  no_args_is_help=True)

Ref = Annotated[str, typer.Argument(help="Record number (INC0000001, PRB0000001) or UUID.")]
OptionalRef = Annotated[str | None, typer.Argument(
    help="Record number or UUID; leave out with --all.", show_default=False)]
AllRecords = Annotated[bool, typer.Option("--all", help="The whole store.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _one_or_all(ref: str | None, everything: bool, *, default_all: bool) -> str | None:
    if ref is not None and everything:
        raise ValidationFailed("ID", "give a record number or UUID, or --all, not both")
    if ref is None and not everything and not default_all:
        raise ValidationFailed("ID", "give a record number or UUID, or --all")
    return ref


@app.command("history")
def history_(ctx: typer.Context, ref: Ref,
             as_of: Annotated[str | None, typer.Option(
                 "--as-of", help="Only events up to this ISO 8601 time (with a zone).")] = None,
             json: Json = False) -> None:
    """Every event of the record, oldest first: when, who, what and what changed."""
    entries = history(session(ctx).desk, ref,
                      as_of=parse_moment(as_of) if as_of is not None else None)
    if json:
        print_json(entries)
        return
    for entry in entries:
        typer.echo(f"{entry['occurred_at']}  v{entry['version']}  {entry['actor']}  "
                   f"{entry['type']}  {entry['summary']}")
        for change in entry["changes"]:
            typer.echo(f"    {change['field']}: {_shown(change['old'])} -> "
                       f"{_shown(change['new'])}")


@app.command()
def state(ctx: typer.Context, ref: Ref,
          as_of: Annotated[str, typer.Option(
              "--as-of", help="ISO 8601 time with a zone, e.g. 2026-03-02T09:00:00Z.")],
          json: Json = False) -> None:
    """The record as it stood at that moment."""
    moment = parse_moment(as_of)
    view = state_as_of(session(ctx).desk, ref, moment)
    if json:
        print_json(view)
    else:
        print_record(view, f"{view['number']} as of {as_of}")


@app.command()
def verify(ctx: typer.Context, ref: OptionalRef = None, everything: AllRecords = False,
           json: Json = False) -> None:
    """Recompute hash chains, seals and numbering; exit code 1 if anything fails."""
    desk = session(ctx).desk
    ref = _one_or_all(ref, everything, default_all=True)
    if ref is not None:
        result = verify_record(desk, ref)
    elif json:
        result = verify_store(desk)
    else:
        result = _verify_with_progress(desk)
    if json:
        print_json(result.as_json())
    else:
        _print_verification(result)
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def seal(ctx: typer.Context, json: Json = False) -> None:
    """Anchor every event so far in a new seal; keep the printed digest outside the store."""
    s = session(ctx)
    sealed = s.desk.seal_audit_log(actor=s.actor)
    current = latest_seal(s.desk)
    if json:
        print_json({"sealed": sealed is not None,
                    "seal": current.as_json() if current else None})
        return
    if current is None:
        typer.echo("nothing to seal: the store holds no event")
        return
    covers = f"{current.events:,} events up to position {current.position:,}"
    if sealed is not None:
        typer.echo(f"sealed: seal {current.number} covers {covers}")
    else:
        typer.echo(f"nothing new to seal: seal {current.number} already covers {covers}")
    typer.echo(f"digest {current.digest}")
    typer.echo("keep this digest outside the store: it is what a rewrite cannot forge")


@app.command("export")
def export_(ctx: typer.Context,
            form: Annotated[ExportFormat, typer.Option(
                "--format", help="jsonl (one envelope per line) or csv.")],
            out: Annotated[Path, typer.Option("--out", help="The file to write.")],
            ref: OptionalRef = None, everything: AllRecords = False) -> None:
    """Write the history with its hashes, for independent verification (docs/audit.md)."""
    ref = _one_or_all(ref, everything, default_all=False)
    written = export(session(ctx).desk, ref, to=out, form=form)
    typer.echo(f"{written:,} events written to {out}")


def _verify_with_progress(desk: ServiceDesk) -> Verification:
    """A progress bar on the terminal (stderr), none when piped. Refreshed from the callback,
    not by rich's own thread: the verifier forks its workers and wants no other thread."""
    from rich.console import Console  # rich only for this bar
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn(),
               TextColumn("positions"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, auto_refresh=False,
                  disable=not console.is_terminal) as progress:
        task = progress.add_task("verify", total=None)

        def advance(position: int, stop: int) -> None:
            progress.update(task, completed=position, total=stop, refresh=True)

        return verify_store(desk, progress=advance)


def _print_verification(result: Verification) -> None:
    scope = "the whole store" if result.scope == "all" else result.scope
    typer.echo(f"checked {scope}: {result.events:,} event(s) in {result.records:,} record(s) "
               f"up to position {result.last_position:,}; "
               f"{result.seals_checked} seal(s) checked")
    _print_seal(result.latest_seal)
    if result.ok:
        typer.echo("verified: every chain, seal and number adds up")
        return
    typer.echo(f"FAILED: {len(result.findings)} finding(s)")
    for finding in result.findings:
        typer.echo(f"  {finding.line()}")


def _print_seal(seal: Seal | None) -> None:
    if seal is None:
        typer.echo("no seal yet: a cut-off tail or a deleted record cannot be detected "
                   "(run `tandem audit seal`)")
        return
    typer.echo(f"latest seal {seal.number} ({seal.sealed_at} by {seal.actor}): "
               f"{seal.events:,} events up to position {seal.position:,}, "
               f"digest {seal.digest}")


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "(none)"
    return "-" if value is None else str(value)
