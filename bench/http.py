"""A lean HTTP/1.1 client for the load generator: keep-alive connections, bodies by
Content-Length or chunked, cookies by name. Nothing more, because the load generator shares the
machine's cores with what it measures: httpx costs about 2.8 ms of CPU a request here, this about
0.1 ms (README, "Benchmark").
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import time
from dataclasses import dataclass
from dataclasses import field
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

IDLE_REUSE = 4.0  # seconds: uvicorn closes a connection idle for 5 s


class HttpError(RuntimeError):
    pass


@dataclass
class Response:
    status_code: int
    headers: dict[str, str]  # names in lower case
    content: bytes
    cookies: dict[str, str] = field(default_factory=dict)  # what Set-Cookie set

    @property
    def text(self) -> str:
        return self.content.decode()

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise HttpError(f"HTTP {self.status_code}: {self.content[:200]!r}")


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0


class LeanClient:
    def __init__(self, base_url: str, *, timeout: float = 120.0, max_connections: int = 100):
        url = urlsplit(base_url)
        self._host, self._port = url.hostname or "127.0.0.1", url.port or 80
        self._timeout = timeout
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Connection] = []

    async def get(self, path: str, **options: Any) -> Response:
        return await self.request("GET", path, **options)

    async def post(self, path: str, **options: Any) -> Response:
        return await self.request("POST", path, **options)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
    ) -> Response:
        body = b"" if json is None else jsonlib.dumps(json).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host}:{self._port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
        if json is not None:
            lines.append("Content-Type: application/json")
        if body or method != "GET":
            lines.append(f"Content-Length: {len(body)}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        async with self._slots:
            return await asyncio.wait_for(self._exchange(request), self._timeout)

    async def _exchange(self, request: bytes) -> Response:
        connection = self._reuse()
        if connection is not None:
            try:
                return await self._send(connection, request)
            except _ClosedBeforeAnswer:
                pass  # the server had closed it: the request never reached it
        reader, writer = await asyncio.open_connection(self._host, self._port)
        try:
            return await self._send(_Connection(reader, writer), request)
        except _ClosedBeforeAnswer:
            raise ConnectionResetError("the server closed the connection unanswered") from None

    def _reuse(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if now - connection.idle_since < IDLE_REUSE:
                return connection
            connection.writer.close()
        return None

    async def _send(self, connection: _Connection, request: bytes) -> Response:
        connection.writer.write(request)
        try:
            head = await connection.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as err:
            connection.writer.close()
            if isinstance(err, ConnectionError) or not err.partial:
                raise _ClosedBeforeAnswer from None  # nothing of an answer came back
            raise
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        cookies: dict[str, str] = {}
        for line in header_lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                key, _, rest = value.partition("=")
                cookies[key] = rest.split(";", 1)[0]
            headers[name] = value
        if headers.get("transfer-encoding") == "chunked":
            content = await _read_chunked(connection.reader)
        else:
            content = await connection.reader.readexactly(int(headers.get("content-length", 0)))
        if headers.get("connection") == "close":
            connection.writer.close()
        else:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        return Response(int(status_line.split(" ", 2)[1]), headers, content, cookies)

    async def aclose(self) -> None:
        for connection in self._idle:
            connection.writer.close()
        self._idle.clear()

    async def __aenter__(self) -> LeanClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


class _ClosedBeforeAnswer(Exception):
    pass


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers are sent to us
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
