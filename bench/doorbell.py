"""The bare baseline's stand-in for the link mail. Its link activity rings the load generator as
it ends (one UDP datagram on loopback, carrying the flow id), and the load generator confirms
once it hears it, as it confirms the product's flows once their mail has arrived.

Without it the bare baseline was confirmed right after its start: the update reached the flow
while the link activity still ran, and took a workflow task of its own to wait for the link. The
product's confirm never comes that early (it needs the token, which comes with the mail). Now the
baseline's, like the product's, comes after the link; at bench speed it still comes before the
flow parks on its expiry timer, where the product's, slower, comes after it in about half the
flows (the bench prints both histories' shapes)."""

from __future__ import annotations

import asyncio
import socket
import time


class Doorbell(asyncio.DatagramProtocol):
    """The load generator's side: when each expected flow's link went out, as the inbox tells
    a mail's arrival (with no token: "")."""

    def __init__(self) -> None:
        self._waiters: dict[str, asyncio.Future[tuple[str, float]]] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self.port = 0

    @classmethod
    async def open(cls) -> Doorbell:
        loop = asyncio.get_running_loop()
        transport, doorbell = await loop.create_datagram_endpoint(cls, local_addr=("127.0.0.1", 0))
        doorbell.port = transport.get_extra_info("sockname")[1]
        doorbell._transport = transport
        return doorbell

    def expect(self, flow_id: str) -> asyncio.Future[tuple[str, float]]:
        future: asyncio.Future[tuple[str, float]] = asyncio.get_running_loop().create_future()
        self._waiters[flow_id] = future
        return future

    def datagram_received(self, data: bytes, addr: tuple[str | int, int]) -> None:
        future = self._waiters.pop(data.decode(), None)
        if future is not None and not future.done():
            future.set_result(("", time.perf_counter()))

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class Bell:
    """The worker's side: one datagram a ring, never waited for."""

    def __init__(self, port: int) -> None:
        self._address = ("127.0.0.1", port)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def ring(self, flow_id: str) -> None:
        self._socket.sendto(flow_id.encode(), self._address)
