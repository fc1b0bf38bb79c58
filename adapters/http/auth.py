"""Bearer-token authentication and the per-route permission check (401 and 403)."""

from collections.abc import Callable

from fastapi import Request

from adapters.http.access import PERMISSIONS, Access, Permission, Principal
from adapters.http.errors import ApiError

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="tandem"'}


def authenticate(request: Request) -> Principal:
    """The caller behind `Authorization: Bearer <token>`, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise ApiError(401, "unauthenticated", "send your API token as "
                       "'Authorization: Bearer <token>'", headers=CHALLENGE)
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthenticated", "the Authorization header must be "
                       "'Bearer <token>'", headers=CHALLENGE)
    access: Access = request.app.state.access
    principal = access.principal(token.strip())
    if principal is None:
        raise ApiError(401, "unauthenticated", "this token is not known: ask an admin for one",
                       headers={"WWW-Authenticate": 'Bearer realm="tandem", '
                                'error="invalid_token"'})
    request.state.principal = principal
    return principal


def require(permission: Permission) -> Callable[[Request], Principal]:
    """A dependency: the authenticated caller if one of its roles grants `permission`."""

    def allowed(request: Request) -> Principal:
        principal = authenticate(request)
        if not principal.may(permission):
            granted = ", ".join(sorted(PERMISSIONS[permission]))
            mine = ", ".join(sorted(principal.roles))
            raise ApiError(403, "forbidden", f"{principal.name} (roles: {mine}) may not "
                           f"{permission}: that needs one of the roles {granted}")
        return principal

    return allowed
