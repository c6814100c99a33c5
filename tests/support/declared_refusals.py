"""Every refusal the suite sees the API answer is one its route declares in OpenAPI: the docs
list what an endpoint can answer (issue 36). Wrap the app under test with `DeclaredRefusals`
and call `assert_declared()` once the test is done."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.types import Message
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send


class DeclaredRefusals:
    """An ASGI wrapper that notes each refusal of a documented route: (path, method, status,
    code)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.seen: set[tuple[str, str, int, str | None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answer: dict[str, Any] = {"status": 0, "body": b""}

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")
            await send(message)

        await self.app(scope, receive, noting)
        route = scope.get("route")
        if answer["status"] >= 400 and isinstance(route, APIRoute) and route.include_in_schema:
            code = _code_of(answer["body"])
            self.seen.add((route.path, scope["method"].lower(), answer["status"], code))

    def undeclared(self) -> list[str]:
        paths = self.app.openapi()["paths"]
        missing = []
        for path, method, status, code in sorted(self.seen, key=str):
            if method not in paths[path]:
                continue  # a method the route does not have: 405, for any route
            declared = paths[path][method]["responses"].get(str(status), {})
            if code is None or f"`{code}`" not in declared.get("description", ""):
                missing.append(f"{method.upper()} {path} answered {status} {code}")
        return missing

    def assert_declared(self) -> None:
        missing = self.undeclared()
        assert not missing, "refusals the OpenAPI document does not list: " + "; ".join(missing)


def _code_of(body: bytes) -> str | None:
    try:
        code = json.loads(body).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, str) else None
