"""The load generator's lean HTTP client, against a small HTTP/1.1 server on loopback that
answers as uvicorn does: keep-alive, Content-Length or chunked, and connections it closes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from dataclasses import field

import pytest

from bench.http import HttpError
from bench.http import LeanClient


@dataclass
class Server:
    port: int = 0
    connections: int = 0
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    close_after_answer: bool = False  # close each connection once it answered (an idle timeout)


async def _serve(server: Server, reader: asyncio.StreamReader, out: asyncio.StreamWriter) -> None:
    server.connections += 1
    try:
        while True:
            head = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
            pairs = (line.split(": ", 1) for line in head[1:] if line)
            headers = {name.lower(): value for name, value in pairs}
            body = await reader.readexactly(int(headers.get("content-length", 0)))
            path = head[0].split(" ")[1]
            server.requests.append((head[0], headers, body))
            if path == "/chunked":
                out.write(
                    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
                    b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                )
            elif path == "/missing":
                out.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\nno")
            else:
                answer = json.dumps({"path": path, "body": body.decode()}).encode()
                out.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"set-cookie: session=abc123; Path=/; HttpOnly\r\n"
                    + f"content-length: {len(answer)}\r\n\r\n".encode()
                    + answer
                )
            await out.drain()
            if server.close_after_answer:
                out.close()
                return
    except asyncio.IncompleteReadError:
        out.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()
    listening = await asyncio.start_server(
        lambda r, w: _serve(state, r, w), host="127.0.0.1", port=0
    )
    state.port = listening.sockets[0].getsockname()[1]
    yield state
    listening.close()


async def test_requests_share_one_kept_alive_connection(server: Server) -> None:
    async with LeanClient(f"http://127.0.0.1:{server.port}") as http:
        posted = await http.post("/orders", json={"n": 1}, headers={"Authorization": "Bearer k"})
        fetched = await http.get("/orders/1", cookies={"session": "abc123"})
    assert posted.status_code == 200
    assert posted.json() == {"path": "/orders", "body": '{"n": 1}'}
    assert posted.cookies == {"session": "abc123"}
    assert fetched.json()["path"] == "/orders/1"
    assert server.connections == 1
    (_, post_headers, _), (_, get_headers, _) = server.requests
    assert post_headers["authorization"] == "Bearer k"
    assert post_headers["content-type"] == "application/json"
    assert get_headers["cookie"] == "session=abc123"


async def test_a_chunked_body_is_read_whole_and_an_error_status_raises(server: Server) -> None:
    async with LeanClient(f"http://127.0.0.1:{server.port}") as http:
        assert (await http.get("/chunked")).text == "hello world"
        missing = await http.get("/missing")
    assert missing.status_code == 404
    with pytest.raises(HttpError, match="404"):
        missing.raise_for_status()
    assert server.connections == 1  # the chunked answer left the connection usable


async def test_a_connection_the_server_closed_is_replaced_without_losing_the_request(
    server: Server,
) -> None:
    server.close_after_answer = True
    async with LeanClient(f"http://127.0.0.1:{server.port}") as http:
        first = await http.get("/one")
        await asyncio.sleep(0.05)  # the server's close reaches the idle connection
        second = await http.post("/two", json={})
    assert (first.json()["path"], second.json()["path"]) == ("/one", "/two")
    assert [line for line, _, _ in server.requests] == ["GET /one HTTP/1.1", "POST /two HTTP/1.1"]
    assert server.connections == 2
