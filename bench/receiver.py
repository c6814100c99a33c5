"""The bench's stand-ins for the vendor's systems on loopback, each answering every request at
once: a webhook receiver (204) that notes how long after its event's change each delivery
arrived (the event's `timestamp` against the clock here, the same machine's), and a product
backend (201, a console URL) that counts its calls. Neither verifies signatures: the product's
cost is what is measured."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime

# What a stand-in answers a request (its path and body) with: the whole HTTP response.
Answer = Callable[[str, bytes], bytes]


class LoopbackServer:
    """A keep-alive HTTP/1.1 server on a free loopback port, answering each request with
    `answer`."""

    def __init__(self, answer: Answer) -> None:
        self._answer = answer
        self._server: asyncio.Server | None = None
        self.port = 0

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while request := await reader.readline():
                length = 0
                while (header := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                writer.write(self._answer(request.decode("latin-1").split(" ")[1], body))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


class WebhookReceiver:
    def __init__(self) -> None:
        self.delays: list[float] = []  # seconds from each event's change to its delivery
        self.last_arrival = 0.0
        self.server = LoopbackServer(self._delivered)

    @classmethod
    async def open(cls) -> WebhookReceiver:
        receiver = cls()
        await receiver.server.open()
        return receiver

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/hooks"

    async def quiet(self, seconds: float = 2.0, longest: float = 120.0) -> None:
        """Return once nothing has arrived for `seconds` (every delivery is in)."""
        began = time.monotonic()
        while time.monotonic() - max(self.last_arrival, began) < seconds:
            if time.monotonic() - began > longest:
                return
            await asyncio.sleep(0.2)

    async def close(self) -> None:
        await self.server.close()

    def _delivered(self, path: str, body: bytes) -> bytes:
        stamp = json.loads(body)["timestamp"].replace("Z", "+00:00")
        self.delays.append(time.time() - datetime.fromisoformat(stamp).timestamp())
        self.last_arrival = time.monotonic()
        return b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"


class ProductBackend:
    def __init__(self) -> None:
        self.calls = 0
        self.server = LoopbackServer(self._provisioned)

    @classmethod
    async def open(cls) -> ProductBackend:
        backend = cls()
        await backend.server.open()
        return backend

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/product"

    async def close(self) -> None:
        await self.server.close()

    def _provisioned(self, path: str, body: bytes) -> bytes:
        self.calls += 1
        instance = path.rsplit("/", 1)[-1]
        answer = json.dumps({"console_url": f"https://console.example/{instance}"})
        return (
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(answer)}\r\n\r\n{answer}"
        ).encode()
