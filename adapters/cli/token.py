"""`tandem token new NAME --role R`: a new API token and the `tandem.toml` entry for its hash."""

import json
import secrets
from typing import Annotated

import typer
from pydantic import ValidationError

from adapters.http.access import PrincipalConfig, Role, token_hash
from domain.errors import ValidationFailed

app = typer.Typer(help="API tokens (docs/http.md).", no_args_is_help=True)


@app.command()
def new(name: Annotated[str, typer.Argument(help="The principal: the actor of its events.")],
        role: Annotated[list[Role], typer.Option(help="A role (repeatable).")]) -> None:
    """Print a new token on stderr (give it to NAME; it is kept nowhere) and, on stdout, the
    entry to append to tandem.toml."""
    token = secrets.token_urlsafe(32)
    try:
        principal = PrincipalConfig(name=name, roles=list(dict.fromkeys(role)),
                                    token_sha256=token_hash(token))
    except ValidationError as error:
        raise ValidationFailed("NAME", error.errors()[0]["msg"]) from None
    roles = ", ".join(json.dumps(r.value) for r in principal.roles)
    typer.echo(f"token for {name} (shown once, kept nowhere): {token}", err=True)
    typer.echo(f"[[auth.principals]]\nname = {json.dumps(principal.name)}\nroles = [{roles}]\n"
               f'token_sha256 = "{principal.token_sha256}"')
