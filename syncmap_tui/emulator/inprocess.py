"""An httpx transport that runs the emulator app in-process and fails the way a socket would.

httpx's own ASGITransport has no socket, so an injected drop would trip an assertion and a long
latency would never time out. This wrapper turns an unfinished response into
`httpx.RemoteProtocolError` and honours the request's read timeout as `httpx.ReadTimeout`.
"""

from __future__ import annotations

import asyncio
from typing import Callable

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class EmulatorTransport(httpx.AsyncBaseTransport):
    def __init__(
        self, app: ASGIApp, *, raise_app_exceptions: bool = True, on_close: Callable[[], None] | None = None
    ) -> None:
        self.app = app
        self.raise_app_exceptions = raise_app_exceptions
        self.on_close = on_close

    async def aclose(self) -> None:
        # The client's aclose() ends here: the embedded emulator's database closes with it.
        if self.on_close is not None:
            self.on_close()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        completed = False

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            started = False

            async def tracking_send(message: Message) -> None:
                nonlocal started, completed
                if message["type"] == "http.response.start":
                    started = True
                elif message["type"] == "http.response.body" and not message.get("more_body", False):
                    completed = True
                await send(message)

            await self.app(scope, receive, tracking_send)
            if not completed:  # a dropped connection: finish it for ASGITransport, report it below
                if not started:
                    await send({"type": "http.response.start", "status": 500, "headers": []})
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        transport = httpx.ASGITransport(app, raise_app_exceptions=self.raise_app_exceptions)
        read_timeout = (request.extensions.get("timeout") or {}).get("read")
        deadline = asyncio.timeout(read_timeout)
        try:
            async with deadline:
                response = await transport.handle_async_request(request)
        except TimeoutError:
            if not deadline.expired():
                raise  # the app's own error, not this deadline
            raise httpx.ReadTimeout(f"the emulator did not answer within {read_timeout} s", request=request) from None
        if not completed:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a complete response (injected drop)", request=request
            )
        return response


def emulator_transport(
    app: ASGIApp, *, raise_app_exceptions: bool = True, on_close: Callable[[], None] | None = None
) -> httpx.AsyncBaseTransport:
    """The transport for `httpx.AsyncClient(transport=..., base_url="http://emulator")` against `app`;
    `on_close` runs when the client is closed."""
    return EmulatorTransport(app, raise_app_exceptions=raise_app_exceptions, on_close=on_close)
