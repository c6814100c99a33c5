"""The bench's webhook receiver on loopback: it takes every delivery at once (204) and notes how
long after its event's change it arrived (the event's `timestamp` against the clock here, the
same machine's)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime


class WebhookReceiver:
    def __init__(self) -> None:
        self.delays: list[float] = []  # seconds from each event's change to its delivery
        self.last_arrival = 0.0
        self._server: asyncio.Server | None = None
        self.port = 0

    @classmethod
    async def open(cls) -> WebhookReceiver:
        receiver = cls()
        receiver._server = await asyncio.start_server(receiver._serve, "127.0.0.1", 0)
        receiver.port = receiver._server.sockets[0].getsockname()[1]
        return receiver

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def quiet(self, seconds: float = 2.0, longest: float = 120.0) -> None:
        """Return once nothing has arrived for `seconds` (every delivery is in)."""
        began = time.monotonic()
        while time.monotonic() - max(self.last_arrival, began) < seconds:
            if time.monotonic() - began > longest:
                return
            await asyncio.sleep(0.2)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readline():  # the request line
                length = 0
                while (header := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                stamp = json.loads(body)["timestamp"].replace("Z", "+00:00")
                self.delays.append(time.time() - datetime.fromisoformat(stamp).timestamp())
                self.last_arrival = time.monotonic()
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


class ProductBackend:
    """The bench's product backend on loopback: every provisioning call is answered at once
    (201, a console URL), without verifying (the product's cost is what is measured)."""

    def __init__(self) -> None:
        self.calls = 0
        self._server: asyncio.Server | None = None
        self.port = 0

    @classmethod
    async def open(cls) -> ProductBackend:
        backend = cls()
        backend._server = await asyncio.start_server(backend._serve, "127.0.0.1", 0)
        backend.port = backend._server.sockets[0].getsockname()[1]
        return backend

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/product"

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
                await reader.readexactly(length)
                self.calls += 1
                instance = request.split(b" ")[1].rsplit(b"/", 1)[-1].decode()
                body = json.dumps({"console_url": f"https://console.example/{instance}"})
                writer.write(
                    b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n{body}".encode()
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
