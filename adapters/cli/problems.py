"""`tandem problem ...`: from recurring incidents to root cause, known error and fix."""

from typing import Annotated

import typer

from adapters.cli.context import print_json, print_record, print_rows, session
from adapters.views import problem_view
from domain.errors import ValidationFailed
from domain.problem import Problem, ProblemState
from projections import queries

app = typer.Typer(help="Investigate problems and record known errors.", no_args_is_help=True)

Ref = Annotated[str, typer.Argument(help="Problem number (PRB0000001) or UUID.")]
IncidentRef = Annotated[str, typer.Argument(help="Incident number (INC0000001) or UUID.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
LIST_COLUMNS = ["number", "state", "known_error", "service", "incidents", "title"]


def _done(problem: Problem, what: str) -> None:
    typer.echo(f"{problem.number} {what} ({problem.state.value}, version {problem.version})")


@app.command("open")
def open_(
    ctx: typer.Context,
    title: Annotated[str, typer.Option()],
    service: Annotated[str | None, typer.Option()] = None,
    incident: Annotated[list[str] | None, typer.Option(
        "--incident", help="An incident this problem causes (repeatable).")] = None,
    description: Annotated[str, typer.Option()] = "",
    json: Json = False,
) -> None:
    """Record a problem, optionally linked to incidents; prints its number."""
    s = session(ctx)
    problem = s.desk.open_problem(actor=s.actor, title=title, service=service,
                                  description=description, incidents=incident or [])
    if json:
        print_json(problem_view(problem))
    else:
        typer.echo(problem.number)


@app.command()
def link(ctx: typer.Context, ref: Ref, incident: IncidentRef) -> None:
    """Link an incident to the problem."""
    s = session(ctx)
    _done(s.desk.link_incident(ref, incident, actor=s.actor), f"linked to {incident}")


@app.command()
def unlink(ctx: typer.Context, ref: Ref, incident: IncidentRef) -> None:
    """Unlink an incident from the problem."""
    s = session(ctx)
    _done(s.desk.unlink_incident(ref, incident, actor=s.actor), f"unlinked from {incident}")


@app.command()
def note(ctx: typer.Context, ref: Ref, text: Annotated[str, typer.Option()]) -> None:
    """Add an investigation note (a new problem moves to assessing)."""
    s = session(ctx)
    _done(s.desk.add_problem_note(ref, actor=s.actor, text=text), "noted")


@app.command("root-cause")
def root_cause(ctx: typer.Context, ref: Ref, text: Annotated[str, typer.Option()]) -> None:
    """Document the root cause."""
    s = session(ctx)
    _done(s.desk.identify_root_cause(ref, actor=s.actor, text=text), "root cause identified")


@app.command("known-error")
def known_error(ctx: typer.Context, ref: Ref,
                workaround: Annotated[str, typer.Option()]) -> None:
    """Flag as a known error with the workaround incident handlers can reuse."""
    s = session(ctx)
    _done(s.desk.record_known_error(ref, actor=s.actor, workaround=workaround),
          "recorded as a known error")


@app.command("request-change")
def request_change(ctx: typer.Context, ref: Ref,
                   change_ref: Annotated[str, typer.Option(help="The RFC's reference.")]) -> None:
    """Plan the fix through a change request."""
    s = session(ctx)
    _done(s.desk.request_change(ref, actor=s.actor, change_ref=change_ref),
          f"fix requested as {change_ref}")


@app.command()
def resolve(ctx: typer.Context, ref: Ref, notes: Annotated[str, typer.Option()],
            resolve_incidents: Annotated[bool, typer.Option(
                "--resolve-incidents", help="Also resolve the linked open incidents.")] = False,
            ) -> None:
    """Resolve the problem."""
    s = session(ctx)
    _done(s.desk.resolve_problem(ref, actor=s.actor, notes=notes,
                                 resolve_linked_incidents=resolve_incidents), "resolved")


@app.command()
def close(ctx: typer.Context, ref: Ref) -> None:
    """Close a resolved problem."""
    s = session(ctx)
    _done(s.desk.close_problem(ref, actor=s.actor), "closed")


@app.command()
def cancel(ctx: typer.Context, ref: Ref, reason: Annotated[str, typer.Option()]) -> None:
    """Cancel an open problem."""
    s = session(ctx)
    _done(s.desk.cancel_problem(ref, actor=s.actor, reason=reason), "canceled")


@app.command()
def show(ctx: typer.Context, ref: Ref, json: Json = False) -> None:
    """Show one problem."""
    view = problem_view(session(ctx).desk.problem(ref))
    if json:
        print_json(view)
    else:
        print_record(view, f"{view['number']}: {view['title']}")


@app.command("list")
def list_(ctx: typer.Context,
          state: Annotated[str | None, typer.Option(help="Only this state.")] = None,
          json: Json = False) -> None:
    """List problems, optionally by state."""
    if state is not None and state not in set(ProblemState):
        raise ValidationFailed("state", f"must be one of {', '.join(ProblemState)}")
    views = queries.problems(session(ctx).read_models(), state=state)
    if json:
        print_json(views)
    else:
        print_rows(views, LIST_COLUMNS, f"{len(views)} problem(s)")
