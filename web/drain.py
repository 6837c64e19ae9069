"""An early answer reaches the client even while it is still sending its body.

Litestar answers 413 as soon as a body goes over MAX_BODY_BYTES (and 401,
403 or 404 before it reads the body at all). The server then closes the
connection with the client's bytes still unread; the kernel answers those with
a reset, and a client that sends its whole body before it reads (urllib,
requests, httpx: all but curl, which waits for `Expect: 100-continue`) saw
"connection reset by peer" instead of the 413. So before a response starts,
the rest of the request body is read and thrown away, up to DRAIN_LIMIT
bytes (beyond that the connection is closed as before: a client sending that
much is not waiting for an answer).
"""
from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

DRAIN_LIMIT = 32 * 1024 * 1024


class DrainUnreadBody:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = {"done": False}

        async def tracked_receive() -> Message:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                state["done"] = True
            return message

        async def draining_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not state["done"]:
                drained = 0
                while not state["done"] and drained <= DRAIN_LIMIT:
                    drained += len((await tracked_receive()).get("body", b""))
            await send(message)

        await self.app(scope, tracked_receive, draining_send)


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"", b"0")):
            return True
    return False
