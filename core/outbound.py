"""Calls out to a vendor's systems (webhook deliveries, provisioning): one request, bounded in
time and in what is read back, to an address that is checked where the connection is made.

In production a URL must be https, and every address its host resolves to must be a public one:
loopback, private, link-local (cloud metadata services live there), shared, reserved and
multicast addresses are refused, at registration and again at each call, after DNS resolution
(a name that pointed somewhere public yesterday may point inside today). The connection goes to
the address that was checked, never to a second lookup; redirects are not followed (a 3xx is an
answer like any other). Development allows http, and loopback, nothing else more.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpcore
from httpcore import AsyncNetworkStream

EXCERPT_BYTES = 1024  # of an answer's body, kept for the delivery log
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(ValueError):
    """The URL, or an address its host resolves to, is not one this service may call."""


@dataclass(frozen=True)
class OutboundPolicy:
    """What may be called: production's rule, or development's (http and loopback too)."""

    development: bool

    def check_url(self, url: str) -> None:
        """The URL's form: scheme, host, no credentials. Raises AddressRefused."""
        parts = urlsplit(url)
        schemes = ("https", "http") if self.development else ("https",)
        if parts.scheme not in schemes:
            raise AddressRefused(f"the URL must be {' or '.join(schemes)}")
        if not parts.hostname:
            raise AddressRefused("the URL has no host")
        if parts.username or parts.password:
            raise AddressRefused("the URL must not carry credentials")
        try:
            parts.port  # noqa: B018 (parsing it is the check)
        except ValueError:
            raise AddressRefused("the URL's port is not a number") from None
        try:
            self.check_address(ipaddress.ip_address(parts.hostname))
        except ValueError as error:
            if isinstance(error, AddressRefused):
                raise
            # A name: checked once resolved.

    def check_address(self, address: IpAddress) -> None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_loopback and self.development:
            return
        if not address.is_global or address.is_multicast:
            raise AddressRefused(f"{address} is not a public address")

    async def resolve(self, host: str, port: int) -> list[IpAddress]:
        """Every address the host resolves to, each checked: one refused address refuses the
        host (a name that also points inside is not called at all)."""
        loop = asyncio.get_running_loop()
        try:
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            raise AddressRefused(f"{host} does not resolve") from None
        addresses = [ipaddress.ip_address(str(entry[4][0]).split("%")[0]) for entry in found]
        for address in addresses:
            self.check_address(address)
        return addresses

    async def check(self, url: str) -> None:
        """The whole check, as at each call: the URL's form, then its host's addresses."""
        self.check_url(url)
        parts = urlsplit(url)
        await self.resolve(parts.hostname or "", parts.port or _default_port(parts.scheme))


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


class _CheckedBackend(httpcore.AnyIOBackend):
    """Connects only to an address the policy allows, the one it checked (TLS still verifies
    the URL's host name: httpcore passes it apart, as the server name)."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> AsyncNetworkStream:
        addresses = await self._policy.resolve(host, port)
        return await super().connect_tcp(
            str(addresses[0]), port, timeout, local_address, socket_options
        )


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after_seconds: float | None
    excerpt: str  # the body's first EXCERPT_BYTES, as text
    latency_ms: int

    @property
    def succeeded(self) -> bool:
        """Any 2xx; a redirect is not a success (it is not followed either)."""
        return 200 <= self.status < 300


class CallFailed(Exception):
    """No answer: the connection was refused or lost, or the time ran out."""

    def __init__(self, reason: str, latency_ms: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.latency_ms = latency_ms


class Outbound:
    """One client per process: connections are pooled by origin."""

    def __init__(self, policy: OutboundPolicy, timeout_seconds: float) -> None:
        self.policy = policy
        self._timeout = timeout_seconds
        self._pool = httpcore.AsyncConnectionPool(
            network_backend=_CheckedBackend(policy), max_connections=100, keepalive_expiry=30
        )

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> Answer:
        """POST `body`; the answer, whatever its status. Raises AddressRefused (before any
        connection) or CallFailed."""
        return await self.request("POST", url, headers, body)

    async def request(
        self, method: str, url: str, headers: dict[str, str], body: bytes = b""
    ) -> Answer:
        self.policy.check_url(url)
        began = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - began) * 1000)

        all_headers = {"user-agent": "activation-pipelines", **headers}
        if body:
            all_headers.setdefault("content-type", "application/json")
        try:
            async with asyncio.timeout(self._timeout):
                async with self._pool.stream(
                    method,
                    url,
                    headers=list(all_headers.items()),
                    content=body,
                    extensions={"timeout": {"connect": self._timeout}},
                ) as response:
                    excerpt = await _read_excerpt(response)
        except AddressRefused:
            raise
        except TimeoutError:
            raise CallFailed(f"no answer within {self._timeout:g} s", elapsed()) from None
        except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError):
            raise CallFailed("the connection was refused", elapsed()) from None
        except httpcore.TimeoutException:
            raise CallFailed(f"no answer within {self._timeout:g} s", elapsed()) from None
        except httpcore.NetworkError:
            raise CallFailed("the connection was lost before the answer", elapsed()) from None
        except httpcore.ProtocolError:
            raise CallFailed("the answer was not HTTP", elapsed()) from None
        return Answer(response.status, _retry_after(response.headers), excerpt, elapsed())

    async def close(self) -> None:
        await self._pool.aclose()


async def _read_excerpt(response: httpcore.Response) -> str:
    """The body's first bytes; the rest is read and dropped (so the connection can be kept)
    up to a limit, then the connection is simply closed."""
    kept = b""
    dropped = 0
    async for chunk in response.aiter_stream():
        if len(kept) < EXCERPT_BYTES:
            kept += chunk[: EXCERPT_BYTES - len(kept)]
        dropped += len(chunk)
        if dropped > 64 * EXCERPT_BYTES:
            break
    return kept.decode("utf-8", "replace")


def _retry_after(headers: list[tuple[bytes, bytes]]) -> float | None:
    """`Retry-After`, in seconds or as an HTTP date; None when absent or unreadable."""
    for name, value in headers:
        if name.lower() != b"retry-after":
            continue
        text = value.decode("latin-1").strip()
        if text.isdigit():
            return float(text)
        try:
            return max(0.0, parsedate_to_datetime(text).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
    return None
