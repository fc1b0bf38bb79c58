"""Request bodies above a size are refused (413) before they are held in memory.

A command's body is a few KiB; an Alertmanager group of a few thousand alerts a few MiB. Any
other size is a client in a loop or a hostile one. The declared length is checked before
anything is read, and the bytes are counted as they arrive (chunked bodies declare none).
"""

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.http.errors import too_large

MAX_BODY_BYTES = 1024 * 1024
MAX_ALERT_BODY_BYTES = 16 * 1024 * 1024
ALERT_PATHS = "/alerts"


def limit_for(path: str) -> int:
    return MAX_ALERT_BODY_BYTES if path.startswith(ALERT_PATHS) else MAX_BODY_BYTES


class BodyLimit:
    """ASGI middleware: the limit of the request's path, on the declared and the read size."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = Request(scope).headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await too_large(Request(scope, receive), limit)(scope, receive, send)
            return
        read = 0

        async def counted() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > limit:
                    # Raised inside the route: the app's handler answers it as problem+json.
                    raise HTTPException(413, f"the request body is above {limit:,} bytes")
            return message

        await self.app(scope, counted, send)
