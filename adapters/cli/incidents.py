"""`tandem incident ...`: logging, handling and closing incidents."""

from typing import Annotated

import typer

from adapters.cli.context import print_json, print_record, print_rows, session
from adapters.views import incident_view
from domain.errors import ValidationFailed
from domain.incident import Incident, IncidentState
from projections import queries

app = typer.Typer(help="Log, handle and close incidents.", no_args_is_help=True)

Ref = Annotated[str, typer.Argument(help="Incident number (INC0000001) or UUID.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
LIST_COLUMNS = ["number", "priority", "state", "service", "assignment_group", "assignee", "title"]


def _done(incident: Incident, what: str) -> None:
    typer.echo(f"{incident.number} {what} ({incident.state.value}, version {incident.version})")


@app.command("open")
def open_(
    ctx: typer.Context,
    title: Annotated[str, typer.Option(help="Short description of the disruption.")],
    service: Annotated[str, typer.Option(help="The affected service.")],
    category: Annotated[str | None, typer.Option()] = None,
    impact: Annotated[int, typer.Option(help="1 high, 2 medium, 3 low.")] = 3,
    urgency: Annotated[int, typer.Option(help="1 high, 2 medium, 3 low.")] = 3,
    description: Annotated[str, typer.Option()] = "",
    caller: Annotated[str | None, typer.Option(help="Who reported it.")] = None,
    json: Json = False,
) -> None:
    """Log an incident; prints its number."""
    s = session(ctx)
    incident = s.desk.open_incident(
        actor=s.actor, title=title, service=service, category=category, impact=impact,
        urgency=urgency, description=description, caller=caller)
    if json:
        print_json(incident_view(incident))
    else:
        typer.echo(incident.number)


@app.command()
def assign(ctx: typer.Context, ref: Ref, group: Annotated[str, typer.Option()],
           assignee: Annotated[str | None, typer.Option()] = None) -> None:
    """Assign to a group (and optionally a person); a new incident goes in progress."""
    s = session(ctx)
    incident = s.desk.assign_incident(ref, actor=s.actor, group=group, assignee=assignee)
    _done(incident, f"assigned to {group}" + (f" / {assignee}" if assignee else ""))


@app.command()
def categorize(ctx: typer.Context, ref: Ref, category: Annotated[str, typer.Option()],
               subcategory: Annotated[str | None, typer.Option()] = None) -> None:
    """Set the category (and subcategory)."""
    s = session(ctx)
    _done(s.desk.categorize_incident(ref, actor=s.actor, category=category,
                                     subcategory=subcategory), f"categorized as {category}")


@app.command()
def prioritize(ctx: typer.Context, ref: Ref, impact: Annotated[int, typer.Option()],
               urgency: Annotated[int, typer.Option()]) -> None:
    """Re-assess impact and urgency; the priority follows."""
    s = session(ctx)
    incident = s.desk.prioritize_incident(ref, actor=s.actor, impact=impact, urgency=urgency)
    _done(incident, f"prioritized {incident.priority.value}")


@app.command()
def escalate(ctx: typer.Context, ref: Ref,
             kind: Annotated[str, typer.Option(help="functional | hierarchical")],
             to: Annotated[str, typer.Option(help="Group (functional) or manager.")],
             reason: Annotated[str, typer.Option()]) -> None:
    """Escalate functionally (reassign) or hierarchically (to management)."""
    s = session(ctx)
    _done(s.desk.escalate_incident(ref, actor=s.actor, kind=kind, to=to, reason=reason),
          f"escalated ({kind}) to {to}")


@app.command()
def hold(ctx: typer.Context, ref: Ref, reason: Annotated[str, typer.Option(
        help="awaiting_caller | awaiting_vendor | awaiting_change | awaiting_problem")]) -> None:
    """Put on hold with a reason."""
    s = session(ctx)
    _done(s.desk.put_incident_on_hold(ref, actor=s.actor, reason=reason), f"on hold ({reason})")


@app.command()
def resume(ctx: typer.Context, ref: Ref) -> None:
    """Take off hold, back in progress."""
    s = session(ctx)
    _done(s.desk.resume_incident(ref, actor=s.actor), "resumed")


@app.command()
def note(ctx: typer.Context, ref: Ref, text: Annotated[str, typer.Option()]) -> None:
    """Add a work note."""
    s = session(ctx)
    _done(s.desk.add_incident_note(ref, actor=s.actor, text=text), "noted")


@app.command()
def workaround(ctx: typer.Context, ref: Ref, text: Annotated[str, typer.Option()],
               known_error: Annotated[str | None, typer.Option(
                   help="The problem (PRB...) whose known error this applies.")] = None) -> None:
    """Record a workaround applied to restore service."""
    s = session(ctx)
    _done(s.desk.apply_workaround(ref, actor=s.actor, text=text, known_error=known_error),
          "workaround applied")


@app.command()
def resolve(ctx: typer.Context, ref: Ref,
            code: Annotated[str, typer.Option(help="Resolution code, e.g. solution_provided.")],
            notes: Annotated[str, typer.Option()]) -> None:
    """Resolve with a resolution code and notes."""
    s = session(ctx)
    _done(s.desk.resolve_incident(ref, actor=s.actor, code=code, notes=notes), "resolved")


@app.command()
def reopen(ctx: typer.Context, ref: Ref, reason: Annotated[str, typer.Option()]) -> None:
    """Reopen a resolved incident."""
    s = session(ctx)
    _done(s.desk.reopen_incident(ref, actor=s.actor, reason=reason), "reopened")


@app.command()
def close(ctx: typer.Context, ref: Ref,
          code: Annotated[str | None, typer.Option(help="Defaults to the resolution code.")]
          = None) -> None:
    """Close a resolved incident."""
    s = session(ctx)
    _done(s.desk.close_incident(ref, actor=s.actor, code=code), "closed")


@app.command()
def cancel(ctx: typer.Context, ref: Ref, reason: Annotated[str, typer.Option()]) -> None:
    """Cancel an open incident logged in error."""
    s = session(ctx)
    _done(s.desk.cancel_incident(ref, actor=s.actor, reason=reason), "canceled")


@app.command()
def show(ctx: typer.Context, ref: Ref, json: Json = False) -> None:
    """Show one incident."""
    view = incident_view(session(ctx).desk.incident(ref))
    if json:
        print_json(view)
    else:
        print_record(view, f"{view['number']}: {view['title']}")


@app.command("list")
def list_(ctx: typer.Context,
          state: Annotated[str | None, typer.Option(help="Only this state.")] = None,
          group: Annotated[str | None, typer.Option(help="Only this assignment group.")] = None,
          json: Json = False) -> None:
    """List incidents, optionally by state and assignment group."""
    if state is not None and state not in set(IncidentState):
        raise ValidationFailed("state", f"must be one of {', '.join(IncidentState)}")
    views = queries.incidents(session(ctx).read_models(), state=state, group=group)
    if json:
        print_json(views)
    else:
        print_rows(views, LIST_COLUMNS, f"{len(views)} incident(s)")
