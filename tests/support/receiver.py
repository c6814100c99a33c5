"""A real HTTP receiver on loopback, for webhook deliveries and provisioning calls: it records
each request and answers as the test says: a status (with headers and a body), after a delay,
never (it hangs), or not at all (it closes the connection once the request is read). It can stop
(the port then refuses) and start again on the same port."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from standardwebhooks import Webhook

from tests.support.net import free_port


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def verified(self, secret: str) -> Any:
        """The body, verified with the `standardwebhooks` library (raises if it is not)."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0
    hang: bool = False  # never answer (until the receiver stops)
    drop: bool = False  # close the connection without an answer


# What to answer a request: a fixed reply, or one chosen by looking at the request.
Answer = Reply | Callable[[Request], Reply]


class Receiver:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.requests: list[Request] = []
        self.answer: Answer = Reply()
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Condition()
        self._hanging: list[asyncio.Event] = []
        self._connections: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        return self

    async def stop(self) -> None:
        for released in self._hanging:
            released.set()
        if self._server is not None:
            self._server.close()
            for connection in list(self._connections):
                connection.close()
            await self._server.wait_closed()
            self._server = None

    async def wait_for(
        self, count: int, *, where: Callable[[Request], bool] = lambda _: True, timeout: float = 15
    ) -> list[Request]:
        """The first `count` requests that match, once they have arrived."""

        def matching() -> list[Request]:
            return [request for request in self.requests if where(request)]

        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(matching()) >= count), timeout
            )
        return matching()[:count]

    def events(self, type: str | None = None) -> list[Request]:
        """The deliveries received (of one event type)."""
        return [r for r in self.requests if type is None or r.json().get("type") == type]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                async with self._arrived:
                    self.requests.append(request)
                    self._arrived.notify_all()
                reply = self.answer(request) if callable(self.answer) else self.answer
                if reply.hang:
                    released = asyncio.Event()
                    self._hanging.append(released)
                    await released.wait()
                    return
                if reply.drop:
                    return
                await asyncio.sleep(reply.delay)
                writer.write(_response(reply))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            self._connections.discard(writer)
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    line = await reader.readline()
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(method, path, headers, body)


def _response(reply: Reply) -> bytes:
    head = [f"HTTP/1.1 {reply.status} Whatever", f"Content-Length: {len(reply.body)}"]
    head += [f"{name}: {value}" for name, value in reply.headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + reply.body
